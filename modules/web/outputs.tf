output "web_url" {
  description = "Where users open the app: https://<distribution domain>/."
  value       = "https://${aws_cloudfront_distribution.this.domain_name}/"
}

output "web_origin" {
  description = "The app's origin, https://<distribution domain>: the one origin the API's and the upload bucket's CORS allow."
  value       = "https://${aws_cloudfront_distribution.this.domain_name}"
}

output "bucket_name" {
  description = "Name of the bucket the app's files are deployed to."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket the app's files are deployed to."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the app's files (whoever deploys them uses it through S3)."
  value       = aws_kms_key.this.arn
}

output "distribution_id" {
  description = "ID of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "response_headers_policy_id" {
  description = "ID of the response-headers policy (CSP, HSTS, nosniff, frame and referrer policies); the local stack serves the app with its headers."
  value       = aws_cloudfront_response_headers_policy.this.id
}
