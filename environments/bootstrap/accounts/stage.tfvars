# CHANGE: placeholder account id and owner.
account_id  = "222222222222"
region      = "us-east-1"
environment = "stage"
owner       = "platform-team"
