variable "account_id" {
  description = "The AWS account being bootstrapped (one of dev, stage, prod)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "Region of the state bucket (the environments' backend.tf must match)."
  type        = string
}

variable "environment" {
  description = "Environment the account hosts: dev, stage or prod."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "owner" {
  description = "Team that owns the account (owner tag)."
  type        = string
}

variable "state_version_retention_days" {
  description = "Days noncurrent state versions are kept (the history to roll back to)."
  type        = number
  default     = 90
}

variable "state_administrator_role_arns" {
  description = "Roles of the people who bootstrap and apply by hand (ARN patterns allowed): with the GitHub Terraform and plan roles and the break-glass role, the only principals that decrypt state; and the administrators of the audit trail (its key and bucket), who read its logs."
  type        = list(string)

  validation {
    condition     = length(var.state_administrator_role_arns) > 0 && !contains(var.state_administrator_role_arns, "*")
    error_message = "Name at least one administrator role, and never \"*\": the key policy would lock everyone else out of state."
  }
}

variable "audit_alert_email_addresses" {
  description = "Who the audit alarms reach (trail stopped or changed, bucket, key, boundary, trust or auth-parameter changes): each address is subscribed to secure-upload-audit-alerts and must confirm once."
  type        = list(string)

  validation {
    condition     = length(var.audit_alert_email_addresses) > 0
    error_message = "Name at least one address: an alarm nobody receives is silence."
  }
}

variable "audit_reader_role_arns" {
  description = "Roles that may read the audit logs besides the administrators (state_administrator_role_arns) and break-glass, e.g. a security team's role (ARN patterns allowed)."
  type        = list(string)
  default     = []
}

variable "audit_retention_days" {
  description = "Days the trail's log and digest files are kept, locked by Object Lock for that long."
  type        = number
  default     = 365
}

variable "audit_object_lock_mode" {
  description = "Object Lock mode of the trail's bucket: COMPLIANCE (nobody, root included, deletes a log file early) or GOVERNANCE (the administrators can, with s3:BypassGovernanceRetention)."
  type        = string
  default     = "COMPLIANCE"
}
