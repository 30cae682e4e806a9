# CHANGE: placeholder account id and owner.
account_id  = "111111111111"
region      = "eu-west-1"
environment = "dev"
owner       = "platform-team"
