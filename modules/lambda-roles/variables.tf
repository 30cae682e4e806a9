variable "name_prefix" {
  description = "Prefix of role and function names, <project>-<env>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "upload_api_function_name" {
  description = "Name of the upload API function (created later by SAM)."
  type        = string
}

variable "processor_function_name" {
  description = "Name of the processor function (created later by SAM)."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the upload bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN."
  }
}

variable "upload_prefix" {
  description = "Key prefix the functions may touch, without trailing slash."
  type        = string
  default     = "uploads"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.upload_prefix))
    error_message = "upload_prefix must be a single non-empty path segment."
  }
}

variable "table_arn" {
  description = "ARN of the metadata table."
  type        = string
}

variable "pending_table_arn" {
  description = "ARN of the pending direct-uploads table."
  type        = string
}

variable "usage_table_arn" {
  description = "ARN of the per-user usage table (the quota counters)."
  type        = string
}

variable "owner_index_arn" {
  description = "ARN of the GSI the upload API queries to list a user's files."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the environment's key."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary every role of this module carries (modules/permissions-boundary); the Terraform role may only create roles that carry it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Tags for roles and log groups."
  type        = map(string)
  default     = {}
}
