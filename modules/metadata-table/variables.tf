variable "name" {
  description = "Table name, <project>-<env>-files."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be a valid DynamoDB table name."
  }
}

variable "keys" {
  description = "Key schema from the data contract (services/contract/upload_contract/contract.json, its `table` object): string hash key, owner index and stream view type."
  type = object({
    hash_key = string
    owner_index = object({
      name      = string
      hash_key  = string
      range_key = string
    })
    stream_view_type = string
  })

  validation {
    condition     = var.keys.stream_view_type == "NEW_IMAGE"
    error_message = "The Pipe hands the processor the whole new item: stream_view_type must be NEW_IMAGE."
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
