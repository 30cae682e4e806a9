# Once per account: the Terraform state bucket (with its key and access-log
# bucket), the GitHub OIDC provider, the break-glass role and the audit trail
# (audit-trail.tf). Everything else lives in the environment roots. Its state
# stays local until the bucket exists (see README.md).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  root_arn   = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"
  bucket     = "secure-upload-tfstate-${local.account_id}"
}

# ------------------------------------------------------------ state key

# The environments' key module, used through S3 only. Administration is
# delegated to IAM in this account; state holds every resource attribute, so
# whatever an IAM policy says, only the state readers (state-bucket.tf: the
# GitHub Terraform and plan roles of this account's environment, break-glass
# and the people who apply by hand) decrypt it. S3 needs no grants, and no
# log group or alarm topic uses this key.
module "state_key" {
  source = "../../modules/kms"

  name                      = "secure-upload-tfstate"
  description               = "Encrypts the Terraform state of account ${local.account_id}."
  via_services              = ["s3"]
  key_user_role_arns        = local.state_reader_arns
  allow_aws_resource_grants = false
  allow_cloudwatch_logs     = false
  allow_cloudwatch_alarms   = false
}

# ------------------------------------------------------------ GitHub OIDC

# One per account; the environment roots create the roles that trust it.
# IAM verifies GitHub's tokens through its own trusted CA list, so no
# thumbprint is pinned here.
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

# ------------------------------------------------------------ account guard rails

# No bucket of this account can be made public, whatever its own settings.
resource "aws_s3_account_public_access_block" "this" {
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

# The break-glass role the environments' key and bucket policies allow to
# read upload data (secure-upload-break-glass): assumable by this account's
# administrators with MFA only, and with no policy until an incident needs
# one. Every use is in the audit trail (audit-trail.tf); see policies/README.md's
# security model.
data "aws_iam_policy_document" "break_glass_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }

    condition {
      test     = "Bool"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role" "break_glass" {
  name                 = "secure-upload-break-glass"
  description          = "Emergency access to upload data; no policy until an incident needs one."
  assume_role_policy   = data.aws_iam_policy_document.break_glass_assume.json
  max_session_duration = 3600
}
