data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"

  # Data-key operations only; no administration.
  usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]

  # Statement id -> encryption-context key of EventBridge Pipes data.
  pipe_context_keys = {
    PipeRolesPipeData        = "aws:pipes:arn"
    PipeRolesPipeDataExample = "aws:pipe:arn"
  }
}

data "aws_iam_policy_document" "this" {
  # Administration is delegated to IAM in this account (Terraform and break-glass
  # roles). Listed explicitly so the account root never gets data-key usage here.
  statement {
    sid = "KeyAdministration"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # In a key policy "*" means this key.

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }
  }

  # DynamoDB, ECR, Lambda, Step Functions and Pipes keep grants on the key for the
  # resources they encrypt; only AWS services may hold such grants.
  dynamic "statement" {
    for_each = var.allow_aws_resource_grants ? [1] : []

    content {
      sid       = "GrantsForAwsResources"
      actions   = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = [local.root_arn]
      }

      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }

  # IAM principals of this account may use the key only through the listed
  # services; each role's own IAM policy decides which of them may.
  statement {
    sid       = "UseThroughAwsServices"
    actions   = local.usage_actions
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for s in var.via_services : "${s}.${local.region}.amazonaws.com"]
    }
  }

  # The Pipe roles' use of the key through DynamoDB (stream records), SQS (the
  # dead-letter queue) and Step Functions (StartExecution on the encrypted state
  # machine) is covered by UseThroughAwsServices. What is left is the Pipe's own
  # encrypted data (filter pattern), which EventBridge encrypts under the pipe's
  # ARN as encryption context: only this environment's pipes' data, and only
  # metadata (DescribeKey) otherwise.
  dynamic "statement" {
    for_each = length(var.pipe_role_arns) > 0 ? [1] : []

    content {
      sid       = "PipeRolesDescribeKey"
      actions   = ["kms:DescribeKey"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.pipe_role_arns
      }
    }
  }

  # The EventBridge guide names the context key aws:pipes:arn in its text and
  # aws:pipe:arn in its key-policy example; both are pinned to this
  # environment's pipes, so whichever the service sends is covered.
  dynamic "statement" {
    for_each = { for sid, key in local.pipe_context_keys : sid => key if length(var.pipe_role_arns) > 0 }

    content {
      sid       = statement.key
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.pipe_role_arns
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:${statement.value}"
        values   = ["arn:${local.partition}:pipes:${local.region}:${local.account_id}:pipe/${var.name}-*"]
      }
    }
  }

  # CloudWatch Logs encrypts only this environment's log groups with the key.
  dynamic "statement" {
    for_each = var.allow_cloudwatch_logs ? [1] : []

    content {
      sid = "CloudWatchLogs"
      actions = [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/*${var.name}-*"]
      }
    }
  }

  # Vended logs (the state machine's and the Pipe's log groups) reach CloudWatch
  # Logs through the log-delivery service, which decrypts the records the
  # source service encrypted with this key; the encryption context names the
  # logs service of this account and region. CloudWatch Logs then re-encrypts
  # them into the log group (statement above).
  dynamic "statement" {
    for_each = var.allow_cloudwatch_logs ? [1] : []

    content {
      sid       = "VendedLogDelivery"
      actions   = ["kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["delivery.logs.amazonaws.com"]
      }

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:SourceArn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
      }

      # Confused-deputy guard: only deliveries for this account.
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }

  # Confidentiality must not rest on IAM alone: whatever an IAM policy of this
  # account says, only the listed roles decrypt with the key (AWS services
  # acting as themselves, such as CloudWatch Logs, are covered above).
  statement {
    sid       = "DecryptOnlyForListedRoles"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.key_user_role_arns
    }

    condition {
      test     = "BoolIfExists"
      variable = "aws:PrincipalIsAWSService"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.event_bus_arns) > 0 ? [1] : []

    content {
      # EventBridge encrypts the events of these buses with this key.
      sid       = "EventBridgeBuses"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = var.event_bus_arns
      }
    }
  }

  dynamic "statement" {
    for_each = var.allow_cloudwatch_alarms ? [1] : []

    content {
      # Alarm notifications go to an SNS topic encrypted with this key.
      sid       = "CloudWatchAlarmsToEncryptedSns"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["*"]

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
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  deletion_window_in_days = var.deletion_window_in_days
  enable_key_rotation     = true
  rotation_period_in_days = 365
  policy                  = data.aws_iam_policy_document.this.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
