# `terraform test` for the composition module (make validate). No AWS access:
# every provider call is mocked.

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
}

variables {
  environment         = "dev"
  github_repository   = "example-org/secure-upload-platform"
  state_bucket_name   = "secure-upload-tfstate-111111111111"
  state_kms_key_alias = "alias/secure-upload-tfstate"
  deletion_protection = true
  mfa_configuration   = "ON"
  log_retention_days  = 30
}

run "names_and_parameters_follow_the_contract" {
  command = plan

  assert {
    condition     = output.files_table_name == "secure-upload-dev-files"
    error_message = "The table must be named <project>-<env>-files."
  }

  assert {
    condition     = output.upload_bucket_name == "secure-upload-dev-uploads-111111111111"
    error_message = "The upload bucket must be named <project>-<env>-uploads-<account>."
  }

  assert {
    condition     = toset(keys(aws_ssm_parameter.this)) == toset(values(jsondecode(file("../../services/contract/upload_contract/contract.json")).ssm_parameters))
    error_message = "Exactly the parameters named in the data contract are published."
  }

  assert {
    condition     = aws_ssm_parameter.this["processor-function-name"].name == "/secure-upload/dev/processor-function-name"
    error_message = "Parameters live under /<project>/<env>/."
  }

  assert {
    condition     = aws_ssm_parameter.this["processor-function-name"].value == "secure-upload-dev-processor"
    error_message = "The processor has the deterministic name <project>-<env>-processor."
  }

  assert {
    condition     = alltrue([for p in aws_ssm_parameter.this : p.type == "String"])
    error_message = "SAM resolves the parameters as String."
  }

  # The permissions boundary names the bucket and table before they exist.
  assert {
    condition     = local.upload_bucket_arn == "arn:aws:s3:::${output.upload_bucket_name}" && local.files_table_name == output.files_table_name
    error_message = "The permissions boundary must name the upload bucket and the files table the platform creates."
  }
}

run "unknown_environment_is_rejected" {
  command = plan

  variables {
    environment = "qa"
  }

  expect_failures = [var.environment]
}

run "mfa_cannot_be_turned_off" {
  command = plan

  variables {
    mfa_configuration = "OFF"
  }

  expect_failures = [var.mfa_configuration]
}

run "the_local_root_is_an_environment_too" {
  command = plan

  variables {
    environment = "local"
  }

  assert {
    condition     = output.files_table_name == "secure-upload-local-files"
    error_message = "environments/local names its resources <project>-local-*."
  }
}
