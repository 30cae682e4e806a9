terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # State starts local and is then migrated into the bucket this root creates:
  # see README.md. backend.tf.example holds the backend block.
}
