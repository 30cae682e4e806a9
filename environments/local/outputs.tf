output "ssm_parameter_names" {
  description = "SSM parameters the local stack reads, as the SAM template does on AWS."
  value       = module.platform.ssm_parameter_names
}

# The names the original usage guide reads with `terraform output`, as on dev,
# stage and prod. The local API endpoint is http://127.0.0.1:8000 (uvicorn).
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

output "web_response_headers_policy_id" {
  description = "The web app's response-headers policy in the emulator: the local stack serves the app with its headers, as CloudFront does on AWS."
  value       = module.platform.web_response_headers_policy_id
}
