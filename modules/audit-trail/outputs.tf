output "trail_arn" {
  description = "ARN of the trail."
  value       = aws_cloudtrail.this.arn
}

output "trail_name" {
  description = "Name of the trail, <project>-audit-trail."
  value       = aws_cloudtrail.this.name
}

output "bucket_name" {
  description = "Bucket of the log and digest files (Object Lock)."
  value       = module.logs_bucket.id
}

output "bucket_arn" {
  description = "ARN of the bucket of the log and digest files."
  value       = module.logs_bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the trail's key (also encrypts the alert topic)."
  value       = aws_kms_key.this.arn
}

output "alert_topic_arn" {
  description = "ARN of the SNS topic the alarms publish to, <project>-audit-alerts."
  value       = aws_sns_topic.alerts.arn
}

output "alarm_rule_names" {
  description = "Names of the EventBridge rules that raise the alarms."
  value       = [for rule in aws_cloudwatch_event_rule.this : rule.name]
}

output "data_event_resources" {
  description = "What the trail records data events of: S3 object-ARN prefixes and DynamoDB table ARNs."
  value = flatten([
    for selector in aws_cloudtrail.this.advanced_event_selector : [
      for field in selector.field_selector : concat(coalesce(field.starts_with, []), coalesce(field.equals, []))
      if field.field == "resources.ARN"
    ]
  ])
}

output "reader_arns" {
  description = "The only principals that decrypt and read the log files (administrators and readers)."
  value       = local.reader_arns
}

output "object_lock" {
  description = "The Object Lock default retention of the log bucket ({mode, days, years})."
  value       = module.logs_bucket.object_lock
}
