data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  # The longest an execution waits for one file's malware scan verdict.
  malware_scan_wait_seconds = sum([
    for attempt in range(var.malware_scan_wait.max_attempts) : min(
      var.malware_scan_wait.interval_seconds * pow(var.malware_scan_wait.backoff_rate, attempt),
      var.malware_scan_wait.max_delay_seconds,
    )
  ])

  # Records of one batch processed at once (the Map's MaxConcurrency); it stays
  # below the processor's reserved concurrency (services/template.yaml).
  map_concurrency = 5

  pipe_name          = "${var.name_prefix}-files-stream"
  state_machine_name = "${var.name_prefix}-processing"
  # Known before creation, so the roles' trust policies and the permissions
  # boundary (output named_arns) can pin them.
  pipe_arn            = "arn:${local.partition}:pipes:${local.region}:${local.account_id}:pipe/${local.pipe_name}"
  state_machine_arn   = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
  dlq_name            = "${local.pipe_name}-dlq"
  dlq_arn             = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"
  file_events_bus     = "${var.name_prefix}-file-events"
  file_events_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.file_events_bus}"

  # The only attributes the state machine's UpdateItem (RecordFailure in
  # state-machine.asl.json) may name: the key and the status attributes.
  # IAM checks them (dynamodb:Attributes), here and in the permissions
  # boundary; tests/state-machine-policy.tftest.hcl fails if the definition
  # names another.
  state_machine_item_attributes = [var.contract.table.hash_key, "status", "failure_reason", "processed_at", "updated_at"]
}

# ------------------------------------------------------------ dead-letter queue

resource "aws_sqs_queue" "dlq" {
  name                              = local.dlq_name
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

    # The state machine, or one of its versions or aliases: not another
    # state machine whose name starts with this one's.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.state_machine_arn, "${local.state_machine_arn}:*"]
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

  # The Catch branch marks the item FAILED: the status attributes only, and
  # nothing is read back (ReturnValues NONE). A definition rewritten to write
  # s3_key, bucket or any other attribute is refused by IAM.
  statement {
    sid       = "MarkFailed"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.table_arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = local.state_machine_item_attributes
    }

    condition {
      test     = "StringEquals"
      variable = "dynamodb:ReturnValues"
      values   = ["NONE"]
    }
  }

  # Each file's outcome goes to the file-events bus.
  statement {
    sid       = "PublishOutcomes"
    actions   = ["events:PutEvents"]
    resources = [local.file_events_bus_arn]
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
# one event per file that reaches PROCESSED, FAILED or QUARANTINED (services/README.md, "File events").
resource "aws_cloudwatch_event_bus" "file_events" {
  name               = local.file_events_bus
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
    status_quarantined     = var.contract.status.quarantined
    image_path             = var.contract.processor_record.image_path
    event_bus_name         = aws_cloudwatch_event_bus.file_events.name
    event_source           = var.contract.outcome_event.source
    event_detail_type      = var.contract.outcome_event.detail_type

    scan_wait_interval_seconds  = var.malware_scan_wait.interval_seconds
    scan_wait_backoff_rate      = var.malware_scan_wait.backoff_rate
    scan_wait_max_attempts      = var.malware_scan_wait.max_attempts
    scan_wait_max_delay_seconds = var.malware_scan_wait.max_delay_seconds
    map_concurrency             = local.map_concurrency
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true # Payloads carry keys and metadata, never file bytes.
    level                  = var.state_machine_log_level
  }

  tracing_configuration {
    enabled = true
  }

  lifecycle {
    precondition {
      # An EXPRESS execution ends after 5 minutes, whatever it is waiting for: each
      # round of map_concurrency records may wait the whole scan wait, and a minute
      # is left for the processing itself. (Throttling retries can still run past it.)
      condition     = var.state_machine_type == "STANDARD" || ceil(var.batch_size / local.map_concurrency) * local.malware_scan_wait_seconds <= 240
      error_message = "An EXPRESS state machine needs the malware_scan_wait of each round of records (batch_size / ${local.map_concurrency}, rounded up) to fit in 240 seconds (executions end after 5 minutes)."
    }
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}
