output "state_bucket_name" {
  description = "State bucket: the bucket of every backend.tf in this account."
  value       = module.state_bucket.id
}

output "state_kms_key_arn" {
  description = "ARN of the state key."
  value       = module.state_key.key_arn
}

output "state_kms_key_alias" {
  description = "Alias of the state key: backend.tf kms_key_id uses its ARN."
  value       = module.state_key.alias_name
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "audit_trail_arn" {
  description = "ARN of the account's audit trail."
  value       = module.audit_trail.trail_arn
}

output "audit_bucket_name" {
  description = "Bucket of the audit trail's log and digest files (Object Lock)."
  value       = module.audit_trail.bucket_name
}

output "audit_alert_topic_arn" {
  description = "SNS topic the audit alarms publish to; subscribe further endpoints here."
  value       = module.audit_trail.alert_topic_arn
}
