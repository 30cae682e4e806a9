provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      project     = "secure-upload"
      environment = var.environment
      owner       = var.owner
    }
  }
}
