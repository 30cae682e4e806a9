variable "name" {
  description = "Name of the user pool, <project>-<env>."
  type        = string
}

variable "mfa_configuration" {
  description = "OPTIONAL lets users enrol a TOTP factor; ON requires it at sign-in. OFF is not accepted."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OPTIONAL or ON."
  }
}

variable "self_signup_enabled" {
  description = "Allow users to sign themselves up. When false only administrators create users."
  type        = bool
  default     = false
}

variable "threat_protection_mode" {
  description = "Cognito threat protection (advanced security) mode: AUDIT or ENFORCED. Requires the PLUS tier."
  type        = string
  default     = "ENFORCED"

  validation {
    condition     = contains(["AUDIT", "ENFORCED"], var.threat_protection_mode)
    error_message = "threat_protection_mode must be AUDIT or ENFORCED."
  }
}

variable "deletion_protection" {
  description = "Block deletion of the user pool."
  type        = bool
  default     = true
}

variable "password_minimum_length" {
  description = "Minimum password length."
  type        = number
  default     = 14

  validation {
    condition     = var.password_minimum_length >= 12 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be between 12 and 99."
  }
}

variable "explicit_auth_flows" {
  description = "Authentication flows of the app client. ALLOW_ADMIN_USER_PASSWORD_AUTH (callable only with IAM credentials allowed cognito-idp:AdminInitiateAuth on the pool; no CI role is) is accepted for dev and the local stack; ALLOW_CUSTOM_AUTH is not."
  type        = list(string)
  default     = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  validation {
    condition = alltrue([
      for f in var.explicit_auth_flows :
      contains(["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], f)
    ])
    error_message = "explicit_auth_flows may hold ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH (IAM-signed AdminInitiateAuth only) and ALLOW_REFRESH_TOKEN_AUTH; ALLOW_CUSTOM_AUTH is not accepted."
  }

  # The smoke user signs in with SRP (make smoke), in every environment.
  validation {
    condition     = contains(var.explicit_auth_flows, "ALLOW_USER_SRP_AUTH")
    error_message = "explicit_auth_flows must hold ALLOW_USER_SRP_AUTH: users and the smoke test sign in with SRP."
  }
}

variable "access_token_validity_minutes" {
  description = "Lifetime of access and ID tokens in minutes (5-1440)."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440
    error_message = "access_token_validity_minutes must be between 5 and 1440."
  }
}

variable "refresh_token_validity_hours" {
  description = "Lifetime of refresh tokens in hours."
  type        = number
  default     = 12

  validation {
    condition     = var.refresh_token_validity_hours >= 1 && var.refresh_token_validity_hours <= 720
    error_message = "refresh_token_validity_hours must be between 1 and 720 (30 days)."
  }
}

variable "tags" {
  description = "Tags for the user pool."
  type        = map(string)
  default     = {}
}
