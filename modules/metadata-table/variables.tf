variable "name" {
  description = "Table name, <project>-<env>-files."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be a valid DynamoDB table name."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the table and its stream."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "deletion_protection_enabled" {
  description = "Block table deletion (turn on for every environment that holds real data)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the table."
  type        = map(string)
  default     = {}
}
