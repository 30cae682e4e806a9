# A small table of records keyed by one string attribute, with no stream:
# pending direct uploads, and each user's usage. Kept apart from the files
# table on purpose: nothing here reaches the files table's stream, so nothing
# here can start the pipeline.
resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.keys.hash_key
  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = var.keys.hash_key
    type = "S"
  }

  # Records that expire by themselves (epoch seconds), such as abandoned uploads.
  dynamic "ttl" {
    for_each = var.keys.ttl_attribute == null ? [] : [var.keys.ttl_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
