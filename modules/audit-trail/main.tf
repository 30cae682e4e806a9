# The account's audit trail: one multi-region CloudTrail trail with log-file
# validation, encrypted with its own key, delivering to an Object-Locked
# bucket, and EventBridge rules that e-mail people when someone stops or
# reconfigures it or changes what protects data, identity and the workloads'
# trust. Applied by an administrator from environments/bootstrap; every name
# starts with <project>-audit-, which the CI roles' guard rails protect.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"
  prefix     = "${var.project}-audit"

  trail_name = "${local.prefix}-trail"
  # Written out, not referenced: the key and bucket policies that name the
  # trail must exist before CloudTrail accepts them (postcondition below).
  trail_arn          = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  logs_bucket        = "${local.prefix}-logs-${local.account_id}"
  access_logs_bucket = "${local.prefix}-access-logs-${local.account_id}"
  access_logs_prefix = "trail-bucket/"
  topic_name         = "${local.prefix}-alerts"
  topic_arn          = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"
  rule_arn_pattern   = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.prefix}-*"

  # Who decrypts the logs: the administrators and the listed readers, nobody else.
  reader_arns = distinct(concat(var.administrator_arns, var.reader_arns))

  # The alarms' event patterns, shared with tests/infra/test_audit_alarms.py.
  alarms = jsondecode(templatefile("${path.module}/alarms.json.tftpl", {
    project     = var.project
    environment = var.environment
  }))
}

# ------------------------------------------------------------ key

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: Key policy: "*" is this key; administration is delegated to this account's IAM and denied below to all but the administrators.
  # checkov:skip=CKV_AWS_111: Key policy: "*" is this key; CloudTrail may only generate data keys for this trail (aws:SourceArn), people only decrypt through S3.
  # checkov:skip=CKV_AWS_356: Key policy: the only resource a key policy can name is "*" (this key).

  # Administration is delegated to IAM in this account, and narrowed to the
  # administrators by KeyAdministrationOnlyForAdministrators.
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

  # CloudTrail encrypts log and digest files of this trail only (the
  # conditions of AWS's CloudTrail key-policy guide).
  statement {
    sid       = "CloudTrailEncryptsThisTrail"
    actions   = ["kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*"]
    }
  }

  statement {
    sid       = "CloudTrailDescribesKey"
    actions   = ["kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  # People read log files through S3 only, and only CloudTrail's (its
  # encryption context); DecryptOnlyForReaders says which people.
  statement {
    sid       = "DecryptLogFilesThroughS3"
    actions   = ["kms:Decrypt"]
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
      values   = ["s3.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "Null"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["false"]
    }
  }

  # EventBridge publishes the alarms to the topic, which this key encrypts.
  statement {
    sid       = "EventBridgePublishesAlarms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # Whatever an IAM policy of this account says, only the administrators and
  # the listed readers decrypt (AWS services acting as themselves, above, are
  # not principals of this account).
  statement {
    sid       = "DecryptOnlyForReaders"
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
      values   = local.reader_arns
    }

    condition {
      test     = "BoolIfExists"
      variable = "aws:PrincipalIsAWSService"
      values   = ["false"]
    }
  }

  # Nobody but the administrators can change the key's policy, disable it or
  # schedule its deletion: a CI role with broad KMS rights still cannot
  # blind the trail through its key. The account root user stays listed so a
  # renamed administrator role never leaves the key unmanageable (its use is
  # itself alarmed and recorded).
  statement {
    sid    = "KeyAdministrationOnlyForAdministrators"
    effect = "Deny"
    actions = [
      "kms:CreateGrant",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = concat(var.administrator_arns, [local.root_arn])
    }

    condition {
      test     = "BoolIfExists"
      variable = "aws:PrincipalIsAWSService"
      values   = ["false"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the audit trail of account ${local.account_id} and its alarm topic."
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  rotation_period_in_days = 365
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.prefix}-key"
  target_key_id = aws_kms_key.this.key_id
}

# ------------------------------------------------------------ buckets

module "access_logs_bucket" {
  # checkov:skip=CKV_AWS_18: This bucket is the access-log target; logging it to itself would loop.
  # checkov:skip=CKV_AWS_145: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_SUP_2: S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS targets are unsupported).
  # checkov:skip=CKV_AWS_144: Access logs are kept for a bounded period in-region; replication adds cost without a recovery need.
  # checkov:skip=CKV2_AWS_62: Nothing consumes events of log objects.
  source = "../secure-bucket"

  name = local.access_logs_bucket
  log_delivery_source = {
    bucket_arn = module.logs_bucket.arn
    account_id = local.account_id
    prefix     = local.access_logs_prefix
  }
  configuration_administrator_arns   = var.administrator_arns
  expiration_days                    = var.retention_days
  noncurrent_version_expiration_days = 1
  tags                               = var.tags
}

# Object Lock keeps every log and digest file for retention_days; versions
# expire after that (lifecycle cannot remove a locked version early).
module "logs_bucket" {
  # checkov:skip=CKV_AWS_144: Log files are locked (Object Lock) and their integrity is provable (digest files); a second region is a resilience choice, not an integrity control, and doubles the copies of audit data to protect.
  # checkov:skip=CKV2_AWS_62: Nothing reacts to log deliveries: the alarms come from EventBridge's copy of the CloudTrail events.
  source = "../secure-bucket"

  name                             = local.logs_bucket
  kms_key_arn                      = aws_kms_key.this.arn
  kms_key_aliases                  = [aws_kms_alias.this.arn]
  bucket_key_enabled               = false
  object_reader_arns               = local.reader_arns
  configuration_administrator_arns = var.administrator_arns
  object_lock                      = { mode = var.object_lock_mode, days = var.retention_days }
  cloudtrail_delivery              = { trail_arn = local.trail_arn, account_id = local.account_id }
  access_logs                      = { bucket = module.access_logs_bucket.id, prefix = local.access_logs_prefix }

  expiration_days                    = var.retention_days
  noncurrent_version_expiration_days = 1
  tags                               = var.tags
}

# ------------------------------------------------------------ trail

resource "aws_cloudtrail" "this" {
  # checkov:skip=CKV_AWS_252: A delivery notification fires for every log file (hundreds a day per region) and nothing consumes them; people are alerted by the <project>-audit-* EventBridge rules on the calls themselves, StopLogging and DeleteTrail included.
  # checkov:skip=CKV2_AWS_10: The alarms are EventBridge rules on the same CloudTrail events, and the Object-Locked, digest-validated bucket is the record; a CloudWatch Logs copy would put the data events (users' object keys) in a second store that neither Object Lock nor log-file validation protects, at a cost per GB ingested.
  name                          = local.trail_name
  s3_bucket_name                = module.logs_bucket.id # once the bucket policy admits the trail
  kms_key_id                    = aws_kms_key.this.arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true

  # Management events, read and write, of every service and region.
  advanced_event_selector {
    name = "Management events, read and write"

    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  # Who read, wrote or deleted which object of the upload bucket.
  dynamic "advanced_event_selector" {
    for_each = length(var.s3_data_event_buckets) == 0 ? [] : [1]
    content {
      name = "Object calls on the upload buckets"

      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }

      field_selector {
        field  = "resources.type"
        equals = ["AWS::S3::Object"]
      }

      field_selector {
        field       = "resources.ARN"
        starts_with = [for b in var.s3_data_event_buckets : "arn:${local.partition}:s3:::${b}/"]
      }
    }
  }

  # Who read or rewrote which item of the files table (an item names the
  # object the API signs for; finding 2 of the review).
  dynamic "advanced_event_selector" {
    for_each = length(var.dynamodb_data_event_tables) == 0 ? [] : [1]
    content {
      name = "Item calls on the files tables"

      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }

      field_selector {
        field  = "resources.type"
        equals = ["AWS::DynamoDB::Table"]
      }

      field_selector {
        field  = "resources.ARN"
        equals = [for t in var.dynamodb_data_event_tables : "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${t}"]
      }
    }
  }

  tags = var.tags

  # Every file, the first included, lands in a bucket already locked and encrypted.
  depends_on = [module.logs_bucket]

  lifecycle {
    postcondition {
      condition     = self.arn == local.trail_arn
      error_message = "The trail's ARN differs from the one the key and bucket policies name: CloudTrail could not deliver."
    }
  }
}

# ------------------------------------------------------------ alarms

resource "aws_sns_topic" "alerts" {
  name              = local.topic_name
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "AuditRulesOfThisAccount"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.rule_arn_pattern]
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
    resources = [aws_sns_topic.alerts.arn]

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

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_email_addresses)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

# CloudTrail hands every recorded write call (and denied attempts) to
# EventBridge's default bus in the region of the call; global services such
# as IAM deliver to us-east-1.
resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.alarms

  name          = "${local.prefix}-${each.key}"
  description   = each.value.description
  event_pattern = jsonencode(each.value.event_pattern)
  state         = "ENABLED"
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = local.partition != "aws" || local.region == "us-east-1"
      error_message = "IAM (a global service) sends its CloudTrail events to EventBridge in us-east-1 only: apply the audit trail there."
    }
  }
}

# The e-mail names the rule and says what it means, then carries the whole
# CloudTrail record (who, from where, which call, with which parameters, and
# errorCode if it was refused).
resource "aws_cloudwatch_event_target" "this" {
  for_each = local.alarms

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "alerts"
  arn       = aws_sns_topic.alerts.arn

  input_transformer {
    input_template = "{\"alarm\": \"<aws.events.rule-name>\", \"meaning\": ${jsonencode(each.value.description)}, \"account\": \"${local.account_id}\", \"event\": <aws.events.event.json>}"
  }
}
