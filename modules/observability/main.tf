data "aws_caller_identity" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  alarm_actions = [aws_sns_topic.this.arn]
}

# API Gateway (deployed by SAM) writes its access logs here; Terraform owns the
# group so it is KMS-encrypted and has a retention.
resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/vendedlogs/apigateway/${var.name_prefix}-http-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsOfThisAccount"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

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

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Every alarm has one shape: it fires on the first 5-minute period above zero
# and says so again when it clears. Keyed by alarm name.
locals {
  alarms = merge(
    {
      "${var.name_prefix}-dlq-not-empty" = {
        description = "Stream records could not start a processing execution and were dead-lettered; inspect ${var.dlq_name}."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = var.dlq_name }
        statistic   = "Maximum"
      }

      # The processor records a file it rejects (size, checksum or type
      # mismatch, object missing) as FAILED and returns normally: no Lambda
      # error and no failed execution, only its FilesFailed metric (Powertools
      # EMF: namespace and a "service" dimension). Someone must look at every
      # such file.
      "${var.name_prefix}-files-failed" = {
        description = "The processor marked uploaded files FAILED (metric ${var.processor_metrics.metric_name}); see the processor's logs for the reasons."
        namespace   = var.processor_metrics.namespace
        metric_name = var.processor_metrics.metric_name
        dimensions  = { service = var.processor_metrics.service }
        statistic   = "Sum"
      }
    },
    {
      for metric in ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"] :
      "${var.name_prefix}-processing-${lower(trimprefix(metric, "Executions"))}" => {
        description = "The processing state machine reported ${metric}."
        namespace   = "AWS/States"
        metric_name = metric
        dimensions  = { StateMachineArn = var.state_machine_arn }
        statistic   = "Sum"
      }
    },
    {
      for name in var.lambda_function_names : "${name}-errors" => {
        description = "Function ${name} reported errors."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = { FunctionName = name }
        statistic   = "Sum"
      }
    },
    # Reserved concurrency caps each function: a throttled upload is a refused
    # upload (API Gateway answers 5xx), a throttled processor a delayed file.
    {
      for name in var.lambda_function_names : "${name}-throttles" => {
        description = "Function ${name} was throttled: its reserved concurrency is exhausted."
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = { FunctionName = name }
        statistic   = "Sum"
      }
    },
    # Capacity: the limits `make capacity` (tests/perf/capacity) shows saturating
    # first at ten times prod's expected load, besides reserved concurrency above.
    {
      "${var.name_prefix}-api-throttled" = {
        description = "API Gateway refused requests with 429: the stage's ThrottlingRateLimit (services/template.yaml) or the account's throttle is reached."
        namespace   = var.processor_metrics.namespace
        metric_name = "ApiThrottled"
        dimensions  = {}
        statistic   = "Sum"
      }
      "${var.name_prefix}-processing-throttled" = {
        description = "Step Functions throttled the processing state machine (ExecutionThrottled): the account's state-transition quota is reached and files wait."
        namespace   = "AWS/States"
        metric_name = "ExecutionThrottled"
        dimensions  = { StateMachineArn = var.state_machine_arn }
        statistic   = "Sum"
      }
    },
  )
}

# API Gateway publishes no throttle count for HTTP APIs, and its 4xx metric
# mixes throttling with refused tokens and bad requests. The access log is
# Terraform's, and only API Gateway answers 429 (the API answers AWS's own
# throttling with 503): count the 429s there.
resource "aws_cloudwatch_log_metric_filter" "api_throttled" {
  name           = "${var.name_prefix}-api-throttled"
  log_group_name = aws_cloudwatch_log_group.api_access.name
  pattern        = "{ $.status = \"429\" }"

  metric_transformation {
    name      = "ApiThrottled"
    namespace = var.processor_metrics.namespace
    value     = "1"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.key
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# ------------------------------------------------------------ dashboard

data "aws_region" "current" {}

locals {
  namespace = var.processor_metrics.namespace
  period    = 300
  # One row per concern; the API's own request metrics are keyed by the API
  # id SAM creates, so the API shows here through its function and our metrics.
  dashboard_widgets = [
    {
      title   = "Files stored (API), by path"
      metrics = [[local.namespace, "FilesStored", "path", "json", "service", "upload-api"], ["...", "direct", ".", "."]]
      stat    = "Sum"
    },
    {
      title   = "Refusals (4xx), by error code"
      metrics = [[{ expression = "SEARCH('{${local.namespace},reason,service} MetricName=\"Rejections\"', 'Sum', ${local.period})", id = "refusals" }]]
      stat    = "Sum"
    },
    {
      title   = "Files processed, failed and quarantined (processor)"
      metrics = [[local.namespace, "FilesProcessed", "service", var.processor_metrics.service], [".", var.processor_metrics.metric_name, ".", "."], [".", "FilesQuarantined", ".", "."]]
      stat    = "Sum"
    },
    {
      title   = "Executions (state machine)"
      metrics = [for m in ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] : ["AWS/States", m, "StateMachineArn", var.state_machine_arn]]
      stat    = "Sum"
    },
    {
      title   = "Dead-lettered batches (Pipe DLQ)"
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dlq_name]]
      stat    = "Maximum"
    },
    {
      title   = "Function errors and throttles"
      metrics = flatten([for f in sort(tolist(var.lambda_function_names)) : [["AWS/Lambda", "Errors", "FunctionName", f], [".", "Throttles", ".", f]]])
      stat    = "Sum"
    },
    {
      title   = "Function duration, p99"
      metrics = [for f in sort(tolist(var.lambda_function_names)) : ["AWS/Lambda", "Duration", "FunctionName", f]]
      stat    = "p99"
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for i, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          period  = local.period
          region  = data.aws_region.current.id
          view    = "timeSeries"
        }
      }
    ]
  })
}
