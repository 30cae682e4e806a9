# CHANGE: placeholder account id and owner.
account_id  = "111111111111"
region      = "us-east-1"
environment = "dev"
owner       = "platform-team"
