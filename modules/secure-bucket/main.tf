# One hardened bucket: public access blocked, owner-enforced, versioned,
# default-encrypted, lifecycle-bounded, TLS 1.2+ only. Data buckets are
# encrypted with a customer-managed key that every upload must name; an
# S3 server-access-log target is the one bucket kept on SSE-S3, because
# log delivery supports nothing else.

resource "aws_s3_bucket" "this" {
  bucket        = var.name
  force_destroy = var.force_destroy
  tags          = var.tags
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
    bucket_key_enabled = var.kms_key_arn != null
  }
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

  # An upload that names its encryption must name SSE-KMS with this bucket's
  # key. IfExists: UploadPart carries no SSE header (CreateMultipartUpload
  # did), and an upload that names none gets the default above, this key.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : ["DenyOtherEncryption"]
    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "StringNotEqualsIfExists"
        variable = "s3:x-amz-server-side-encryption"
        values   = ["aws:kms"]
      }
    }
  }

  # S3 compares the key header as the client sent it (a key ARN, or the alias
  # ARN Terraform's S3 backend sends) and IAM compares strings literally, so
  # every accepted spelling is listed.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : ["DenyOtherKeys"]
    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "StringNotEqualsIfExists"
        variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        values   = concat([var.kms_key_arn], var.kms_key_aliases)
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

  # A quarantined object is unreadable, whoever asks and whatever their IAM says.
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
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
