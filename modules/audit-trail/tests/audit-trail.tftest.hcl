# `terraform test` for the audit trail (make validate). Every provider call is
# mocked: these runs check what the module asks AWS for. The alarms' event
# patterns are tested against sample CloudTrail events in
# tests/infra/test_audit_alarms.py.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_sns_topic" {
    override_during = plan
    defaults = {
      arn = "arn:aws:sns:us-east-1:111111111111:secure-upload-audit-alerts"
    }
  }
}

variables {
  project                    = "secure-upload"
  environment                = "dev"
  administrator_arns         = ["arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*"]
  reader_arns                = ["arn:aws:iam::111111111111:role/secure-upload-break-glass"]
  alert_email_addresses      = ["security@example.com", "oncall@example.com"]
  s3_data_event_buckets      = ["secure-upload-dev-uploads-111111111111"]
  dynamodb_data_event_tables = ["secure-upload-dev-files"]
}

run "one_validated_encrypted_trail_of_every_region" {
  command = plan

  assert {
    condition     = aws_cloudtrail.this.name == "secure-upload-audit-trail"
    error_message = "The trail carries the prefix the CI guard rails protect."
  }

  assert {
    condition = (
      aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.include_global_service_events &&
      aws_cloudtrail.this.enable_log_file_validation && aws_cloudtrail.this.enable_logging
    )
    error_message = "Multi-region, global service events, log-file validation, logging on."
  }

  assert {
    condition     = aws_cloudtrail.this.kms_key_id == aws_kms_key.this.arn
    error_message = "Log files are encrypted with the trail's own key."
  }

  assert {
    condition     = aws_cloudtrail.this.s3_bucket_name == "secure-upload-audit-logs-111111111111"
    error_message = "The trail delivers to its own bucket."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_alias.this.name == "alias/secure-upload-audit-key"
    error_message = "The key rotates and its alias carries the protected prefix."
  }
}

run "management_events_and_the_data_events_of_the_environment" {
  command = plan

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : length(s.field_selector) == 1 && alltrue([
        for f in s.field_selector : f.field == "eventCategory" && f.equals == tolist(["Management"])
      ])
    ])
    error_message = "Every management event is recorded, read and write (no readOnly or eventSource filter)."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : (
        contains([for f in s.field_selector : f.equals if f.field == "resources.type"], tolist(["AWS::S3::Object"])) &&
        contains([for f in s.field_selector : f.starts_with if f.field == "resources.ARN"], tolist(["arn:aws:s3:::secure-upload-dev-uploads-111111111111/"])) &&
        length([for f in s.field_selector : f if f.field == "readOnly"]) == 0
      )
    ])
    error_message = "Reads and writes of the upload bucket's objects are recorded."
  }

  assert {
    condition = anytrue([
      for s in aws_cloudtrail.this.advanced_event_selector : (
        contains([for f in s.field_selector : f.equals if f.field == "resources.type"], tolist(["AWS::DynamoDB::Table"])) &&
        contains([for f in s.field_selector : f.equals if f.field == "resources.ARN"], tolist(["arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-files"]))
      )
    ])
    error_message = "Item calls on the files table are recorded."
  }
}

run "no_data_events_unless_named" {
  command = plan

  variables {
    s3_data_event_buckets      = []
    dynamodb_data_event_tables = []
  }

  assert {
    condition     = length(aws_cloudtrail.this.advanced_event_selector) == 1
    error_message = "Without buckets or tables only the management selector remains (an empty ARN list would be invalid)."
  }
}

run "the_key_serves_this_trail_and_decrypts_for_the_readers_only" {
  command = plan

  assert {
    condition = [for s in data.aws_iam_policy_document.key.statement : s.sid] == [
      "KeyAdministration", "CloudTrailEncryptsThisTrail", "CloudTrailDescribesKey",
      "DecryptLogFilesThroughS3", "EventBridgePublishesAlarms", "DecryptOnlyForReaders",
      "KeyAdministrationOnlyForAdministrators",
    ]
    error_message = "The key policy has exactly the expected statements."
  }

  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.key.statement : [
        for c in s.condition : c.test == "StringEquals" && c.values == tolist(["arn:aws:cloudtrail:us-east-1:111111111111:trail/secure-upload-audit-trail"])
        if c.variable == "aws:SourceArn"
      ] if startswith(coalesce(s.sid, ""), "CloudTrail")
    ]) == [true, true]
    error_message = "CloudTrail may use the key for this trail only (aws:SourceArn on both of its statements)."
  }

  assert {
    condition = toset(one([
      for s in data.aws_iam_policy_document.key.statement : one([for c in s.condition : c.values if c.variable == "aws:PrincipalArn"])
      if s.sid == "DecryptOnlyForReaders"
    ])) == toset(concat(var.administrator_arns, var.reader_arns))
    error_message = "Only the administrators and the readers decrypt, whatever IAM says."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : (
        s.effect == "Deny" && contains(s.actions, "kms:PutKeyPolicy") && contains(s.actions, "kms:ScheduleKeyDeletion") &&
        contains(s.actions, "kms:DisableKey") && toset(one([for c in s.condition : c.values if c.variable == "aws:PrincipalArn"])) == toset(concat(var.administrator_arns, ["arn:aws:iam::111111111111:root"]))
      ) if s.sid == "KeyAdministrationOnlyForAdministrators"
    ])
    error_message = "Only the administrators (and the account root user, for recovery) change, disable or delete the key."
  }
}

run "the_bucket_is_locked_and_logged" {
  command = plan

  assert {
    condition     = module.logs_bucket.object_lock.mode == "COMPLIANCE" && module.logs_bucket.object_lock.days == 365
    error_message = "Log files are locked in COMPLIANCE mode for a year by default."
  }

  assert {
    condition     = module.access_logs_bucket.object_lock == null
    error_message = "The access-log target has no default retention (S3 log delivery does not support one)."
  }
}

run "alarms_reach_people_through_the_encrypted_topic" {
  command = plan

  assert {
    condition     = aws_sns_topic.alerts.name == "secure-upload-audit-alerts" && aws_sns_topic.alerts.kms_master_key_id == aws_kms_key.this.arn
    error_message = "The alert topic is named as the guard rails expect and encrypted with the key."
  }

  assert {
    condition     = toset([for s in aws_sns_topic_subscription.email : s.endpoint]) == toset(var.alert_email_addresses) && alltrue([for s in aws_sns_topic_subscription.email : s.protocol == "email"])
    error_message = "Every address gets an e-mail subscription."
  }

  assert {
    condition = toset(keys(aws_cloudwatch_event_rule.this)) == toset(["trail-tampering", "data-protection", "iam-boundaries", "workload-trust"]) && alltrue([
      for k, r in aws_cloudwatch_event_rule.this : r.name == "secure-upload-audit-${k}" && r.state == "ENABLED" && r.description != ""
    ])
    error_message = "Four enabled, described rules, named with the protected prefix."
  }

  assert {
    condition = alltrue([
      for k, r in aws_cloudwatch_event_rule.this : jsondecode(r.event_pattern)["detail-type"] == ["AWS API Call via CloudTrail"]
    ])
    error_message = "The rules match the CloudTrail API-call events."
  }

  assert {
    condition = alltrue([
      for k, t in aws_cloudwatch_event_target.this : t.arn == aws_sns_topic.alerts.arn && t.rule == "secure-upload-audit-${k}"
    ])
    error_message = "Every rule publishes to the alert topic."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.alerts.statement : one([for c in s.condition : c.values if c.variable == "aws:SourceArn"])
      if s.sid == "AuditRulesOfThisAccount"
    ]) == tolist(["arn:aws:events:us-east-1:111111111111:rule/secure-upload-audit-*"])
    error_message = "Only this account's audit rules publish to the topic."
  }

  assert {
    condition     = strcontains(jsondecode(aws_cloudwatch_event_rule.this["workload-trust"].event_pattern)["$or"][1].detail.requestParameters.name[0].wildcard, "secure-upload/dev/")
    error_message = "The auth-parameter alarm watches this environment's parameters."
  }
}

run "an_alarm_needs_someone_to_reach" {
  command = plan

  variables {
    alert_email_addresses = []
  }

  expect_failures = [var.alert_email_addresses]
}

run "administrators_are_never_everyone" {
  command = plan

  variables {
    administrator_arns = ["*"]
  }

  expect_failures = [var.administrator_arns]
}

run "retention_is_months_at_least" {
  command = plan

  variables {
    retention_days = 7
  }

  expect_failures = [var.retention_days]
}

run "iam_alarms_need_us_east_1" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      id = "eu-west-1"
    }
  }

  expect_failures = [aws_cloudwatch_event_rule.this]
}
