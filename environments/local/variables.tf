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

# Passed by the local stack (tests/devstack/terraform_apply.py), like endpoint.
variable "web_api_url" {
  description = "The local API's URL (http://127.0.0.1:<port>), which the web app calls; \"\" for no web app."
  type        = string
  default     = ""

  validation {
    condition     = var.web_api_url == "" || can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.web_api_url))
    error_message = "web_api_url must be a loopback URL, or \"\"."
  }
}

variable "web_origin" {
  description = "Origin the local stack serves the web app from (http://127.0.0.1:<port>): the one the API's and the upload bucket's CORS allow. Required with web_api_url."
  type        = string
  default     = null

  validation {
    condition     = var.web_api_url == "" || can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.web_origin))
    error_message = "With web_api_url, web_origin must be the loopback URL the local stack serves the web app from."
  }
}
