output "policy_arn" {
  description = "ARN of the permissions boundary; every role the Terraform role creates must carry it."
  value       = aws_iam_policy.this.arn
}

output "policy" {
  description = "The boundary's policy document (JSON), for tests and reviews."
  value       = data.aws_iam_policy_document.this.json
}
