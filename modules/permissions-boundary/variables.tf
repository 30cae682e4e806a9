variable "name_prefix" {
  description = "Prefix of every name, <project>-<env>: the policy is <prefix>-workload-boundary."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "workload_resource_arns" {
  description = "ARN patterns of this environment's resources the workload roles act on (buckets, table, key, functions, state machine, queue, log groups)."
  type        = list(string)

  validation {
    condition     = length(var.workload_resource_arns) > 0 && alltrue([for arn in var.workload_resource_arns : can(regex("^arn:aws[a-z-]*:", arn)) && arn != "*"])
    error_message = "workload_resource_arns must be ARNs (patterns allowed), never \"*\"."
  }
}

variable "protected_data_arns" {
  description = "Bucket and table ARNs whose contents (objects, items, stream records) only the data readers may read."
  type        = list(string)
}

variable "data_reader_role_arns" {
  description = "Roles that read upload data by design (the two functions and the Pipe, which reads the stream)."
  type        = list(string)

  validation {
    condition     = length(var.data_reader_role_arns) > 0
    error_message = "At least one role must be able to read upload data."
  }
}

variable "key_user_role_arns" {
  description = "Roles that decrypt with the environment key by design."
  type        = list(string)
}

variable "malware_scan_rule_arn" {
  description = "ARN pattern of the EventBridge rule GuardDuty Malware Protection manages for the environment's scanner role (modules/malware-protection)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[^:]+:[0-9]{12}:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3", var.malware_scan_rule_arn))
    error_message = "malware_scan_rule_arn must be GuardDuty's DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3 rule of this account."
  }
}

variable "tags" {
  description = "Tags for the policy."
  type        = map(string)
  default     = {}
}
