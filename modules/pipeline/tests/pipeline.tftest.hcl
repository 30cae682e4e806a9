# `terraform test` for the pipeline module (make validate). Every provider call
# is mocked: these runs check what the module asks AWS for.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:111111111111:secure-upload-dev-files-stream-dlq"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/secure-upload-dev-mock"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/mock"
    }
  }

  mock_resource "aws_sfn_state_machine" {
    defaults = {
      arn = "arn:aws:states:us-east-1:111111111111:stateMachine:secure-upload-dev-processing"
    }
  }

  mock_resource "aws_cloudwatch_event_bus" {
    defaults = {
      arn = "arn:aws:events:us-east-1:111111111111:event-bus/secure-upload-dev-file-events"
    }
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

run "pipe_delivery_is_capped_and_dead_lettered" {
  command = apply

  assert {
    condition     = aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].maximum_retry_attempts == 3
    error_message = "A failing StartExecution is retried 3 times by default, never forever."
  }

  assert {
    condition     = aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].maximum_record_age_in_seconds == 3600
    error_message = "Records older than an hour go to the dead-letter queue by default."
  }

  assert {
    condition     = aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].dead_letter_config[0].arn == aws_sqs_queue.dlq.arn
    error_message = "Batches that cannot start an execution go to this module's queue."
  }

  assert {
    condition     = aws_iam_role.pipe.permissions_boundary == var.permissions_boundary_arn && aws_iam_role.state_machine.permissions_boundary == var.permissions_boundary_arn
    error_message = "The Pipe's and the state machine's roles carry the permissions boundary."
  }

  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn
    error_message = "The dead-letter queue is encrypted with the environment key."
  }

  assert {
    condition     = aws_pipes_pipe.this.source_parameters[0].filter_criteria[0].filter[0].pattern == file("pipe-filter.json")
    error_message = "The Pipe filters with pipe-filter.json, the file the tests load."
  }

  assert {
    condition     = jsondecode(aws_pipes_pipe.this.source_parameters[0].filter_criteria[0].filter[0].pattern) == { eventName = ["INSERT"] }
    error_message = "Only INSERTs start the state machine: the processor's MODIFY must not loop back."
  }

  assert {
    condition     = aws_pipes_pipe.this.target_parameters[0].step_function_state_machine_parameters[0].invocation_type == "FIRE_AND_FORGET"
    error_message = "A STANDARD state machine takes FIRE_AND_FORGET only."
  }
}

run "state_machine_writes_the_contract_statuses" {
  command = apply

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.ExpressionAttributeValues[":failed"].S == var.contract.status.failed
    error_message = "RecordFailure writes the contract's FAILED status."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.RecordFailure.Parameters.ExpressionAttributeValues[":uploaded"].S == var.contract.status.uploaded
    error_message = "RecordFailure only moves items still in the contract's UPLOADED status."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.ProcessFile.Parameters.FunctionName == var.processor_function_arn
    error_message = "The state machine invokes the processor it was given."
  }

  assert {
    condition     = aws_sfn_state_machine.this.encryption_configuration[0].kms_key_id == var.kms_key_arn
    error_message = "Execution data is encrypted with the environment key."
  }

  assert {
    condition = alltrue([
      for state in ["PublishOutcome", "PublishFailure"] :
      jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States[state].Parameters.Entries[0].EventBusName == aws_cloudwatch_event_bus.file_events.name
    ])
    error_message = "Both outcomes are published on the file-events bus."
  }

  assert {
    condition     = aws_cloudwatch_event_bus.file_events.kms_key_identifier == var.kms_key_arn
    error_message = "The file-events bus is encrypted with the environment key."
  }
}

# The permissions boundary names these before they exist: the names must be
# the ones the resources get (the mocks return what AWS would).
run "named_arns_are_the_resources_arns" {
  command = apply

  assert {
    condition     = output.named_arns.state_machine == aws_sfn_state_machine.this.arn
    error_message = "named_arns.state_machine is the state machine's ARN."
  }

  assert {
    condition     = output.named_arns.dead_letter_queue == aws_sqs_queue.dlq.arn && aws_sqs_queue.dlq.name == "secure-upload-dev-files-stream-dlq"
    error_message = "named_arns.dead_letter_queue is the dead-letter queue's ARN."
  }

  assert {
    condition     = output.named_arns.file_events_bus == aws_cloudwatch_event_bus.file_events.arn && aws_cloudwatch_event_bus.file_events.name == "secure-upload-dev-file-events"
    error_message = "named_arns.file_events_bus is the file-events bus's ARN."
  }
}

run "infinite_retries_are_refused" {
  command = plan

  variables {
    maximum_retry_attempts = -1
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "infinite_record_age_is_refused" {
  command = plan

  variables {
    maximum_record_age_in_seconds = -1
  }

  expect_failures = [var.maximum_record_age_in_seconds]
}

run "batch_size_stays_within_the_pipe_limits" {
  command = plan

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}

run "log_levels_that_hide_failures_are_refused" {
  command = plan

  variables {
    state_machine_log_level = "OFF"
  }

  expect_failures = [var.state_machine_log_level]
}

run "the_malware_scan_wait_is_bounded" {
  command = apply

  assert {
    condition     = local.malware_scan_wait_seconds > 600 && local.malware_scan_wait_seconds < 720
    error_message = "By default an execution waits about 11 minutes for a scan verdict, then gives up."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessRecords.ItemProcessor.States.ProcessFile.Retry[0].ErrorEquals == ["MalwareScanNotFinishedError"]
    error_message = "A missing scan verdict is retried by its own, bounded Retry."
  }
}

run "an_express_state_machine_needs_a_short_scan_wait" {
  command = plan

  variables {
    state_machine_type = "EXPRESS"
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "an_endless_scan_wait_is_refused" {
  command = plan

  variables {
    malware_scan_wait = { interval_seconds = 0, backoff_rate = 1, max_attempts = 5, max_delay_seconds = 1 }
  }

  expect_failures = [var.malware_scan_wait]
}

run "an_express_state_machine_with_a_short_wait_per_round_is_accepted" {
  command = plan

  variables {
    state_machine_type = "EXPRESS"
    batch_size         = 10
    malware_scan_wait  = { interval_seconds = 10, backoff_rate = 1, max_attempts = 12, max_delay_seconds = 10 }
  }
}

run "an_express_state_machine_whose_rounds_outlast_it_is_refused" {
  command = plan

  variables {
    state_machine_type = "EXPRESS"
    batch_size         = 10
    malware_scan_wait  = { interval_seconds = 10, backoff_rate = 1, max_attempts = 13, max_delay_seconds = 10 }
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "a_fractional_scan_wait_is_refused" {
  command = plan

  variables {
    malware_scan_wait = { interval_seconds = 1.5, backoff_rate = 1, max_attempts = 5, max_delay_seconds = 2 }
  }

  expect_failures = [var.malware_scan_wait]
}
