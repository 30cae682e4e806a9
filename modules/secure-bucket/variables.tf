variable "name" {
  description = "Bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key for default encryption; every upload must name it. null only for an S3 server-access-log target (log_delivery_source), which AWS delivers to SSE-S3 buckets only."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }

  validation {
    condition     = var.kms_key_arn != null || var.log_delivery_source != null
    error_message = "Only an access-log target (log_delivery_source set) may go without kms_key_arn."
  }
}

variable "kms_key_aliases" {
  description = "Alias ARNs of kms_key_arn that uploads may name instead of the key ARN (Terraform's S3 backend sends its kms_key_id as given)."
  type        = list(string)
  default     = []
}

variable "object_reader_arns" {
  description = "The only principals that may read objects, enforced by the bucket policy. Required with kms_key_arn: a data bucket names its readers."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.object_reader_arns, "*")
    error_message = "object_reader_arns must name principals, never \"*\"."
  }

  validation {
    condition     = var.kms_key_arn == null || length(var.object_reader_arns) > 0
    error_message = "A bucket encrypted with kms_key_arn must name its object_reader_arns."
  }
}

variable "malware_scan" {
  description = "The bucket is scanned by GuardDuty Malware Protection (modules/malware-protection), which tags each object tag_key = its verdict: the policy then denies every read of an object not tagged clean to everyone but scanner_role_arn (which must read to scan), every read of an object tagged threats_found to everyone, and any change of an object's tags by anyone but scanner_role_arn (a verdict cannot be forged or removed). null for a bucket nobody scans."
  type = object({
    tag_key          = string
    clean            = string
    threats_found    = string
    scanner_role_arn = string
  })
  default = null

  validation {
    condition = var.malware_scan == null || (
      length(try(var.malware_scan.tag_key, "")) > 0 &&
      length(try(var.malware_scan.clean, "")) > 0 &&
      try(var.malware_scan.clean != var.malware_scan.threats_found, false)
    )
    error_message = "malware_scan needs a tag_key and a clean value that is not threats_found."
  }

  validation {
    condition     = var.malware_scan == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[^*?]+$", try(var.malware_scan.scanner_role_arn, "")))
    error_message = "malware_scan.scanner_role_arn must name one IAM role, without wildcards: it is the only principal that reads objects not scanned clean."
  }
}

variable "access_logs" {
  description = "Where S3 server access logs of this bucket go: the target bucket's name and a key prefix ending in /. null for the access-log target itself (logging it to itself would loop)."
  type = object({
    bucket = string
    prefix = string
  })
  default = null
}

variable "eventbridge_notifications" {
  description = "Send the bucket's events (object created, deleted, ...) to EventBridge, where rules pick what they need."
  type        = bool
  default     = false
}

variable "cors_rule" {
  description = "The bucket's one CORS rule: the browser origins that may call it, with which methods and request headers, which response headers their scripts may read, and for how many seconds a browser keeps a preflight's answer. null: no CORS configuration, so browsers refuse cross-origin calls."
  type = object({
    allowed_origins = list(string)
    allowed_methods = list(string)
    allowed_headers = list(string)
    expose_headers  = list(string)
    max_age_seconds = number
  })
  default = null

  validation {
    condition = var.cors_rule == null || alltrue([
      for value in concat(try(var.cors_rule.allowed_origins, []), try(var.cors_rule.allowed_headers, [])) : !strcontains(value, "*")
    ])
    error_message = "cors_rule names each origin and header: no wildcard."
  }

  validation {
    condition     = var.cors_rule == null || length(try(var.cors_rule.allowed_origins, [])) > 0
    error_message = "cors_rule must name at least one origin."
  }
}

variable "log_delivery_source" {
  description = "Makes this bucket an access-log target: S3 log delivery may write under prefix for this source bucket of this account only."
  type = object({
    bucket_arn = string
    account_id = string
    prefix     = string
  })
  default = null
}

variable "expiration_days" {
  description = "Days after which current objects expire; null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || coalesce(var.expiration_days, 1) >= 1
    error_message = "expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted."
  type        = number

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it holds objects. Leave false outside throw-away environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}

variable "bucket_key_enabled" {
  description = "Use an S3 bucket key with kms_key_arn (fewer KMS calls). false for a bucket whose writer's key policy condition names its own encryption context, which a bucket key replaces with the bucket's ARN (CloudTrail: kms:EncryptionContext:aws:cloudtrail:arn)."
  type        = bool
  default     = true
}

variable "object_lock" {
  description = "Object Lock default retention for every new object version: mode COMPLIANCE (nobody, the account root included, deletes or overwrites a version before days have passed) or GOVERNANCE (principals allowed s3:BypassGovernanceRetention can; requires configuration_administrator_arns, the only ones the policy lets bypass). Set only when the bucket is created. null: no Object Lock."
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null || contains(["COMPLIANCE", "GOVERNANCE"], try(var.object_lock.mode, ""))
    error_message = "object_lock.mode must be COMPLIANCE or GOVERNANCE."
  }

  validation {
    condition     = var.object_lock == null || (try(var.object_lock.days, 0) >= 1 && try(var.object_lock.days, 0) <= 36500)
    error_message = "object_lock.days must be between 1 and 36500."
  }

  validation {
    condition     = try(var.object_lock.mode, "") != "GOVERNANCE" || length(var.configuration_administrator_arns) > 0
    error_message = "GOVERNANCE retention can be bypassed by whoever IAM lets: name the configuration_administrator_arns, the only principals the policy then lets bypass it."
  }
}

variable "cloudtrail_delivery" {
  description = "Makes this bucket a CloudTrail log bucket: the policy lets cloudtrail.amazonaws.com check its ACL and write under AWSLogs/<account_id>/ for the trail trail_arn only (aws:SourceArn). null for any other bucket."
  type = object({
    trail_arn  = string
    account_id = string
  })
  default = null

  validation {
    condition     = var.cloudtrail_delivery == null || can(regex("^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:[0-9]{12}:trail/[A-Za-z0-9._-]+$", try(var.cloudtrail_delivery.trail_arn, "")))
    error_message = "cloudtrail_delivery.trail_arn must be one trail's ARN (no wildcard)."
  }

  validation {
    condition     = var.cloudtrail_delivery == null || can(regex("^[0-9]{12}$", try(var.cloudtrail_delivery.account_id, "")))
    error_message = "cloudtrail_delivery.account_id must be a 12-digit account id."
  }
}

variable "configuration_administrator_arns" {
  description = "When set, the only principals (ARN patterns allowed) that may change the bucket's policy, versioning, lifecycle, logging, encryption, ownership controls, public access block or Object Lock, set retention or legal holds, bypass governance retention or delete the bucket, enforced by the bucket policy. Empty: IAM alone decides."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.configuration_administrator_arns, "*")
    error_message = "configuration_administrator_arns must name principals, never \"*\"."
  }
}
