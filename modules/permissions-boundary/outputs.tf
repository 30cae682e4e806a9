output "policy_arn" {
  description = "ARN of the permissions boundary; every role the Terraform role creates must carry it."
  value       = aws_iam_policy.this.arn
}
