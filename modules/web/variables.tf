variable "name_prefix" {
  description = "Prefix of every name, <project>-<env>; the bucket is <name_prefix>-web-<account>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

# The three origins below are the app's whole connect-src: each must be an
# origin (scheme, host, optional port; no path), https, or http on loopback
# for the local stack's emulator.

variable "api_url" {
  description = "Base URL of the environment's HTTP API (the SAM stack's output ApiEndpoint), an origin without a path: config.json's apiUrl and an origin of the CSP's connect-src."
  type        = string

  validation {
    condition     = can(regex("^(https://[a-z0-9.-]+|http://(127\\.0\\.0\\.1|localhost))(:[0-9]+)?$", var.api_url))
    error_message = "api_url must be an origin: https://<host>[:port], or http://127.0.0.1:<port> for the local stack; no path, no trailing slash."
  }
}

variable "cognito_endpoint" {
  description = "Where the browser calls Cognito's user-pool API to sign in (https://cognito-idp.<region>.amazonaws.com on AWS): config.json's cognitoEndpoint and an origin of the CSP's connect-src."
  type        = string

  validation {
    condition     = can(regex("^(https://[a-z0-9.-]+|http://(127\\.0\\.0\\.1|localhost))(:[0-9]+)?$", var.cognito_endpoint))
    error_message = "cognito_endpoint must be an origin: https://<host>[:port], or http://127.0.0.1:<port> for the local stack."
  }
}

variable "upload_bucket_origin" {
  description = "The origin of the upload bucket's presigned URLs, which the browser PUTs file parts to (https://<bucket>.s3.<region>.amazonaws.com on AWS): an origin of the CSP's connect-src."
  type        = string

  validation {
    condition     = can(regex("^(https://[a-z0-9.-]+|http://(127\\.0\\.0\\.1|localhost))(:[0-9]+)?$", var.upload_bucket_origin))
    error_message = "upload_bucket_origin must be an origin: https://<host>[:port], or http://127.0.0.1:<port> for the local stack."
  }
}

variable "user_pool_client_id" {
  description = "The Cognito app client the app signs users in with: config.json's userPoolClientId."
  type        = string

  validation {
    condition     = length(var.user_pool_client_id) > 0
    error_message = "user_pool_client_id must name the app client."
  }
}

variable "key_user_role_arns" {
  description = "The only IAM roles that may decrypt with the web bucket's key (who deploys the app's files, break-glass); patterns allowed. CloudFront decrypts for this module's distribution only, through its own key-policy statement."
  type        = list(string)

  validation {
    condition     = length(var.key_user_role_arns) > 0 && !contains(var.key_user_role_arns, "*")
    error_message = "key_user_role_arns must name roles, never \"*\"."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion of the web bucket's key (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted file of the app is kept (a previous release to roll back to)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it holds files. Leave false outside throw-away environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
