# `terraform test` for the metadata table (make validate): keys from the data contract.

mock_provider "aws" {}

variables {
  name        = "secure-upload-dev-files"
  keys        = jsondecode(file("../../services/contract/upload_contract/contract.json")).table
  kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
}

run "table_follows_the_data_contract" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "file_id"
    error_message = "The table is keyed by the contract's file_id."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.global_secondary_index).name == "owner-created_at-index"
    error_message = "The owner index has the contract's name (the API queries it by name)."
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_IMAGE"
    error_message = "The stream carries whole new items to the Pipe."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "The table and its stream are encrypted with the environment key."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "Point-in-time recovery is on."
  }
}

run "a_stream_without_the_new_item_is_refused" {
  command = plan

  variables {
    keys = merge(jsondecode(file("../../services/contract/upload_contract/contract.json")).table, { stream_view_type = "KEYS_ONLY" })
  }

  expect_failures = [var.keys]
}
