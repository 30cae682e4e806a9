# CHANGE: placeholder account id and owner.
account_id  = "333333333333"
region      = "us-east-1"
environment = "prod"
owner       = "platform-team"

# CHANGE: the roles your administrators apply with (IAM Identity Center shown).
state_administrator_role_arns = ["arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*"]

# CHANGE: who the audit alarms e-mail (each address confirms its subscription once).
audit_alert_email_addresses = ["security@example.com"]
