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
      "DenyInsecureTransport", "DenyOldTls", "DenyOtherEncryption", "DenyOtherKeys", "DenyCustomerKeys",
      "ObjectReadsOnlyForListedRoles",
    ]
    error_message = "A data bucket denies plain HTTP, old TLS, uploads without SSE-KMS, under another key or under a customer-provided key (SSE-C), and reads by unlisted principals."
  }

  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.this.statement : one(s.condition).values if s.sid == "DenyOtherKeys"])) == toset([var.kms_key_arn, "arn:aws:kms:us-east-1:111111111111:alias/example"])
    error_message = "Uploads may name the key by its ARN or by a listed alias ARN, nothing else."
  }

  # A red-team finding: SSE-C sends its own header, which neither statement
  # above checks, so an SSE-C upload stored an object outside KMS.
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement : (
        s.effect == "Deny" &&
        toset(s.actions) == toset(["s3:PutObject"]) &&
        toset(s.resources) == toset(["arn:aws:s3:::example-bucket/*"]) &&
        [for p in s.principals : [p.type, toset(p.identifiers)]] == [["*", toset(["*"])]] &&
        [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["Null s3:x-amz-server-side-encryption-customer-algorithm false"]
      ) if s.sid == "DenyCustomerKeys"
    ])
    error_message = "Every write that sends an SSE-C header is denied, to every principal."
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

run "a_scanned_bucket_serves_only_objects_scanned_clean" {
  command = plan

  variables {
    malware_scan = {
      tag_key          = "GuardDutyMalwareScanStatus"
      clean            = "NO_THREATS_FOUND"
      threats_found    = "THREATS_FOUND"
      scanner_role_arn = "arn:aws:iam::111111111111:role/scanner"
    }
  }

  assert {
    condition = [for s in data.aws_iam_policy_document.this.statement : s.sid] == [
      "DenyInsecureTransport", "DenyOldTls", "DenyOtherEncryption", "DenyOtherKeys", "DenyCustomerKeys",
      "ObjectReadsOnlyForListedRoles", "ReadsOnlyOfObjectsScannedClean",
      "NoReadsOfQuarantinedObjects", "OnlyTheScannerTagsObjects",
    ]
    error_message = "A scanned bucket adds the clean-only read gate, the quarantine and the scanner-only tagging to a data bucket's policy."
  }

  # Finding 7 of the security review: denying reads of THREATS_FOUND alone left
  # unscanned objects (and those the scan could not clear) readable.
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement : (
        s.effect == "Deny" &&
        toset(s.actions) == toset(["s3:GetObject", "s3:GetObjectVersion"]) &&
        toset(s.resources) == toset(["arn:aws:s3:::example-bucket/*"]) &&
        [for p in s.principals : [p.type, toset(p.identifiers)]] == [["AWS", toset(["*"])]] &&
        toset([for c in s.condition : "${c.test} ${c.variable} ${join(",", sort(c.values))}"]) == toset([
          "StringNotEquals s3:ExistingObjectTag/GuardDutyMalwareScanStatus NO_THREATS_FOUND",
          "ArnNotEquals aws:PrincipalArn arn:aws:iam::111111111111:role/scanner",
        ])
      ) if s.sid == "ReadsOnlyOfObjectsScannedClean"
    ])
    error_message = "Every read of an object version not tagged clean is denied to every principal but the scanner."
  }

  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.this.statement : [for c in s.condition : "${c.test} ${c.variable} ${join(",", sort(c.values))}"] if s.sid == "NoReadsOfQuarantinedObjects"
    ]) == ["StringEquals s3:ExistingObjectTag/GuardDutyMalwareScanStatus THREATS_FOUND"]
    error_message = "A quarantined object is unreadable to everyone, the scanner included."
  }
}

run "a_clean_verdict_must_differ_from_threats_found" {
  command = plan

  variables {
    malware_scan = {
      tag_key          = "GuardDutyMalwareScanStatus"
      clean            = "THREATS_FOUND"
      threats_found    = "THREATS_FOUND"
      scanner_role_arn = "arn:aws:iam::111111111111:role/scanner"
    }
  }

  expect_failures = [var.malware_scan]
}

run "the_scanner_exception_names_one_role" {
  command = plan

  variables {
    malware_scan = {
      tag_key          = "GuardDutyMalwareScanStatus"
      clean            = "NO_THREATS_FOUND"
      threats_found    = "THREATS_FOUND"
      scanner_role_arn = "arn:aws:iam::111111111111:role/*"
    }
  }

  expect_failures = [var.malware_scan]
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

run "cloudtrail_bucket_is_locked_and_admits_only_its_trail" {
  command = plan

  variables {
    name                             = "secure-upload-audit-logs-111111111111"
    object_reader_arns               = ["arn:aws:iam::111111111111:role/admin"]
    configuration_administrator_arns = ["arn:aws:iam::111111111111:role/admin"]
    bucket_key_enabled               = false
    object_lock                      = { mode = "COMPLIANCE", days = 365 }
    cloudtrail_delivery = {
      trail_arn  = "arn:aws:cloudtrail:us-east-1:111111111111:trail/secure-upload-audit-trail"
      account_id = "111111111111"
    }
  }

  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled == true
    error_message = "Object Lock is turned on when the bucket is created."
  }

  assert {
    condition = (
      length(aws_s3_bucket_object_lock_configuration.this) == 1 &&
      one(one(aws_s3_bucket_object_lock_configuration.this[0].rule).default_retention).mode == "COMPLIANCE" &&
      one(one(aws_s3_bucket_object_lock_configuration.this[0].rule).default_retention).days == 365
    )
    error_message = "Every new version is locked in the given mode for the given days."
  }

  assert {
    condition     = output.object_lock.mode == "COMPLIANCE" && output.object_lock.days == 365
    error_message = "The retention in force is an output, for the modules that build on the bucket."
  }

  assert {
    condition     = !one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "No bucket key when asked: it would replace the writer's encryption context."
  }

  assert {
    condition = [for s in data.aws_iam_policy_document.this.statement : s.sid] == [
      "DenyInsecureTransport", "DenyOldTls", "DenyOtherEncryption", "DenyOtherKeys", "DenyCustomerKeys",
      "ObjectReadsOnlyForListedRoles", "CloudTrailAclCheck", "CloudTrailWrite",
      "ConfigurationOnlyForAdministrators",
    ]
    error_message = "A CloudTrail bucket admits its trail and keeps configuration changes to the administrators."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement : alltrue([
        for c in s.condition : c.values == tolist([var.cloudtrail_delivery.trail_arn]) if c.variable == "aws:SourceArn"
      ]) && length([for c in s.condition : c if c.variable == "aws:SourceArn"]) == 1
      if startswith(coalesce(s.sid, ""), "CloudTrail")
    ])
    error_message = "CloudTrail's statements are pinned to the one trail (aws:SourceArn)."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "CloudTrailWrite"]) == toset(["arn:aws:s3:::example-bucket/AWSLogs/111111111111/*"])
    error_message = "CloudTrail writes under AWSLogs/<account>/ only."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement : (
        s.effect == "Deny" && contains(s.actions, "s3:PutBucketPolicy") && contains(s.actions, "s3:PutBucketObjectLockConfiguration") &&
        contains(s.actions, "s3:BypassGovernanceRetention") && one(s.condition).values == var.configuration_administrator_arns
      ) if s.sid == "ConfigurationOnlyForAdministrators"
    ])
    error_message = "Only the administrators change the bucket's protections or bypass its retention."
  }
}

run "buckets_without_the_new_inputs_are_unchanged" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled != true && length(aws_s3_bucket_object_lock_configuration.this) == 0 && output.object_lock == null
    error_message = "No Object Lock unless asked for (it cannot be added to an existing bucket in place)."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "Data buckets keep their bucket key by default."
  }
}

run "governance_retention_needs_named_administrators" {
  command = plan

  variables {
    object_lock = { mode = "GOVERNANCE", days = 30 }
  }

  expect_failures = [var.object_lock]
}

run "object_lock_mode_is_checked" {
  command = plan

  variables {
    object_lock = { mode = "compliance", days = 30 }
  }

  expect_failures = [var.object_lock]
}

run "cloudtrail_delivery_names_one_trail" {
  command = plan

  variables {
    cloudtrail_delivery = {
      trail_arn  = "arn:aws:cloudtrail:us-east-1:111111111111:trail/*"
      account_id = "111111111111"
    }
  }

  expect_failures = [var.cloudtrail_delivery]
}

run "cors_only_when_asked_and_as_asked" {
  command = plan

  variables {
    cors_rule = {
      allowed_origins = ["https://d111111abcdef8.cloudfront.net"]
      allowed_methods = ["GET", "HEAD", "PUT"]
      allowed_headers = ["content-type", "x-amz-checksum-sha256"]
      expose_headers  = ["ETag"]
      max_age_seconds = 600
    }
  }

  assert {
    condition = (
      length(aws_s3_bucket_cors_configuration.this) == 1 &&
      one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_origins == toset(["https://d111111abcdef8.cloudfront.net"]) &&
      one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_methods == toset(["GET", "HEAD", "PUT"]) &&
      one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_headers == toset(["content-type", "x-amz-checksum-sha256"]) &&
      one(aws_s3_bucket_cors_configuration.this[0].cors_rule).expose_headers == toset(["ETag"]) &&
      one(aws_s3_bucket_cors_configuration.this[0].cors_rule).max_age_seconds == 600
    )
    error_message = "The bucket's one CORS rule is the one given."
  }
}

run "no_cors_unless_asked" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_cors_configuration.this) == 0
    error_message = "Without cors_rule browsers may not call the bucket from another origin."
  }
}

run "cors_names_its_origins_and_headers" {
  command = plan

  variables {
    cors_rule = {
      allowed_origins = ["https://*.cloudfront.net"]
      allowed_methods = ["PUT"]
      allowed_headers = ["*"]
      expose_headers  = []
      max_age_seconds = 600
    }
  }

  expect_failures = [var.cors_rule]
}

