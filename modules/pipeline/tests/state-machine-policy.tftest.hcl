# `terraform test` (make validate): the state machine's definition and its
# role's policy stay in step. The AWS provider computes the policy document
# itself and reaches no AWS: the one data source that would call AWS is
# overridden and every endpoint is a closed loopback port.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing" # pragma: allowlist secret (dummy credential: every endpoint below is a closed loopback port)
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  max_retries                 = 1

  endpoints {
    cloudwatchlogs = "http://127.0.0.1:9"
    eventbridge    = "http://127.0.0.1:9"
    iam            = "http://127.0.0.1:9"
    pipes          = "http://127.0.0.1:9"
    sfn            = "http://127.0.0.1:9"
    sqs            = "http://127.0.0.1:9"
    sts            = "http://127.0.0.1:9"
  }
}

override_data {
  target = data.aws_caller_identity.current
  values = {
    account_id = "111111111111"
  }
}

# The provider validates a definition against AWS while planning: the state
# machine is overridden (the definition checked is still the rendered file).
override_resource {
  target          = aws_sfn_state_machine.this
  override_during = plan
  values = {
    arn = "arn:aws:states:us-east-1:111111111111:stateMachine:secure-upload-dev-processing"
  }
}

variables {
  name_prefix              = "secure-upload-dev"
  table_name               = "secure-upload-dev-files"
  table_arn                = "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-files"
  stream_arn               = "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-files/stream/2026-01-01T00:00:00.000"
  processor_function_arn   = "arn:aws:lambda:us-east-1:111111111111:function:secure-upload-dev-processor"
  kms_key_arn              = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  contract                 = jsondecode(file("../../services/contract/upload_contract/contract.json"))
  log_retention_days       = 30
  permissions_boundary_arn = "arn:aws:iam::111111111111:policy/secure-upload-dev-workload-boundary"
}

run "mark_failed_writes_only_what_the_policy_allows" {
  command = plan

  # Every attribute RecordFailure names (its key, and every name in its update
  # and condition expressions but keywords, functions and :values, with
  # #placeholders resolved) is one MarkFailed allows (dynamodb:Attributes).
  assert {
    condition = length(setsubtract(
      setunion(
        keys(jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.Key),
        [
          for m in regexall("(:?)(#?[A-Za-z_][A-Za-z0-9_]*)", join(" ", [
            jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.UpdateExpression,
            try(jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.ConditionExpression, ""),
          ])) :
          lookup(jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.ExpressionAttributeNames, m[1], m[1])
          if m[0] == "" && !contains([
            "add", "and", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "between",
            "contains", "delete", "if_not_exists", "in", "list_append", "not", "or", "remove", "set", "size",
          ], lower(m[1]))
        ],
      ),
      flatten([
        for s in jsondecode(data.aws_iam_policy_document.state_machine.json).Statement :
        s.Condition["ForAllValues:StringEquals"]["dynamodb:Attributes"] if s.Sid == "MarkFailed"
      ]),
    )) == 0
    error_message = "RecordFailure names an item attribute that the state machine role's MarkFailed statement does not allow (dynamodb:Attributes): IAM would refuse the update. Keep state-machine.asl.json and local.state_machine_item_attributes in step."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.ReturnValues == "NONE"
    error_message = "RecordFailure asks for ReturnValues NONE, the only value MarkFailed allows."
  }

  assert {
    condition = [
      for s in jsondecode(data.aws_iam_policy_document.state_machine.json).Statement :
      s.Condition.StringEquals["dynamodb:ReturnValues"] if s.Sid == "MarkFailed"
    ] == ["NONE"]
    error_message = "MarkFailed allows UpdateItem only with ReturnValues NONE: the state machine reads nothing back."
  }

  # The attributes allowed are the key and the status attributes, never where
  # the bytes are (s3_key, bucket) nor who owns them.
  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.state_machine.json).Statement :
      s.Condition["ForAllValues:StringEquals"]["dynamodb:Attributes"] if s.Sid == "MarkFailed"
    ])) == toset(["file_id", "status", "failure_reason", "processed_at", "updated_at"])
    error_message = "MarkFailed allows exactly the key and the status attributes."
  }

  assert {
    condition     = output.state_machine_item_attributes == local.state_machine_item_attributes
    error_message = "The permissions boundary gets the same attribute list (output state_machine_item_attributes)."
  }

  # Only this state machine (or its versions and aliases) runs as the role.
  assert {
    condition = [
      for s in jsondecode(data.aws_iam_policy_document.states_assume.json).Statement :
      toset(s.Condition.ArnLike["aws:SourceArn"])
      ] == [toset([
        "arn:aws:states:us-east-1:111111111111:stateMachine:secure-upload-dev-processing",
        "arn:aws:states:us-east-1:111111111111:stateMachine:secure-upload-dev-processing:*",
    ])]
    error_message = "The state machine role trusts only this state machine, not every name that starts with it."
  }
}
