# `terraform test` for the hardened bucket (make validate). Every provider call
# is mocked: these runs check what the module asks AWS for, for both kinds of
# bucket it makes.

mock_provider "aws" {
  mock_resource "aws_s3_bucket" {
    override_during = plan
    defaults = {
      arn = "arn:aws:s3:::example-bucket"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name                               = "secure-upload-dev-uploads-111111111111"
  kms_key_arn                        = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  object_reader_arns                 = ["arn:aws:iam::111111111111:role/reader"]
  access_logs                        = { bucket = "secure-upload-dev-access-logs-111111111111", prefix = "uploads/" }
  noncurrent_version_expiration_days = 30
}

run "data_bucket_is_kms_only_tls_only_and_names_its_readers" {
  command = plan

  variables {
    kms_key_aliases           = ["arn:aws:kms:us-east-1:111111111111:alias/example"]
    eventbridge_notifications = true
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 1 && aws_s3_bucket_notification.this[0].eventbridge
    error_message = "Events go to EventBridge when asked for."
  }

  assert {
    condition = [for s in data.aws_iam_policy_document.this.statement : s.sid] == [
      "DenyInsecureTransport", "DenyOldTls", "DenyOtherEncryption", "DenyOtherKeys",
      "ObjectReadsOnlyForListedRoles",
    ]
    error_message = "A data bucket denies plain HTTP, old TLS, uploads without SSE-KMS or under another key, and reads by unlisted principals."
  }

  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.this.statement : one(s.condition).values if s.sid == "DenyOtherKeys"])) == toset([var.kms_key_arn, "arn:aws:kms:us-east-1:111111111111:alias/example"])
    error_message = "Uploads may name the key by its ARN or by a listed alias ARN, nothing else."
  }

  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.this.statement : one(s.condition).values if s.sid == "ObjectReadsOnlyForListedRoles"])) == toset(var.object_reader_arns)
    error_message = "Only the listed principals read objects."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : (
        one(r.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
        one(r.apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn &&
        r.bucket_key_enabled
      )
    ])
    error_message = "Default encryption is SSE-KMS under the given key, with a bucket key."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 1 && aws_s3_bucket_logging.this[0].target_prefix == "uploads/"
    error_message = "A data bucket logs its access to the given target."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning is on."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "Public access is blocked four ways."
  }

  assert {
    condition     = length(one(aws_s3_bucket_lifecycle_configuration.this.rule).expiration) == 0
    error_message = "Without expiration_days current objects are kept."
  }
}

run "log_target_is_sse_s3_and_admits_only_log_delivery_from_its_source" {
  command = plan

  variables {
    name               = "secure-upload-dev-access-logs-111111111111"
    kms_key_arn        = null
    object_reader_arns = []
    access_logs        = null
    log_delivery_source = {
      bucket_arn = "arn:aws:s3:::secure-upload-dev-uploads-111111111111"
      account_id = "111111111111"
      prefix     = "uploads/"
    }
    expiration_days = 90
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["DenyInsecureTransport", "DenyOldTls", "S3ServerAccessLogDelivery"]
    error_message = "A log target denies plain HTTP and old TLS and admits log delivery only."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "S3ServerAccessLogDelivery"]) == toset(["arn:aws:s3:::example-bucket/uploads/*"])
    error_message = "Log delivery writes under its prefix only."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Log delivery supports SSE-S3 targets only."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "A log target does not log to itself."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0
    error_message = "No events unless asked for."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.this.rule).expiration).days == 90
    error_message = "Logs expire after expiration_days."
  }
}

run "a_data_bucket_must_name_its_readers" {
  command = plan

  variables {
    object_reader_arns = []
  }

  expect_failures = [var.object_reader_arns]
}

run "only_a_log_target_goes_without_a_key" {
  command = plan

  variables {
    kms_key_arn        = null
    object_reader_arns = []
  }

  expect_failures = [var.kms_key_arn]
}

run "readers_are_never_everyone" {
  command = plan

  variables {
    object_reader_arns = ["*"]
  }

  expect_failures = [var.object_reader_arns]
}
