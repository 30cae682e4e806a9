variable "name" {
  description = "Name of the key, e.g. secure-upload-dev. The alias is alias/<name>; with allow_cloudwatch_logs, log groups whose name contains <name>- may use the key."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,62}$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "description" {
  description = "Description of the key."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "via_services" {
  description = "Service prefixes (e.g. s3, dynamodb) through which IAM principals of this account may use the key; their IAM policies then narrow which principal may do what."
  type        = list(string)
  default     = ["s3", "dynamodb", "sqs", "sns", "ecr", "states", "pipes", "lambda", "secretsmanager"]

  validation {
    condition     = alltrue([for s in var.via_services : can(regex("^[a-z0-9-]+$", s))])
    error_message = "via_services holds bare service prefixes such as s3 or dynamodb."
  }
}

variable "pipe_role_arns" {
  description = "Execution roles of this environment's EventBridge Pipes (named <name>-*). Granted DescribeKey, and data keys only under a pipe encryption context of those pipes; their use through services is covered by via_services."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.pipe_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "pipe_role_arns must be IAM role ARNs."
  }
}

variable "event_bus_arns" {
  description = "EventBridge buses whose events this key encrypts (the service may use the key for them only)."
  type        = list(string)
  default     = []
}

variable "allow_aws_resource_grants" {
  description = "Let IAM principals of this account create grants for AWS resources, which DynamoDB, ECR, Lambda, Step Functions and Pipes keep on the key they encrypt with (S3 needs none)."
  type        = bool
  default     = true
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs encrypt the log groups whose name contains <name>- with the key, and the log-delivery service decrypt the vended-log records of this account and region (Step Functions, Pipes)."
  type        = bool
  default     = true
}

variable "allow_cloudwatch_alarms" {
  description = "Let CloudWatch alarms of this account publish to SNS topics encrypted with this key."
  type        = bool
  default     = true
}

variable "key_user_role_arns" {
  description = "The only IAM roles that may decrypt with the key (workload roles, the GitHub roles that refresh encrypted resources, the break-glass role); patterns allowed."
  type        = list(string)

  validation {
    condition     = length(var.key_user_role_arns) > 0 && !contains(var.key_user_role_arns, "*")
    error_message = "key_user_role_arns must name roles, never \"*\"."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
