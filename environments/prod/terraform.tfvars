# Every difference between environments lives here.
# CHANGE: account id, GitHub repository, owner and e-mail are placeholders.
account_id        = "333333333333"
region            = "eu-west-1"
environment       = "prod"
owner             = "platform-team"
github_repository = "example-org/secure-upload-platform"

state_bucket_name   = "secure-upload-tfstate-333333333333"
state_kms_key_alias = "alias/secure-upload-tfstate"

deletion_protection   = true
force_destroy_buckets = false

# Every user must sign in with a TOTP factor; SRP only (no password on the wire).
mfa_configuration   = "ON"
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

log_retention_days                 = 365
access_log_retention_days          = 365
noncurrent_version_expiration_days = 90

# Alarms page the on-call address (confirm the SNS subscription once).
alarm_email = "platform-oncall@example.com"

state_machine_type = "STANDARD"
