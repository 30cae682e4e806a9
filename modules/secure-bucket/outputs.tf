output "id" {
  description = "Name of the bucket, once its policy is in place (log delivery to a target bucket needs the policy first)."
  value       = aws_s3_bucket.this.bucket

  depends_on = [aws_s3_bucket_policy.this]
}

output "arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "object_lock" {
  description = "The Object Lock default retention in force ({mode, days, years}), or null without Object Lock."
  value       = one([for lock in aws_s3_bucket_object_lock_configuration.this : one(one(lock.rule).default_retention)])
}
