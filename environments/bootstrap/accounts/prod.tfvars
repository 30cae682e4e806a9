# CHANGE: placeholder account id and owner.
account_id  = "333333333333"
region      = "us-east-1"
environment = "prod"
owner       = "platform-team"
