module "platform" {
  source = "../../modules/platform"

  environment                        = var.environment
  github_repository                  = var.github_repository
  state_bucket_name                  = var.state_bucket_name
  state_kms_key_alias                = var.state_kms_key_alias
  deletion_protection                = var.deletion_protection
  force_destroy_buckets              = var.force_destroy_buckets
  mfa_configuration                  = var.mfa_configuration
  explicit_auth_flows                = var.explicit_auth_flows
  log_retention_days                 = var.log_retention_days
  access_log_retention_days          = var.access_log_retention_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  alarm_email                        = var.alarm_email
  state_machine_type                 = var.state_machine_type
  plan_on_pull_requests              = var.plan_on_pull_requests
  web_api_url                        = var.web_api_url
}
