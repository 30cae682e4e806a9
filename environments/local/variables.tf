variable "endpoint" {
  description = "URL of the emulator every AWS call goes to (http://127.0.0.1:<port>)."
  type        = string

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.endpoint))
    error_message = "endpoint must be a loopback URL: this root never talks to AWS."
  }
}

variable "account_id" {
  description = "Account id the emulator reports (moto's default unless MOTO_ACCOUNT_ID is set)."
  type        = string
  default     = "123456789012"
}
