variable "name" {
  description = "Table name, <project>-<env>-<what it holds>."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be a valid DynamoDB table name."
  }
}

variable "keys" {
  description = "From the data contract (services/contract/upload_contract/contract.json): the string hash key, and the TTL attribute (null: records do not expire)."
  type = object({
    hash_key      = string
    ttl_attribute = optional(string)
  })
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the table."
  type        = string
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
