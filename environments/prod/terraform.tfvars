# Every difference between environments lives here.
# CHANGE: account id, GitHub repository, owner and e-mail are placeholders.
account_id        = "333333333333"
region            = "us-east-1"
environment       = "prod"
owner             = "platform-team"
github_repository = "example-org/secure-upload-platform"

state_bucket_name   = "secure-upload-tfstate-333333333333"
state_kms_key_alias = "alias/secure-upload-tfstate"

deletion_protection   = true
force_destroy_buckets = false

# Every user must sign in with a TOTP factor; users sign in with SRP (no
# password on the wire), the smoke user too; no admin sign-in flow.
mfa_configuration   = "ON"
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

log_retention_days                 = 365
access_log_retention_days          = 365
noncurrent_version_expiration_days = 90

# Alarms page the on-call address (confirm the SNS subscription once).
alarm_email = "platform-oncall@example.com"

state_machine_type = "STANDARD"

# Pull-request code runs with the plan role: never for prod (the promotion workflow plans it on main).
plan_on_pull_requests = false

# The web app's API: the stack output ApiEndpoint of secure-upload-prod-app,
# known after the first sam deploy. Empty: no web app; once set, its origin
# is in the app's Content-Security-Policy, reviewed like any CSP change
# (environments/README.md, "The web app").
web_api_url = ""
