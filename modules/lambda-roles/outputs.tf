output "upload_api_role_arn" {
  description = "ARN of the upload API's execution role."
  value       = aws_iam_role.upload_api.arn
}

output "upload_api_role_name" {
  description = "Name of the upload API's execution role."
  value       = aws_iam_role.upload_api.name
}

output "processor_role_arn" {
  description = "ARN of the processor's execution role."
  value       = aws_iam_role.processor.arn
}

output "processor_role_name" {
  description = "Name of the processor's execution role."
  value       = aws_iam_role.processor.name
}

output "upload_api_log_group_name" {
  description = "Log group of the upload API function."
  value       = aws_cloudwatch_log_group.upload_api.name
}

output "processor_log_group_name" {
  description = "Log group of the processor function."
  value       = aws_cloudwatch_log_group.processor.name
}
