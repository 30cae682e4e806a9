variable "name_prefix" {
  description = "Prefix of every name, <project>-<env>: Pipe <prefix>-files-stream, state machine <prefix>-processing."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "table_name" {
  description = "Name of the metadata table; the state machine's Catch marks items FAILED there."
  type        = string
}

variable "table_arn" {
  description = "ARN of the metadata table."
  type        = string
}

variable "stream_arn" {
  description = "ARN of the table's stream, the Pipe's only source."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+/stream/.+$", var.stream_arn))
    error_message = "stream_arn must be a DynamoDB stream ARN."
  }
}

variable "processor_function_arn" {
  description = "Unqualified ARN of the processor function (deterministic name; SAM creates the function later)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.processor_function_arn))
    error_message = "processor_function_arn must be an unqualified Lambda function ARN."
  }
}

variable "contract" {
  description = "The data contract (services/contract/upload_contract/contract.json): the table's hash key, the processor record's key and image paths, the status values the state machine writes or publishes, and the outcome event's source and detail type."
  type = object({
    table            = object({ hash_key = string })
    processor_record = object({ key_path = string, image_path = string })
    status           = object({ uploaded = string, processed = string, failed = string, quarantined = string })
    outcome_event    = object({ source = string, detail_type = string })
  })
}

variable "kms_key_arn" {
  description = "ARN of the environment's key (queue, logs, Pipe and state machine encryption)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "state_machine_type" {
  description = "STANDARD (exactly-once steps, execution history) or EXPRESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.state_machine_type)
    error_message = "state_machine_type must be STANDARD or EXPRESS."
  }
}

variable "state_machine_log_level" {
  description = "Execution log level: ALL or ERROR (FATAL and OFF would hide failed executions)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL or ERROR."
  }
}

variable "batch_size" {
  description = "Stream records the Pipe hands to one execution."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 100
    error_message = "batch_size must be between 1 and 100."
  }
}

variable "malware_scan_wait" {
  description = "How long an execution waits for the malware scan's verdict on an object before marking the file FAILED: the processor is retried after interval_seconds, each wait backoff_rate times the last (at most max_delay_seconds), max_attempts times. The default waits about 11 minutes in all, for scans of objects up to the API's 5 GiB."
  type = object({
    interval_seconds  = number
    backoff_rate      = number
    max_attempts      = number
    max_delay_seconds = number
  })
  default = {
    interval_seconds  = 10
    backoff_rate      = 1.5
    max_attempts      = 10
    max_delay_seconds = 120
  }
  nullable = false

  validation {
    condition = (
      var.malware_scan_wait.interval_seconds >= 1 && var.malware_scan_wait.backoff_rate >= 1 &&
      floor(var.malware_scan_wait.interval_seconds) == var.malware_scan_wait.interval_seconds &&
      floor(var.malware_scan_wait.max_delay_seconds) == var.malware_scan_wait.max_delay_seconds &&
      floor(var.malware_scan_wait.max_attempts) == var.malware_scan_wait.max_attempts &&
      var.malware_scan_wait.max_attempts >= 1 && var.malware_scan_wait.max_attempts <= 99 &&
      var.malware_scan_wait.max_delay_seconds >= var.malware_scan_wait.interval_seconds
    )
    error_message = "malware_scan_wait needs whole seconds, interval_seconds >= 1, backoff_rate >= 1, max_attempts a whole number 1-99 and max_delay_seconds >= interval_seconds (a wait that always ends)."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a batch whose StartExecution fails before it goes to the dead-letter queue (finite; the default is infinite). Processing failures inside an execution are not retried here."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10
    error_message = "maximum_retry_attempts must be between 0 and 10."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Age after which a record that could not start an execution is sent to the dead-letter queue (finite; the default is infinite); also caps how far back a TRIM_HORIZON start replays."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 86400
    error_message = "maximum_record_age_in_seconds must be between 60 and 86400."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long failed records stay in the dead-letter queue."
  type        = number
  default     = 1209600
}

variable "log_retention_days" {
  description = "Retention of the Pipe and state machine log groups."
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
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
