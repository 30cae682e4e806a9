variable "name_prefix" {
  description = "Prefix of role names and of the resources the deploy and Terraform roles may manage, <project>-<env>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "environment" {
  description = "GitHub environment whose jobs on main may assume the deploy, Terraform (deploy-environment.yml) and smoke (smoke-environment.yml) roles; also the value of the environment tag (provider default_tags, SAM template) that selects the environment's KMS key, user pool and HTTP API."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.environment))
    error_message = "environment must be a plain GitHub environment name (no wildcards)."
  }
}

variable "github_repository" {
  description = "GitHub repository as <org>/<repo>; the only repository trusted."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be <org>/<repo> without wildcards."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the account's GitHub OIDC provider (created by the bootstrap root)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be the token.actions.githubusercontent.com provider ARN."
  }
}

variable "lambda_role_arns" {
  description = "Execution roles the deploy role may pass to Lambda."
  type        = list(string)
}

variable "ecr_repository_arns" {
  description = "Repositories the deploy role may push to and pull from."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "ARN of the environment's key (ECR layers, Lambda environment variables, resources Terraform encrypts)."
  type        = string
}

variable "user_pool_arn" {
  description = "ARN of the environment's Cognito user pool."
  type        = string
}

variable "ssm_parameter_path" {
  description = "Path of the SSM parameters Terraform publishes for SAM, /<project>/<env> (no trailing slash)."
  type        = string

  validation {
    condition     = can(regex("^(/[a-z0-9][a-z0-9-]*)+$", var.ssm_parameter_path))
    error_message = "ssm_parameter_path must look like /secure-upload/dev (no trailing slash, no wildcards)."
  }
}

variable "protected_data_arns" {
  description = "Bucket and table ARNs whose contents (objects; items, index and stream records under <table arn>/*) the plan and Terraform roles must never read."
  type        = list(string)
}

variable "state_bucket_name" {
  description = "Terraform state bucket (from the bootstrap root)."
  type        = string
}

variable "state_key" {
  description = "Object key of this environment's state in the state bucket."
  type        = string
}

variable "state_kms_key_alias" {
  description = "Alias of the key that encrypts the state bucket, e.g. alias/secure-upload-tfstate."
  type        = string

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]+$", var.state_kms_key_alias))
    error_message = "state_kms_key_alias must look like alias/<name>."
  }
}

variable "max_session_duration" {
  description = "Maximum session length of the deploy, Terraform, plan and smoke roles in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 900 && var.max_session_duration <= 7200
    error_message = "max_session_duration must be between 900 and 7200."
  }
}

variable "permissions_boundary_arn" {
  description = "The boundary every role the Terraform role creates or changes must carry (modules/permissions-boundary)."
  type        = string
}

variable "data_role_arns" {
  description = "Roles named in the boundary, key and bucket policies as readers of upload data or users of the key: the Terraform role may not delete them."
  type        = list(string)
}

variable "plan_on_pull_requests" {
  description = "Let pull-request runs of the plan workflow assume the plan role (dev only: pull-request code runs with it)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the roles and the guard-rail policy."
  type        = map(string)
  default     = {}
}
