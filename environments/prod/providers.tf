provider "aws" {
  region = var.region
  # A plan can never touch another account, whatever credentials are loaded.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      project     = "secure-upload"
      environment = var.environment
      owner       = var.owner
    }
  }
}
