# One hardened bucket: public access blocked, owner-enforced, versioned,
# default-encrypted, lifecycle-bounded, TLS 1.2+ only. Data buckets are
# encrypted with a customer-managed key that every upload must name; an
# S3 server-access-log target is the one bucket kept on SSE-S3, because
# log delivery supports nothing else.

resource "aws_s3_bucket" "this" {
  bucket        = var.name
  force_destroy = var.force_destroy
  # Object Lock can only be turned on when the bucket is created; null leaves
  # buckets made without it as they are.
  object_lock_enabled = var.object_lock == null ? null : true
  tags                = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # Bucket keys cut KMS requests (and cost) per object.
    bucket_key_enabled = var.kms_key_arn != null && var.bucket_key_enabled
  }
}

# Every new object version is locked for the default retention: in COMPLIANCE
# mode nobody (the account root included) can delete or overwrite it early.
resource "aws_s3_bucket_object_lock_configuration" "this" {
  count = var.object_lock == null ? 0 : 1

  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_logs == null ? 0 : 1

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_logs.bucket
  target_prefix = var.access_logs.prefix
}

resource "aws_s3_bucket_notification" "this" {
  count = var.eventbridge_notifications ? 1 : 0

  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}

# Which browser origins may call the bucket (its presigned URLs) from a page of
# theirs; without a rule, browsers refuse every cross-origin call.
resource "aws_s3_bucket_cors_configuration" "this" {
  count = var.cors_rule == null ? 0 : 1

  bucket = aws_s3_bucket.this.id

  cors_rule {
    allowed_origins = var.cors_rule.allowed_origins
    allowed_methods = var.cors_rule.allowed_methods
    allowed_headers = var.cors_rule.allowed_headers
    expose_headers  = var.cors_rule.expose_headers
    max_age_seconds = var.cors_rule.max_age_seconds
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "bounded-history"
    status = "Enabled"

    filter {}

    dynamic "expiration" {
      for_each = var.expiration_days == null ? [] : [var.expiration_days]
      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

locals {
  refused_writes = [
    # An upload that names its encryption must name SSE-KMS with this bucket's
    # key. IfExists: UploadPart carries no SSE header (CreateMultipartUpload
    # did), and an upload that names none gets the default above, this key.
    {
      sid      = "DenyOtherEncryption"
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    },
    # S3 compares the key header as the client sent it (a key ARN, or the alias
    # ARN Terraform's S3 backend sends) and IAM compares strings literally, so
    # every accepted spelling is listed.
    {
      sid      = "DenyOtherKeys"
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = concat([var.kms_key_arn], var.kms_key_aliases)
    },
    # SSE-C names its encryption in a header of its own, which the two above do
    # not see: the object would be under the writer's key, not KMS, and
    # unreadable to everyone else. Null false: that header is present.
    # (Provider 5.100, which the environments lock, cannot set S3's own SSE-C
    # block, blocked_encryption_types.)
    {
      sid      = "DenyCustomerKeys"
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-customer-algorithm"
      values   = ["false"]
    },
  ]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

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
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

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

  # The writes a data bucket refuses, to everyone: each a Deny of s3:PutObject
  # (S3 authorises CopyObject and every multipart step as s3:PutObject too) on
  # one condition, in local.refused_writes.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : local.refused_writes
    content {
      sid       = statement.value.sid
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = statement.value.values
      }
    }
  }

  # Only the listed roles read objects, whatever an IAM policy says.
  dynamic "statement" {
    for_each = length(var.object_reader_arns) == 0 ? [] : ["ObjectReadsOnlyForListedRoles"]
    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = var.object_reader_arns
      }
    }
  }

  # Only what the scanner cleared is readable: every read of an object (the
  # version asked for) whose verdict tag is not the clean value is denied, so an
  # object not yet scanned, one the scan could not clear and a quarantined one
  # alike. IAM condition operators that negate (StringNotEquals) match when the
  # tag is absent. The one exception is the scanner's role, which must read an
  # object to scan it; break-glass is bound too. Reading the tag
  # (s3:GetObjectTagging) is another action, so the processor reads the verdict
  # first and then only the version it cleared.
  dynamic "statement" {
    for_each = var.malware_scan == null ? [] : ["ReadsOnlyOfObjectsScannedClean"]
    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringNotEquals"
        variable = "s3:ExistingObjectTag/${var.malware_scan.tag_key}"
        values   = [var.malware_scan.clean]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = [var.malware_scan.scanner_role_arn]
      }
    }
  }

  # A quarantined object is unreadable, whoever asks (the scanner included) and
  # whatever their IAM says.
  dynamic "statement" {
    for_each = var.malware_scan == null ? [] : ["NoReadsOfQuarantinedObjects"]
    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "s3:ExistingObjectTag/${var.malware_scan.tag_key}"
        values   = [var.malware_scan.threats_found]
      }
    }
  }

  # Only the scanner writes object tags: an uploader cannot pre-set a clean
  # verdict, and nobody can lift a quarantine by removing one.
  dynamic "statement" {
    for_each = var.malware_scan == null ? [] : ["OnlyTheScannerTagsObjects"]
    content {
      sid    = statement.value
      effect = "Deny"
      actions = [
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersionTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
      ]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = [var.malware_scan.scanner_role_arn]
      }
    }
  }

  # Only S3 log delivery for the named source bucket of this account writes.
  dynamic "statement" {
    for_each = var.log_delivery_source == null ? [] : ["S3ServerAccessLogDelivery"]
    content {
      sid       = statement.value
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/${var.log_delivery_source.prefix}*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [var.log_delivery_source.bucket_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.log_delivery_source.account_id]
      }
    }
  }

  # CloudTrail checks the bucket's ACL before it delivers; only for the named trail.
  dynamic "statement" {
    for_each = var.cloudtrail_delivery == null ? [] : ["CloudTrailAclCheck"]
    content {
      sid       = statement.value
      actions   = ["s3:GetBucketAcl"]
      resources = [aws_s3_bucket.this.arn]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [var.cloudtrail_delivery.trail_arn]
      }
    }
  }

  # CloudTrail writes log and digest files of this account only, for the named
  # trail only (aws:SourceArn: no other trail, of any account, can fill the bucket).
  dynamic "statement" {
    for_each = var.cloudtrail_delivery == null ? [] : ["CloudTrailWrite"]
    content {
      sid       = statement.value
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/AWSLogs/${var.cloudtrail_delivery.account_id}/*"]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "s3:x-amz-acl"
        values   = ["bucket-owner-full-control"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [var.cloudtrail_delivery.trail_arn]
      }
    }
  }

  # Only the listed administrators change what protects the bucket (its policy,
  # versioning, lifecycle, logging, encryption, Object Lock) or shorten a
  # retention, whatever an IAM policy says. The account root can still remove
  # a bucket policy, so a wrong list cannot lock the bucket for good.
  dynamic "statement" {
    for_each = length(var.configuration_administrator_arns) == 0 ? [] : ["ConfigurationOnlyForAdministrators"]
    content {
      sid    = statement.value
      effect = "Deny"
      actions = [
        "s3:BypassGovernanceRetention",
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketLogging",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
      ]
      resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = var.configuration_administrator_arns
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
