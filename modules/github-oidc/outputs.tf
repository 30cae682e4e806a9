output "deploy_role_arn" {
  description = "ARN of the role deployment jobs of the GitHub environment assume."
  value       = aws_iam_role.deploy.arn
}

output "terraform_role_arn" {
  description = "ARN of the role the GitHub environment's Terraform apply assumes (AWS_TERRAFORM_ROLE_ARN)."
  value       = aws_iam_role.terraform.arn
}

output "plan_role_arn" {
  description = "ARN of the read-only role that pull-request plans and the deploy workflow's plan job assume."
  value       = aws_iam_role.plan.arn
}

output "smoke_role_arn" {
  description = "ARN of the role the promotion workflow's smoke test assumes (AWS_SMOKE_ROLE_ARN)."
  value       = aws_iam_role.smoke.arn
}
