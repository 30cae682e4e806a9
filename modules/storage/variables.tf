variable "name_prefix" {
  description = "Prefix of the bucket names, <project>-<env>; buckets are <name_prefix>-uploads-<account> and <name_prefix>-access-logs-<account>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts uploads; the bucket policy rejects uploads under any other key."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions of uploads are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 1
}

variable "access_log_retention_days" {
  description = "Days the S3 server access logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Allow destroying the buckets while they hold objects. Leave false outside throw-away environments."
  type        = bool
  default     = false
}

variable "object_reader_role_arns" {
  description = "The only roles that may read uploaded objects (the two functions and the break-glass role)."
  type        = list(string)

  validation {
    condition     = length(var.object_reader_role_arns) > 0 && !contains(var.object_reader_role_arns, "*")
    error_message = "object_reader_role_arns must name roles, never \"*\"."
  }
}

variable "malware_scan" {
  description = "GuardDuty Malware Protection's verdict tag on uploads (key, clean and threats-found values, from the data contract) and its scanner's role (see modules/secure-bucket): the bucket policy lets nobody but the scanner read an object not tagged clean. null when uploads are not scanned."
  type = object({
    tag_key          = string
    clean            = string
    threats_found    = string
    scanner_role_arn = string
  })
  default = null
}

variable "cors_allowed_origins" {
  description = "Browser origins (the web app's) whose pages may send the direct-upload protocol's presigned requests to the upload bucket; empty: no CORS, browsers refuse them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.cors_allowed_origins : !strcontains(origin, "*")])
    error_message = "cors_allowed_origins names each origin: no wildcard."
  }
}

variable "tags" {
  description = "Tags for the buckets."
  type        = map(string)
  default     = {}
}
