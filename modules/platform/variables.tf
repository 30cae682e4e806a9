variable "project" {
  description = "Project name; prefixes every resource name and the SSM parameter path."
  type        = string
  default     = "secure-upload"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.project))
    error_message = "project must be 3-21 lowercase letters, digits or hyphens."
  }
}

variable "environment" {
  description = "Environment name: dev, stage or prod on AWS; local for the emulator root (environments/local)."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod", "local"], var.environment)
    error_message = "environment must be dev, stage, prod or local."
  }
}

variable "github_repository" {
  description = "GitHub repository (<org>/<repo>) whose workflows may assume the deploy, Terraform and plan roles."
  type        = string
}

variable "state_bucket_name" {
  description = "Terraform state bucket of this account (output of the bootstrap root)."
  type        = string
}

variable "state_kms_key_alias" {
  description = "Alias of the key encrypting the state bucket (created by the bootstrap root)."
  type        = string
}

variable "deletion_protection" {
  description = "Deletion protection on the metadata table and the user pool."
  type        = bool
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy non-empty buckets. Only for throw-away environments, and only by a person: the GitHub Terraform role may not delete objects."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion of the environment key."
  type        = number
  default     = 30
}

variable "mfa_configuration" {
  description = "Cognito MFA: OPTIONAL or ON."
  type        = string

  validation {
    condition     = contains(["OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OPTIONAL or ON; MFA cannot be turned off."
  }
}

variable "self_signup_enabled" {
  description = "Allow Cognito self sign-up."
  type        = bool
  default     = false
}

variable "threat_protection_mode" {
  description = "Cognito threat protection mode: AUDIT or ENFORCED."
  type        = string
  default     = "ENFORCED"
}

variable "explicit_auth_flows" {
  description = "Authentication flows of the Cognito app client."
  type        = list(string)
  default     = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
}

variable "log_retention_days" {
  description = "Retention of every log group of the environment."
  type        = number
}

variable "access_log_retention_days" {
  description = "Retention of S3 server access logs in days."
  type        = number
  default     = 90
}

variable "noncurrent_version_expiration_days" {
  description = "Days noncurrent versions of uploaded objects are kept."
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic, or null."
  type        = string
  default     = null
}

variable "state_machine_type" {
  description = "Type of the processing state machine: STANDARD or EXPRESS."
  type        = string
  default     = "STANDARD"
}

variable "malware_scan_wait" {
  description = "How long an execution waits for the malware scan's verdict (see modules/pipeline); null keeps the pipeline's default of about 11 minutes."
  type = object({
    interval_seconds  = number
    backoff_rate      = number
    max_attempts      = number
    max_delay_seconds = number
  })
  default = null
}

variable "pipe_batch_size" {
  description = "Stream records per state machine execution."
  type        = number
  default     = 10
}

variable "ecr_keep_tagged_images" {
  description = "Tagged images kept per repository."
  type        = number
  default     = 30
}

variable "plan_on_pull_requests" {
  description = "Pull requests may plan this environment with its read-only plan role (dev only; stage and prod are planned by the promotion workflow on main)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource (the roots set project/environment/owner as provider default tags)."
  type        = map(string)
  default     = {}
}

variable "web_api_url" {
  description = "Base URL of this environment's HTTP API (the SAM stack's output ApiEndpoint, no path), which the web app calls. Empty: no web app yet (the API exists only after the first sam deploy); set it, and apply again."
  type        = string
  default     = ""
}

variable "web_local_stack" {
  description = "environments/local only: the origin the local stack serves the web app from (in place of CloudFront's) and the emulator's URL, where the browser reaches Cognito and S3 (in place of AWS's regional endpoints). null on AWS."
  type = object({
    origin            = string
    emulator_endpoint = string
  })
  default = null

  validation {
    condition = var.web_local_stack == null || alltrue([
      for url in [try(var.web_local_stack.origin, ""), try(var.web_local_stack.emulator_endpoint, "")] : can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", url))
    ])
    error_message = "web_local_stack names loopback origins only (http://127.0.0.1:<port>): it is for the local stack."
  }
}
