# The local stack's infrastructure: the same composition module as dev, stage
# and prod, with dev-like inputs, applied into the emulator by `make dev`.
module "platform" {
  source = "../../modules/platform"

  environment         = "local"
  github_repository   = "example-org/secure-upload-platform"
  state_bucket_name   = "secure-upload-tfstate-${var.account_id}"
  state_kms_key_alias = "alias/secure-upload-tfstate"

  deletion_protection   = false
  force_destroy_buckets = true
  # The demo user signs in with a password, as developers do in dev.
  mfa_configuration   = "OPTIONAL"
  explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  log_retention_days                 = 14
  access_log_retention_days          = 30
  noncurrent_version_expiration_days = 7
  alarm_email                        = null
  state_machine_type                 = "STANDARD"
  # The stand-in scanner tags within milliseconds: wait 5 s, not 11 minutes.
  malware_scan_wait = {
    interval_seconds  = 1
    backoff_rate      = 1
    max_attempts      = 5
    max_delay_seconds = 1
  }
  plan_on_pull_requests = true

  # The web app's API is the local stack's uvicorn; the app itself is served
  # by the local stack, and the browser reaches Cognito and S3 at the emulator.
  web_api_url = var.web_api_url
  web_local_stack = var.web_api_url == "" ? null : {
    origin            = var.web_origin
    emulator_endpoint = var.endpoint
  }
}
