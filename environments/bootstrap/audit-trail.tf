# The account's audit trail (modules/audit-trail): a multi-region CloudTrail
# trail with log-file validation, its own key, an Object-Locked bucket, S3
# data events of this environment's upload and web buckets and item events of
# its files table, and alarms e-mailed through secure-upload-audit-alerts. It is
# here, applied by an administrator, so that no pipeline owns it; the CI
# roles' guard rails deny them every change to it (see README.md).

module "audit_trail" {
  source = "../../modules/audit-trail"

  project     = "secure-upload"
  environment = var.environment
  # The people who apply this root administer the trail's key and bucket;
  # they, break-glass and any listed reader decrypt the logs.
  administrator_arns    = var.state_administrator_role_arns
  reader_arns           = concat([aws_iam_role.break_glass.arn], var.audit_reader_role_arns)
  alert_email_addresses = var.audit_alert_email_addresses

  # Named as modules/platform and modules/web name them
  # (<project>-<env>-uploads-<account>, <project>-<env>-web-<account>,
  # <project>-<env>-files); they need not exist yet. The web bucket's files
  # run in every signed-in user's browser: who wrote which one, and when, is
  # recorded (CloudFront's reads too: a few events per page load).
  s3_data_event_buckets = [
    "secure-upload-${var.environment}-uploads-${local.account_id}",
    "secure-upload-${var.environment}-web-${local.account_id}",
  ]
  dynamodb_data_event_tables = ["secure-upload-${var.environment}-files"]

  retention_days   = var.audit_retention_days
  object_lock_mode = var.audit_object_lock_mode
}

# prevent_destroy cannot be a module input, so this guard carries it: a plan
# that destroys or replaces the trail, its bucket or its key fails. Removing
# the guard is a deliberate, reviewed code change (and the data-protection and
# trail-tampering alarms fire when it is applied).
resource "terraform_data" "audit_trail_guard" {
  triggers_replace = [module.audit_trail.trail_arn, module.audit_trail.bucket_arn, module.audit_trail.kms_key_arn]

  lifecycle {
    prevent_destroy = true
  }
}
