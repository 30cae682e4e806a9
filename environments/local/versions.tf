terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The emulator extensions (tests/devstack/emulator.py) answer the
      # calls this provider release makes; moving it is a tested change. The
      # AWS roots admit 5.100 and 6.x.
      version = "~> 5.100"
    }
  }

  # State stays on this machine: the emulator starts empty every time, and
  # the local stack passes -backend-config=path=... to keep it with the stack.
  backend "local" {}
}
