# Once per account: the Terraform state bucket (with its key and access-log
# bucket) and the GitHub OIDC provider. Everything else lives in the
# environment roots. Resources are declared here directly on purpose: this
# root must apply before any backend or module state exists.

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
      values = concat([
        "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/secure-upload-${var.environment}-github-terraform",
        "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/secure-upload-${var.environment}-github-plan",
        aws_iam_role.break_glass.arn,
      ], var.state_administrator_role_arns)
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

# ------------------------------------------------------------ access-log bucket

resource "aws_s3_bucket" "state_logs" {
  # checkov:skip=CKV_AWS_18: This bucket is the access-log target; logging it to itself would loop.
  # checkov:skip=CKV_AWS_145: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_SUP_2: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_AWS_144: Access logs are kept for a bounded period in-region; replication adds cost without a recovery need.
  # checkov:skip=CKV2_AWS_62: Nothing consumes events of log objects.
  bucket = "${local.bucket}-logs"
}

resource "aws_s3_bucket_public_access_block" "state_logs" {
  bucket                  = aws_s3_bucket.state_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state_logs" {
  bucket = aws_s3_bucket.state_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "state_logs" {
  bucket = aws_s3_bucket.state_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state_logs" {
  bucket = aws_s3_bucket.state_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state_logs" {
  bucket = aws_s3_bucket.state_logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = 365
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "state_logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state_logs.arn, "${aws_s3_bucket.state_logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state_logs.arn}/state/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.state.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "state_logs" {
  bucket = aws_s3_bucket.state_logs.id
  policy = data.aws_iam_policy_document.state_logs.json

  depends_on = [aws_s3_bucket_public_access_block.state_logs]
}

# ------------------------------------------------------------ state bucket

resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_144: State is versioned with a 90-day history; a second region adds a second copy of secrets-bearing state to protect.
  # checkov:skip=CKV2_AWS_62: Nothing reacts to state writes.
  bucket = local.bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "state" {
  bucket        = aws_s3_bucket.state.id
  target_bucket = aws_s3_bucket.state_logs.id
  target_prefix = "state/"

  depends_on = [aws_s3_bucket_policy.state_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "state-history"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.state_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOldTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # State objects must be encrypted with the state key (lock files included).
  # S3 compares the header as the client sent it, and the backends send the
  # alias ARN (environments/*/backend.tf: kms_key_id); the key ARN is what
  # other clients send. IAM compares strings literally, so both are listed.
  statement {
    sid       = "DenyObjectsWithOtherKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.state.arn, aws_kms_alias.state.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
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
# one. Every use is in CloudTrail; see the README's security model.
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
