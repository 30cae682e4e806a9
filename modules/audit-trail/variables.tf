variable "project" {
  description = "Project name. Everything is named <project>-audit-*, the prefix the CI roles' guard rails protect; the alarms watch /<project>/<environment>/* parameters and the boundary and guard-rail policies."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "project must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment the account hosts: dev, stage or prod (the alarms watch the parameters under /<project>/<environment>/)."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "administrator_arns" {
  description = "Roles of the account's administrators (ARN patterns allowed): the only principals that administer the trail's key, change the trail bucket's protections and, with reader_arns, decrypt the logs. Enforced by the key and bucket policies, whatever an IAM policy says."
  type        = list(string)

  validation {
    condition     = length(var.administrator_arns) > 0 && !contains(var.administrator_arns, "*")
    error_message = "Name at least one administrator role, and never \"*\": the key and bucket policies would lock everyone else out."
  }
}

variable "reader_arns" {
  description = "Further principals that may read and decrypt the logs (the break-glass role, a security team's role); ARN patterns allowed."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.reader_arns, "*")
    error_message = "reader_arns must name principals, never \"*\"."
  }
}

variable "alert_email_addresses" {
  description = "Who the alarms reach: each address gets an e-mail subscription to <project>-audit-alerts (AWS sends a confirmation link first)."
  type        = list(string)

  validation {
    condition     = length(var.alert_email_addresses) > 0 && alltrue([for a in var.alert_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", a))])
    error_message = "Name at least one e-mail address: an alarm nobody receives is silence."
  }
}

variable "s3_data_event_buckets" {
  description = "Buckets whose object-level calls (reads and writes) the trail records as data events: the environment's upload bucket. The bucket need not exist yet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for b in var.s3_data_event_buckets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "s3_data_event_buckets must be bucket names (no wildcard, no ARN)."
  }
}

variable "dynamodb_data_event_tables" {
  description = "DynamoDB tables (names, in this account and region) whose item-level calls the trail records as data events: the files table, whose items point at users' objects. The table need not exist yet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.dynamodb_data_event_tables : can(regex("^[A-Za-z0-9_.-]{3,255}$", t))])
    error_message = "dynamodb_data_event_tables must be table names (no wildcard, no ARN)."
  }
}

variable "retention_days" {
  description = "Days every log file and digest is kept, locked by Object Lock for that long and then expired."
  type        = number
  default     = 365

  validation {
    condition     = var.retention_days >= 90 && var.retention_days <= 3650
    error_message = "retention_days must be between 90 and 3650: an investigation needs months of history."
  }
}

variable "object_lock_mode" {
  description = "COMPLIANCE: nobody, the account root included, can delete or overwrite a log file before retention_days. GOVERNANCE: administrator_arns (only they, by the bucket policy) can, with s3:BypassGovernanceRetention."
  type        = string
  default     = "COMPLIANCE"

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be COMPLIANCE or GOVERNANCE."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the trail's key is deleted once scheduled (the data-protection alarm fires on ScheduleKeyDeletion)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags apply too)."
  type        = map(string)
  default     = {}
}
