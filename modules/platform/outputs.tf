output "kms_key_arn" {
  description = "ARN of the environment key."
  value       = module.kms.key_arn
}

output "upload_bucket_name" {
  description = "Name of the upload bucket."
  value       = module.storage.bucket_name
}

output "files_table_name" {
  description = "Name of the metadata table."
  value       = module.metadata_table.table_name
}

output "cognito_user_pool_id" {
  description = "ID of the Cognito user pool."
  value       = module.auth.user_pool_id
}

output "cognito_app_client_id" {
  description = "ID of the Cognito app client."
  value       = module.auth.app_client_id
}

output "state_machine_arn" {
  description = "ARN of the processing state machine."
  value       = module.pipeline.state_machine_arn
}

output "alarm_topic_arn" {
  description = "ARN of the alarm topic."
  value       = module.observability.topic_arn
}

output "github_deploy_role_arn" {
  description = "Role ARN to set as the GitHub environment's deploy role (AWS_DEPLOY_ROLE_ARN)."
  value       = module.github_oidc.deploy_role_arn
}

output "github_terraform_role_arn" {
  description = "Role ARN to set as the GitHub environment's Terraform role (AWS_TERRAFORM_ROLE_ARN)."
  value       = module.github_oidc.terraform_role_arn
}

output "github_plan_role_arn" {
  description = "Role ARN that pull-request plans and the deploy workflow's plan job assume (AWS_PLAN_ROLE_ARN_<ENV>)."
  value       = module.github_oidc.plan_role_arn
}

output "ssm_parameter_names" {
  description = "Names of the SSM parameters the SAM template reads."
  value       = sort([for p in aws_ssm_parameter.this : p.name])
}

output "github_smoke_role_arn" {
  description = "Role ARN to set as the GitHub environment's smoke-test role (AWS_SMOKE_ROLE_ARN)."
  value       = module.github_oidc.smoke_role_arn
}

output "web_url" {
  description = "Where users open the web app (https://<CloudFront domain>/), or null before web_api_url is set."
  value       = one(module.web[*].web_url)
}

output "web_bucket_name" {
  description = "Bucket the web app's files are deployed to, or null before web_api_url is set."
  value       = one(module.web[*].bucket_name)
}

output "web_response_headers_policy_id" {
  description = "CloudFront response-headers policy of the web app (its CSP and other security headers), or null before web_api_url is set."
  value       = one(module.web[*].response_headers_policy_id)
}
