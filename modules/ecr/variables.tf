variable "repository_names" {
  description = "Full repository names, e.g. secure-upload-dev/upload-api."
  type        = set(string)

  validation {
    condition     = alltrue([for n in var.repository_names : can(regex("^[a-z0-9][a-z0-9._/-]{1,255}$", n))])
    error_message = "repository_names must be valid ECR repository names."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the images."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "keep_tagged_images" {
  description = "Number of tagged images kept per repository; older ones expire."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_tagged_images >= 5
    error_message = "keep_tagged_images must be at least 5 so rollbacks stay possible."
  }
}

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images expire."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags for the repositories."
  type        = map(string)
  default     = {}
}

variable "lambda_function_arn_pattern" {
  description = "aws:SourceArn pattern of the Lambda functions that may pull images, e.g. arn:aws:lambda:eu-west-1:111111111111:function:secure-upload-dev-*."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+\\*?$", var.lambda_function_arn_pattern))
    error_message = "lambda_function_arn_pattern must be a Lambda function ARN in one account and region, optionally ending in a single * (e.g. ...:function:secure-upload-dev-*)."
  }
}
