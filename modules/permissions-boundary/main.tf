data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

# The ceiling of every role the Terraform role may create or change (it must
# attach this boundary: see modules/github-oidc). Whatever policy such a role
# is given, it can never administer identities, assume other roles, read
# upload data unless it is one of the roles that read it by design, or
# decrypt with any key unless it is one of the roles that use the key.
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_SUP_3: A permissions boundary grants nothing; it caps what a role's own policies (held to CKV_SUP_3 themselves) can grant. Service-wide actions on this environment's resources are that ceiling; the Deny statements are the point.
  # checkov:skip=CKV_SUP_4: A permissions boundary grants nothing; its Allow statements are the ceiling (this environment's resource patterns, "*" only for X-Ray, metrics and log delivery, which have no resource-level permissions) and its Deny statements take identity administration, role assumption, upload data and decryption away from every role but the listed ones.
  # The services the workload roles use (Lambda functions, the state machine,
  # the Pipe), on this environment's resources wherever the service has
  # resource-level permissions.
  statement {
    sid = "WorkloadServices"
    actions = [
      "dynamodb:*",
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "lambda:InvokeFunction",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "s3:*",
      "sqs:SendMessage",
      "states:StartExecution",
    ]
    resources = var.workload_resource_arns
  }

  # GuardDuty's scanner role keeps the rule that tells GuardDuty of new objects.
  statement {
    sid = "MalwareScanManagedRule"
    actions = [
      "events:DeleteRule",
      "events:DescribeRule",
      "events:ListTargetsByRule",
      "events:PutRule",
      "events:PutTargets",
      "events:RemoveTargets",
    ]
    resources = [var.malware_scan_rule_arn]
  }

  # X-Ray, CloudWatch metrics and vended-log delivery have no resource-level
  # permissions.
  statement {
    sid = "AccountLevelOnly"
    actions = [
      "cloudwatch:PutMetricData",
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

  statement {
    sid    = "NoIdentityAdministration"
    effect = "Deny"
    actions = [
      "iam:*",
      "organizations:*",
      "sts:AssumeRole",
      "sts:AssumeRoleWithWebIdentity",
    ]
    resources = ["*"]
  }

  # Upload data (objects, items, the stream) only for the roles that read it.
  statement {
    sid    = "UploadDataOnlyForItsReaders"
    effect = "Deny"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:GetRecords",
      "dynamodb:PartiQLSelect",
      "dynamodb:Query",
      "dynamodb:Scan",
      "s3:GetObject",
      "s3:GetObjectVersion",
    ]
    resources = flatten([for arn in var.protected_data_arns : [arn, "${arn}/*"]])

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = var.data_reader_role_arns
    }
  }

  statement {
    sid       = "DecryptOnlyForKeyUsers"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = var.key_user_role_arns
    }
  }
}

resource "aws_iam_policy" "this" {
  name        = "${var.name_prefix}-workload-boundary"
  description = "Permissions boundary of every role the Terraform role of ${var.name_prefix} creates."
  policy      = data.aws_iam_policy_document.this.json
  tags        = var.tags
}
