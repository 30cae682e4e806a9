# Every call goes to the emulator (moto in server mode on loopback), never to AWS.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing" # pragma: allowlist secret (moto's dummy credential: this root only reaches loopback)
  allowed_account_ids         = [var.account_id]
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  # Few retries: a call the emulator cannot answer would otherwise be retried for
  # minutes, but a dropped loopback connection (seen under load) deserves another try.
  max_retries = 3

  endpoints {
    cloudfront     = var.endpoint
    cloudwatch     = var.endpoint
    cognitoidp     = var.endpoint
    dynamodb       = var.endpoint
    ecr            = var.endpoint
    events         = var.endpoint
    guardduty      = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    logs           = var.endpoint
    pipes          = var.endpoint
    s3             = var.endpoint
    secretsmanager = var.endpoint
    sfn            = var.endpoint
    sns            = var.endpoint
    sqs            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
  }

  default_tags {
    tags = {
      project     = "secure-upload"
      environment = "local"
      owner       = "local-stack"
    }
  }
}
