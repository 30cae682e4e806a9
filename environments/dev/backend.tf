# Created by environments/bootstrap in this account. CHANGE the account id
# (and region) to yours; backend blocks cannot use variables.
terraform {
  backend "s3" {
    bucket       = "secure-upload-tfstate-111111111111"
    key          = "dev/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    kms_key_id   = "arn:aws:kms:us-east-1:111111111111:alias/secure-upload-tfstate"
    use_lockfile = true
  }
}
