output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "stream_arn" {
  description = "ARN of the table's stream (NEW_IMAGE)."
  value       = aws_dynamodb_table.this.stream_arn
}

output "owner_index_name" {
  description = "Name of the GSI that lists one owner's files by created_at."
  value       = var.keys.owner_index.name
}

output "owner_index_arn" {
  description = "ARN of the owner index, for IAM policies that allow Query on it."
  value       = "${aws_dynamodb_table.this.arn}/index/${var.keys.owner_index.name}"
}
