variable "account_id" {
  description = "The only AWS account this root may touch."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "environment" {
  description = "Environment name: dev, stage or prod."
  type        = string
}

variable "owner" {
  description = "Team that owns the environment (owner tag)."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (<org>/<repo>) trusted by the deploy and plan roles."
  type        = string
}

variable "state_bucket_name" {
  description = "State bucket created by the bootstrap root (must match backend.tf)."
  type        = string
}

variable "state_kms_key_alias" {
  description = "Alias of the state bucket's key (must match backend.tf)."
  type        = string
}

variable "deletion_protection" {
  description = "Deletion protection on the metadata table and the user pool."
  type        = bool
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy non-empty buckets."
  type        = bool
}

variable "mfa_configuration" {
  description = "Cognito MFA: OPTIONAL or ON."
  type        = string
}

variable "explicit_auth_flows" {
  description = "Authentication flows of the Cognito app client."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of every log group."
  type        = number
}

variable "access_log_retention_days" {
  description = "Retention of S3 server access logs in days."
  type        = number
}

variable "noncurrent_version_expiration_days" {
  description = "Days noncurrent versions of uploads are kept."
  type        = number
}

variable "alarm_email" {
  description = "E-mail address for alarms, or null."
  type        = string
}

variable "state_machine_type" {
  description = "STANDARD or EXPRESS."
  type        = string
}

variable "plan_on_pull_requests" {
  description = "Pull requests may plan this environment (read-only plan role)."
  type        = bool
}

variable "web_api_url" {
  description = "The HTTP API's URL (SAM stack output ApiEndpoint) the web app calls; \"\" until the first sam deploy, and no web app until set."
  type        = string
}
