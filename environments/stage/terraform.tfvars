# Every difference between environments lives here.
# CHANGE: account id, GitHub repository, owner and e-mail are placeholders.
account_id        = "222222222222"
region            = "us-east-1"
environment       = "stage"
owner             = "platform-team"
github_repository = "example-org/secure-upload-platform"

state_bucket_name   = "secure-upload-tfstate-222222222222"
state_kms_key_alias = "alias/secure-upload-tfstate"

# Production-like, so releases are rehearsed with the same guard rails.
deletion_protection   = true
force_destroy_buckets = false

# Users sign in with SRP (no password on the wire), the smoke user too (with
# a TOTP code); no admin sign-in flow.
mfa_configuration   = "OPTIONAL"
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

log_retention_days                 = 90
access_log_retention_days          = 90
noncurrent_version_expiration_days = 30

alarm_email = "platform-alerts-stage@example.com"

state_machine_type = "STANDARD"

# Pull-request code runs with the plan role: never for stage (the promotion workflow plans it on main).
plan_on_pull_requests = false

# The web app's API: the stack output ApiEndpoint of secure-upload-stage-app,
# known after the first sam deploy. Empty: no web app; once set, its origin
# is in the app's Content-Security-Policy, reviewed like any CSP change
# (environments/README.md, "The web app").
web_api_url = ""
