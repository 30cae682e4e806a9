# Direct uploads that were started but whose bytes have not all arrived. Kept
# apart from the files table on purpose: an item here never reaches the
# files table's stream, so a pending upload cannot start the pipeline.
# Completion moves the record into the files table in one transaction.
resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.keys.hash_key
  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = var.keys.hash_key
    type = "S"
  }

  # Abandoned uploads expire by themselves (epoch seconds); S3's lifecycle
  # aborts their incomplete multipart uploads.
  ttl {
    attribute_name = var.keys.ttl_attribute
    enabled        = true
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
