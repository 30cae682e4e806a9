resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.keys.hash_key
  deletion_protection_enabled = var.deletion_protection_enabled

  # Only key attributes are declared; the item's other attributes are schemaless.
  dynamic "attribute" {
    for_each = toset([var.keys.hash_key, var.keys.owner_index.hash_key, var.keys.owner_index.range_key])

    content {
      name = attribute.value
      type = "S"
    }
  }

  # Lists one owner's files newest first (Query owner = :sub, ScanIndexForward = false).
  global_secondary_index {
    name            = var.keys.owner_index.name
    hash_key        = var.keys.owner_index.hash_key
    range_key       = var.keys.owner_index.range_key
    projection_type = "ALL"
  }

  # The Pipe reads INSERTs from this stream; NEW_IMAGE carries the whole item.
  stream_enabled   = true
  stream_view_type = var.keys.stream_view_type

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
