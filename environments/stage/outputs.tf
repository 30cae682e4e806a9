output "github_deploy_role_arn" {
  description = "Set as the GitHub environment's deploy role (AWS_DEPLOY_ROLE_ARN)."
  value       = module.platform.github_deploy_role_arn
}

output "github_terraform_role_arn" {
  description = "Set as the GitHub environment's Terraform role (AWS_TERRAFORM_ROLE_ARN)."
  value       = module.platform.github_terraform_role_arn
}

output "github_smoke_role_arn" {
  description = "Set as the GitHub environment's smoke-test role (AWS_SMOKE_ROLE_ARN)."
  value       = module.platform.github_smoke_role_arn
}

output "github_plan_role_arn" {
  description = "Role pull-request plan jobs assume."
  value       = module.platform.github_plan_role_arn
}

output "ssm_parameter_names" {
  description = "SSM parameters the SAM template reads."
  value       = module.platform.ssm_parameter_names
}

# The names the original usage guide reads with `terraform output` (the same
# values are published in SSM for SAM). The API endpoint is SAM's: see the
# stack output ApiEndpoint of secure-upload-<env>-app.
output "s3_bucket_name" {
  description = "Upload bucket (SSM upload-bucket-name)."
  value       = module.platform.upload_bucket_name
}

output "dynamodb_table_name" {
  description = "Metadata table (SSM files-table-name)."
  value       = module.platform.files_table_name
}

output "cognito_user_pool_id" {
  description = "Cognito user pool (SSM cognito-user-pool-id)."
  value       = module.platform.cognito_user_pool_id
}

output "cognito_app_client_id" {
  description = "Cognito app client (SSM cognito-app-client-id)."
  value       = module.platform.cognito_app_client_id
}

output "sfn_state_machine_arn" {
  description = "Processing state machine."
  value       = module.platform.state_machine_arn
}

output "web_url" {
  description = "Where users open the web app, or null until web_api_url is set."
  value       = module.platform.web_url
}

output "web_bucket_name" {
  description = "Bucket the web app's files are deployed to, or null until web_api_url is set."
  value       = module.platform.web_bucket_name
}
