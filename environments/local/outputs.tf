output "ssm_parameter_names" {
  description = "SSM parameters the local stack reads, as the SAM template does on AWS."
  value       = module.platform.ssm_parameter_names
}
