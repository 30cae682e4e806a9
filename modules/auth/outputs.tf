output "user_pool_id" {
  description = "ID of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "issuer_url" {
  description = "Token issuer (iss claim) of the pool: https://cognito-idp.<region>.amazonaws.com/<pool id>."
  value       = "https://cognito-idp.${data.aws_region.current.id}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "app_client_id" {
  description = "ID of the app client (no secret)."
  value       = aws_cognito_user_pool_client.this.id
}
