terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # State stays on this machine: the emulator starts empty every time, and
  # the local stack passes -backend-config=path=... to keep it with the stack.
  backend "local" {}
}
