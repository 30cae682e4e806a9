output "github_deploy_role_arn" {
  description = "Set as the GitHub environment's deploy role (AWS_DEPLOY_ROLE_ARN)."
  value       = module.platform.github_deploy_role_arn
}

output "github_terraform_role_arn" {
  description = "Set as the GitHub environment's Terraform role (AWS_TERRAFORM_ROLE_ARN)."
  value       = module.platform.github_terraform_role_arn
}

output "github_plan_role_arn" {
  description = "Role pull-request plan jobs assume."
  value       = module.platform.github_plan_role_arn
}

output "ssm_parameter_names" {
  description = "SSM parameters the SAM template reads."
  value       = module.platform.ssm_parameter_names
}
