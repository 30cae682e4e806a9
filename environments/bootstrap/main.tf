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

data "aws_iam_policy_document" "state_key" {
  # checkov:skip=CKV_AWS_109: Key policy: "*" is this key and the principal is this account, whose IAM policies decide further.
  # checkov:skip=CKV_AWS_111: Key policy: "*" is this key; use is limited to this account through S3.
  # checkov:skip=CKV_AWS_356: Key policy: the only resource a key policy can name is "*" (this key).
  # Administration and use are delegated to IAM in this account: the humans'
  # and CI roles' IAM policies decide who may read state.
  statement {
    sid = "KeyAdministration"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # In a key policy "*" means this key.

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }
  }

  # State objects are read and written only through S3.
  statement {
    sid       = "UseThroughS3"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }

  # State holds every resource attribute: only the GitHub Terraform and plan
  # roles of this account's environment, the break-glass role and the people
  # who apply by hand (state_administrator_role_arns) decrypt it.
  statement {
    sid       = "DecryptOnlyForStateReaders"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = local.state_reader_arns
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Encrypts the Terraform state of account ${local.account_id}."
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/secure-upload-tfstate"
  target_key_id = aws_kms_key.state.key_id
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
