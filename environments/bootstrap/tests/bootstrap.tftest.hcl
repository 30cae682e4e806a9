# `terraform test` for the bootstrap root (make validate). Every provider call
# is mocked: these runs check that the account's root wires the audit trail to
# its own environment, and who may read and administer it.

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

  mock_resource "aws_iam_role" {
    override_during = plan
    defaults = {
      arn = "arn:aws:iam::111111111111:role/secure-upload-break-glass"
    }
  }

  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    }
  }
}

# What accounts/stage.tfvars holds, with the stage account's placeholder id.
variables {
  account_id                    = "111111111111"
  region                        = "us-east-1"
  environment                   = "stage"
  owner                         = "platform-team"
  state_administrator_role_arns = ["arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*"]
  audit_alert_email_addresses   = ["security@example.com"]
}

run "the_trail_records_this_environments_upload_data_and_web_app" {
  command = plan

  assert {
    condition = toset(module.audit_trail.data_event_resources) == toset([
      "arn:aws:s3:::secure-upload-stage-uploads-111111111111/",
      "arn:aws:s3:::secure-upload-stage-web-111111111111/",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-stage-files",
    ])
    error_message = "Data events cover the environment's upload bucket (secure-upload-<env>-uploads-<account>), its web bucket (secure-upload-<env>-web-<account>) and files table, nothing else."
  }
}

run "administrators_and_break_glass_read_the_logs" {
  command = plan

  assert {
    condition     = toset(module.audit_trail.reader_arns) == toset(concat(var.state_administrator_role_arns, ["arn:aws:iam::111111111111:role/secure-upload-break-glass"]))
    error_message = "Only the administrators and break-glass decrypt and read the logs."
  }

  assert {
    condition     = module.audit_trail.object_lock.mode == "COMPLIANCE" && module.audit_trail.object_lock.days == 365
    error_message = "Log files are locked in COMPLIANCE mode for a year."
  }
}
