# The state bucket and its access-log bucket (the key is in main.tf). A local
# module needs no state of its own, so this root uses the same hardened
# bucket as the environments.

locals {
  state_log_prefix = "state/"
  # The state bucket's readers are the state key's decrypters.
  state_reader_arns = concat([
    "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/secure-upload-${var.environment}-github-terraform",
    "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/secure-upload-${var.environment}-github-plan",
    aws_iam_role.break_glass.arn,
  ], var.state_administrator_role_arns)
}

module "state_log_bucket" {
  # checkov:skip=CKV_AWS_18: This bucket is the access-log target; logging it to itself would loop.
  # checkov:skip=CKV_AWS_145: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_SUP_2: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_AWS_144: Access logs are kept for a bounded period in-region; replication adds cost without a recovery need.
  # checkov:skip=CKV2_AWS_62: Nothing consumes events of log objects.
  source = "../../modules/secure-bucket"

  name = "${local.bucket}-logs"
  log_delivery_source = {
    bucket_arn = module.state_bucket.arn
    account_id = local.account_id
    prefix     = local.state_log_prefix
  }
  expiration_days                    = 365
  noncurrent_version_expiration_days = 1
}

module "state_bucket" {
  # checkov:skip=CKV_AWS_144: State is versioned with a 90-day history; a second region adds a second copy of secrets-bearing state to protect.
  # checkov:skip=CKV2_AWS_62: Nothing reacts to state writes.
  source = "../../modules/secure-bucket"

  name               = local.bucket
  kms_key_arn        = module.state_key.key_arn
  kms_key_aliases    = [module.state_key.alias_arn] # what environments/*/backend.tf sends
  object_reader_arns = local.state_reader_arns
  access_logs        = { bucket = module.state_log_bucket.id, prefix = local.state_log_prefix }

  noncurrent_version_expiration_days = var.state_version_retention_days
}

# prevent_destroy cannot be a module input, so this guard carries it: a plan
# that destroys or replaces the state bucket must destroy the guard too, and
# Terraform refuses. (S3 also refuses to delete the bucket while it holds
# state: force_destroy is off.)
resource "terraform_data" "state_bucket_guard" {
  triggers_replace = [module.state_bucket.arn]

  lifecycle {
    prevent_destroy = true
  }
}
