# The EventBridge Pipe: the table stream's INSERTs, filtered, to the state machine.

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
