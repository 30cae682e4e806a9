# Every difference between environments lives here.
# CHANGE: account id, GitHub repository and owner are placeholders.
account_id        = "111111111111"
region            = "us-east-1"
environment       = "dev"
owner             = "platform-team"
github_repository = "example-org/secure-upload-platform"

state_bucket_name   = "secure-upload-tfstate-111111111111"
state_kms_key_alias = "alias/secure-upload-tfstate"

# Throw-away data: easy teardown.
deletion_protection   = false
force_destroy_buckets = true

# Developers sign in from the CLI (initiate-auth USER_PASSWORD_AUTH), or with
# the usage guide's ADMIN_USER_PASSWORD_AUTH, which only IAM principals allowed
# cognito-idp:AdminInitiateAuth on this pool can use (no CI role is). The smoke
# test signs its smoke user in with SRP and TOTP, as users of every pool do.
mfa_configuration   = "OPTIONAL"
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

log_retention_days                 = 14
access_log_retention_days          = 30
noncurrent_version_expiration_days = 7

# Alarms still fire to the encrypted topic; nobody is paged.
alarm_email = null

state_machine_type = "STANDARD"

# Pull-request code runs with the plan role: dev only.
plan_on_pull_requests = true

# The web app's API: the stack output ApiEndpoint of secure-upload-dev-app,
# known after the first sam deploy. Empty: no web app; once set, its origin
# is in the app's Content-Security-Policy, reviewed like any CSP change
# (environments/README.md, "The web app").
web_api_url = ""
