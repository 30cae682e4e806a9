output "topic_arn" {
  description = "ARN of the KMS-encrypted alarm topic."
  value       = aws_sns_topic.this.arn
}

output "api_access_log_group_arn" {
  description = "ARN of the API access log group (without the :* suffix)."
  value       = aws_cloudwatch_log_group.api_access.arn
}

output "api_access_log_group_name" {
  description = "Name of the API access log group."
  value       = aws_cloudwatch_log_group.api_access.name
}

output "alarm_arns" {
  description = "ARNs of every alarm."
  value       = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
}

output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
