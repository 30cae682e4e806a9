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

  mock_resource "aws_cloudfront_distribution" {
    override_during = plan
    defaults = {
      arn         = "arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"
      domain_name = "d111111abcdef8.cloudfront.net"
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

run "no_web_app_and_closed_cors_until_the_api_url_is_set" {
  command = plan

  assert {
    condition     = length(module.web) == 0 && output.web_url == null
    error_message = "Without web_api_url (before the first sam deploy) there is no web app."
  }

  assert {
    condition     = aws_ssm_parameter.this["web-origin"].value == "none"
    error_message = "The API's CORS origin is \"none\" (SSM refuses an empty value), which keeps the SAM template's CORS closed."
  }
}

run "the_web_app_is_the_one_origin_the_api_allows" {
  command = plan

  variables {
    web_api_url = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
  }

  assert {
    condition     = length(module.web) == 1 && output.web_url == "https://d111111abcdef8.cloudfront.net/"
    error_message = "With web_api_url the app is served by CloudFront."
  }

  assert {
    condition     = aws_ssm_parameter.this["web-origin"].value == "https://d111111abcdef8.cloudfront.net"
    error_message = "The API's CORS origin is the distribution's."
  }

  assert {
    condition = (
      local.web_origins == tolist(["https://d111111abcdef8.cloudfront.net"]) &&
      local.cognito_endpoint == "https://cognito-idp.us-east-1.amazonaws.com" &&
      local.upload_bucket_origin == "https://secure-upload-dev-uploads-111111111111.s3.us-east-1.amazonaws.com"
    )
    error_message = "The upload bucket's CORS allows the distribution's origin; the app reaches Cognito and the bucket at their regional endpoints."
  }
}

run "the_local_stack_serves_the_app_itself_and_the_emulator_stands_in_for_aws" {
  command = plan

  variables {
    environment = "local"
    web_api_url = "http://127.0.0.1:8000"
    web_local_stack = {
      origin            = "http://127.0.0.1:8001"
      emulator_endpoint = "http://127.0.0.1:5000"
    }
  }

  assert {
    condition     = length(module.web) == 1 && aws_ssm_parameter.this["web-origin"].value == "http://127.0.0.1:8001" && local.web_origins == tolist(["http://127.0.0.1:8001"])
    error_message = "Locally the API's and the bucket's CORS allow the local stack's web server."
  }

  assert {
    condition     = local.cognito_endpoint == "http://127.0.0.1:5000" && local.upload_bucket_origin == "http://127.0.0.1:5000"
    error_message = "Locally the browser reaches Cognito and S3 at the emulator."
  }
}

run "only_loopback_origins_stand_in_for_aws" {
  command = plan

  variables {
    web_api_url = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    web_local_stack = {
      origin            = "https://attacker.example"
      emulator_endpoint = "http://127.0.0.1:5000"
    }
  }

  expect_failures = [var.web_local_stack]
}

