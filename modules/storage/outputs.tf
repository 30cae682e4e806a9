output "bucket_name" {
  description = "Name of the upload bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the upload bucket."
  value       = aws_s3_bucket.this.arn
}

output "access_log_bucket_name" {
  description = "Name of the S3 server access-log bucket."
  value       = aws_s3_bucket.access_logs.bucket
}

output "access_log_bucket_arn" {
  description = "ARN of the S3 server access-log bucket."
  value       = aws_s3_bucket.access_logs.arn
}
