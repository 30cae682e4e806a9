variable "name_prefix" {
  description = "Prefix of every name, <project>-<env>: the policy is <prefix>-workload-boundary; log groups and tables are matched as <prefix>-*."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "workload_roles" {
  description = "ARNs of the five workload roles, each named in the exceptions it needs: upload_api and processor (the functions), state_machine (processing-sfn), pipe (files-stream-pipe), malware_scan (GuardDuty's scanner). Every other role that carries the boundary gets none of them."
  type = object({
    upload_api    = string
    processor     = string
    state_machine = string
    pipe          = string
    malware_scan  = string
  })

  validation {
    condition     = alltrue([for arn in values(var.workload_roles) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]+$", arn))])
    error_message = "workload_roles must be role ARNs without wildcards: an exception names one role."
  }
}

variable "upload_bucket_arn" {
  description = "ARN of the upload bucket, the only bucket whose objects a workload role may touch."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]+$", var.upload_bucket_arn))
    error_message = "upload_bucket_arn must be one bucket's ARN, without wildcards."
  }
}

variable "files_table_arn" {
  description = "ARN of the files table, whose stream the Pipe reads."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.files_table_arn))
    error_message = "files_table_arn must be one table's ARN, without wildcards."
  }
}

variable "processor_function_arn" {
  description = "Unqualified ARN of the processor function, the only function the state machine role may invoke."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.processor_function_arn))
    error_message = "processor_function_arn must be an unqualified Lambda function ARN."
  }
}

variable "state_machine_arn" {
  description = "ARN of the processing state machine, the only one the Pipe role may start."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]+$", var.state_machine_arn))
    error_message = "state_machine_arn must be one state machine's ARN, without wildcards."
  }
}

variable "dead_letter_queue_arns" {
  description = "ARNs of the dead-letter queues, the only queues the Pipe role may send to."
  type        = list(string)

  validation {
    condition     = length(var.dead_letter_queue_arns) > 0 && alltrue([for arn in var.dead_letter_queue_arns : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", arn))])
    error_message = "dead_letter_queue_arns must be queue ARNs without wildcards."
  }
}

variable "file_events_bus_arn" {
  description = "ARN of the file-events bus, the only bus the state machine role may publish to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.file_events_bus_arn))
    error_message = "file_events_bus_arn must be one event bus ARN, without wildcards."
  }
}

variable "state_machine_item_attributes" {
  description = "The item attributes the state machine role may name in an UpdateItem (dynamodb:Attributes): the table's key and the status attributes the state machine writes (modules/pipeline output state_machine_item_attributes)."
  type        = list(string)

  validation {
    condition     = length(var.state_machine_item_attributes) > 0 && alltrue([for name in var.state_machine_item_attributes : can(regex("^[A-Za-z0-9_.-]+$", name))])
    error_message = "state_machine_item_attributes must be plain attribute names."
  }
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
