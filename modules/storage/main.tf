# The upload bucket and the bucket its S3 server access logs go to.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  log_prefix = "uploads/"

  # What a browser sends to the presigned URLs of the direct-upload protocol
  # (services/upload_api/upload_api/direct_uploads.py): a single PUT carries
  # every header its URL signs (_single_put_headers; Content-Length is the
  # browser's own), a part's PUT signs none beyond the length. Only PUT: a
  # download is a navigation to its URL, which CORS does not govern, so no
  # page's script may read a file from S3. The app reads each part's ETag to
  # complete the upload.
  cors_rule = length(var.cors_allowed_origins) == 0 ? null : {
    allowed_origins = var.cors_allowed_origins
    allowed_methods = ["PUT"]
    allowed_headers = [
      "content-type",
      "if-none-match",
      "x-amz-checksum-sha256",
      "x-amz-server-side-encryption",
      "x-amz-server-side-encryption-aws-kms-key-id",
    ]
    expose_headers  = ["ETag"]
    max_age_seconds = 600
  }
}

module "access_log_bucket" {
  # checkov:skip=CKV_AWS_18: This bucket is the access-log target; logging it to itself would loop.
  # checkov:skip=CKV_AWS_145: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_SUP_2: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_AWS_144: Logs are kept for a bounded period in-region; cross-region replication adds cost without a recovery need.
  # checkov:skip=CKV2_AWS_62: Nothing consumes events of log objects.
  source = "../secure-bucket"

  name = "${var.name_prefix}-access-logs-${local.account_id}"
  log_delivery_source = {
    bucket_arn = module.upload_bucket.arn
    account_id = local.account_id
    prefix     = local.log_prefix
  }
  expiration_days                    = var.access_log_retention_days
  noncurrent_version_expiration_days = 1
  force_destroy                      = var.force_destroy
  tags                               = var.tags
}

module "upload_bucket" {
  # checkov:skip=CKV_AWS_144: Single-region service by design; versioning guards against overwrite and deletion, and a second copy of user files in another region would widen their exposure.
  source = "../secure-bucket"

  name                                   = "${var.name_prefix}-uploads-${local.account_id}"
  kms_key_arn                            = var.kms_key_arn
  object_reader_arns                     = var.object_reader_role_arns
  malware_scan                           = var.malware_scan
  access_logs                            = { bucket = module.access_log_bucket.id, prefix = local.log_prefix }
  eventbridge_notifications              = true # object-created events complete direct uploads
  cors_rule                              = local.cors_rule
  noncurrent_version_expiration_days     = var.noncurrent_version_expiration_days
  abort_incomplete_multipart_upload_days = var.abort_incomplete_multipart_upload_days
  force_destroy                          = var.force_destroy
  tags                                   = var.tags
}

# Addresses from before the buckets came from modules/secure-bucket.
moved {
  from = aws_s3_bucket.this
  to   = module.upload_bucket.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.upload_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.upload_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.upload_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.upload_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.upload_bucket.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_policy.this
  to   = module.upload_bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_logging.this
  to   = module.upload_bucket.aws_s3_bucket_logging.this[0]
}

moved {
  from = aws_s3_bucket.access_logs
  to   = module.access_log_bucket.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_public_access_block.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_versioning.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_policy.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_policy.this
}
