output "bucket_name" {
  description = "Name of the upload bucket."
  value       = module.upload_bucket.id
}

output "bucket_arn" {
  description = "ARN of the upload bucket."
  value       = module.upload_bucket.arn
}

output "access_log_bucket_name" {
  description = "Name of the S3 server access-log bucket."
  value       = module.access_log_bucket.id
}

output "access_log_bucket_arn" {
  description = "ARN of the S3 server access-log bucket."
  value       = module.access_log_bucket.arn
}
