locals {
  # Lists one owner's files newest first (Query owner = :sub, ScanIndexForward = false).
  owner_index_name = "owner-created_at-index"
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "file_id"
  deletion_protection_enabled = var.deletion_protection_enabled

  # Only key attributes are declared; the item's other attributes are schemaless.
  attribute {
    name = "file_id"
    type = "S"
  }

  attribute {
    name = "owner"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  global_secondary_index {
    name            = local.owner_index_name
    hash_key        = "owner"
    range_key       = "created_at"
    projection_type = "ALL"
  }

  # The Pipe reads INSERTs from this stream; NEW_IMAGE carries the whole item.
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
