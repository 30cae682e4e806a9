data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  pipe_name          = "${var.name_prefix}-files-stream"
  state_machine_name = "${var.name_prefix}-processing"
  # Known before creation, so the roles' trust policies can pin them.
  pipe_arn          = "arn:${local.partition}:pipes:${local.region}:${local.account_id}:pipe/${local.pipe_name}"
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
}

# ------------------------------------------------------------ dead-letter queue

resource "aws_sqs_queue" "dlq" {
  name                              = "${local.pipe_name}-dlq"
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}

# ------------------------------------------------------------ log groups

resource "aws_cloudwatch_log_group" "pipe" {
  name              = "/aws/vendedlogs/pipes/${local.pipe_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ------------------------------------------------------------ state machine

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.state_machine_arn}*"]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name                 = "${local.state_machine_name}-sfn"
  description          = "Runs ${local.state_machine_name}: invokes the processor, marks failures in the table."
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokeProcessor"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.processor_function_arn, "${var.processor_function_arn}:*"]
  }

  # The Catch branch marks the item FAILED; nothing else is written.
  statement {
    sid       = "MarkFailed"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.table_arn]
  }

  # Each file's outcome goes to the file-events bus.
  statement {
    sid       = "PublishOutcomes"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.file_events.arn]
  }

  statement {
    sid       = "TableKeyThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }
  }

  # Execution data of this state machine is encrypted with the key.
  statement {
    sid       = "ExecutionDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:states:stateMachineArn"
      values   = [local.state_machine_arn]
    }
  }

  # Execution logs go to the KMS-encrypted log group through vended-log
  # delivery; Step Functions encrypts them with the key under a logs
  # encryption context (the key policy lets delivery.logs decrypt them).
  statement {
    sid       = "LogDataKey"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
    }
  }

  # Log delivery and X-Ray actions exist only on "*" (no resource-level permissions).
  statement {
    sid = "LogDeliveryAndTracing"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "least-privilege"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

# Integrators subscribe here (a rule on this bus) instead of polling the API:
# one event per file that reaches PROCESSED or FAILED (README, "File events").
resource "aws_cloudwatch_event_bus" "file_events" {
  name               = "${var.name_prefix}-file-events"
  kms_key_identifier = var.kms_key_arn
  tags               = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name     = local.state_machine_name
  role_arn = aws_iam_role.state_machine.arn
  type     = var.state_machine_type
  # Shared with the tests; the statuses and keys come from the data contract.
  definition = templatefile("${path.module}/state-machine.asl.json", {
    processor_function_arn = var.processor_function_arn
    table_name             = var.table_name
    hash_key               = var.contract.table.hash_key
    key_path               = var.contract.processor_record.key_path
    status_uploaded        = var.contract.status.uploaded
    status_processed       = var.contract.status.processed
    status_failed          = var.contract.status.failed
    image_path             = var.contract.processor_record.image_path
    event_bus_name         = aws_cloudwatch_event_bus.file_events.name
    event_source           = var.contract.outcome_event.source
    event_detail_type      = var.contract.outcome_event.detail_type
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true # Payloads carry keys and metadata, never file bytes.
    level                  = var.state_machine_log_level
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}

# ------------------------------------------------------------ pipe

data "aws_iam_policy_document" "pipes_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["pipes.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.pipe_arn]
    }
  }
}

resource "aws_iam_role" "pipe" {
  name                 = "${local.pipe_name}-pipe"
  description          = "Runs ${local.pipe_name}: reads the table stream, starts ${local.state_machine_name}."
  assume_role_policy   = data.aws_iam_policy_document.pipes_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "pipe" {
  statement {
    sid = "ReadThisStream"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "StartThisStateMachine"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # Stream records (DynamoDB), dead letters (SQS) and the started executions
  # (Step Functions) are encrypted with the key: only through those services.
  statement {
    sid       = "UseKeyThroughServices"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for s in ["dynamodb", "sqs", "states"] : "${s}.${local.region}.amazonaws.com"]
    }
  }

  # The Pipe's own encrypted data (its filter), under its ARN as encryption
  # context (the key policy pins the same; AWS documents both key names).
  statement {
    sid       = "PipeOwnData"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:pipes:arn"
      values   = [local.pipe_arn]
    }
  }

  statement {
    sid       = "PipeOwnDataExampleContextKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:pipe:arn"
      values   = [local.pipe_arn]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.pipe.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "pipe" {
  name   = "least-privilege"
  role   = aws_iam_role.pipe.id
  policy = data.aws_iam_policy_document.pipe.json
}

resource "aws_pipes_pipe" "this" {
  name               = local.pipe_name
  description        = "INSERTs of ${var.table_name} -> ${local.state_machine_name}"
  role_arn           = aws_iam_role.pipe.arn
  source             = var.stream_arn
  target             = aws_sfn_state_machine.this.arn
  kms_key_identifier = var.kms_key_arn

  source_parameters {
    dynamodb_stream_parameters {
      # From the oldest record still in the stream: uploads written before the
      # Pipe existed (or while it was stopped or being replaced) are processed
      # too. Processing is idempotent (an item leaves UPLOADED once), and
      # maximum_record_age_in_seconds caps how far back a replay reaches.
      starting_position = "TRIM_HORIZON"
      batch_size        = var.batch_size
      # The retry, record-age, bisect and dead-letter settings cover the Pipe's
      # own delivery only, i.e. a failing StartExecution (throttled, denied,
      # state machine missing): FIRE_AND_FORGET to a STANDARD workflow returns
      # as soon as the execution starts. Processing failures inside the
      # execution never come back here; they are handled by the state
      # machine (Retry/Catch, item marked FAILED) and surface through the
      # executions-failed alarms (observability module).
      maximum_retry_attempts        = var.maximum_retry_attempts
      maximum_record_age_in_seconds = var.maximum_record_age_in_seconds
      on_partial_batch_item_failure = "AUTOMATIC_BISECT"

      dead_letter_config {
        arn = aws_sqs_queue.dlq.arn
      }
    }

    filter_criteria {
      filter {
        # Only INSERTs: the processor's UpdateItem (MODIFY) must not loop back.
        pattern = file("${path.module}/pipe-filter.json")
      }
    }
  }

  target_parameters {
    step_function_state_machine_parameters {
      # The only mode a STANDARD target supports.
      invocation_type = "FIRE_AND_FORGET"
    }
  }

  log_configuration {
    level = "ERROR"

    cloudwatch_logs_log_destination {
      log_group_arn = aws_cloudwatch_log_group.pipe.arn
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.pipe]
}
