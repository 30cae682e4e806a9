variable "name_prefix" {
  description = "Prefix of the rule name, <project>-<env>."
  type        = string
}

variable "bucket_name" {
  description = "The upload bucket, whose EventBridge notifications are on."
  type        = string
}

variable "upload_prefix" {
  description = "Key prefix of uploaded objects, with its trailing slash."
  type        = string
  default     = "uploads/"

  validation {
    condition     = endswith(var.upload_prefix, "/")
    error_message = "upload_prefix must end with /."
  }
}

variable "function_arn" {
  description = "ARN of the upload API function (created later by SAM under a fixed name)."
  type        = string
}

variable "tags" {
  description = "Tags for the rule."
  type        = map(string)
  default     = {}
}
