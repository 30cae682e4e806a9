output "rule_arn" {
  description = "ARN of the object-created rule; the SAM template lets it invoke the upload API function."
  value       = aws_cloudwatch_event_rule.object_created.arn
}
