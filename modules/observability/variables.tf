variable "name_prefix" {
  description = "Prefix of every name, <project>-<env>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens."
  }
}

variable "kms_key_arn" {
  description = "ARN of the environment's key (SNS topic and API access log group)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "dlq_name" {
  description = "Name of the Pipe's dead-letter queue; any visible message raises an alarm."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the processing state machine; failed, timed-out or aborted executions raise an alarm."
  type        = string
}

variable "lambda_function_names" {
  description = "Functions whose Errors and Throttles metrics raise alarms."
  type        = set(string)
}

variable "processor_metrics" {
  description = "Where the processor's Powertools metrics land: POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME (the \"service\" dimension) and the name of the metric counting files marked FAILED."
  type = object({
    namespace   = string
    service     = string
    metric_name = string
  })
  default = {
    namespace   = "SecureUpload"
    service     = "processor"
    metric_name = "FilesFailed"
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic, or null for none (the subscription must be confirmed)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "log_retention_days" {
  description = "Retention of the API access log group."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
