# The Terraform role's rights on the platform's resources, each on names of
# this environment: buckets, tables, user pool, repositories, pipeline and
# malware scanning in a managed policy attached to the role (the role cannot
# edit or detach it); observability, the smoke user's secret and the SSM
# parameters in a document merged into its inline policy (terraform.tf). One
# policy would pass IAM's size limits (6,144 and 10,240 characters).
data "aws_iam_policy_document" "terraform_resources" {
  # ---- S3: the upload and access-log buckets
  # The upload bucket's CORS (the web app's origin) too: S3 authorises every
  # request by its signature and the bucket policy, never by its origin, so
  # CORS decides only whether a browser shows S3's answer to a page's script;
  # a holder of a presigned URL needs no CORS (curl ignores it). The web
  # app's own bucket is applied by a person (guard rails).
  statement {
    sid = "Buckets"
    actions = [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:DeleteBucketPolicy",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketLocation",
      "s3:GetBucketLogging",
      "s3:GetBucketNotification",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:ListBucket",
      "s3:PutBucketCORS",
      "s3:PutBucketLogging",
      "s3:PutBucketNotification",
      "s3:PutBucketOwnershipControls",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketTagging",
      "s3:PutBucketVersioning",
      "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration",
    ]
    resources = [local.tf_bucket_arn]
  }

  # ---- DynamoDB: the metadata table (its index and stream included)
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DeleteTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTable",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
      "dynamodb:TagResource",
      "dynamodb:UntagResource",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:UpdateTable",
    ]
    resources = [local.tf_table_arn]
  }

  # ---- Cognito: the user pool and its app client
  # CreateUserPool has no resource-level permissions; the request must carry
  # the environment tag. Its UserPoolTags are authorised by CreateUserPool
  # itself (aws:RequestTag), so TagResource is granted on tagged pools only.
  statement {
    sid       = "CreateUserPool"
    actions   = ["cognito-idp:CreateUserPool"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid = "UserPools"
    actions = [
      "cognito-idp:CreateUserPoolClient",
      "cognito-idp:DeleteUserPool",
      "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:DescribeUserPool",
      "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:GetUserPoolMfaConfig",
      "cognito-idp:ListTagsForResource",
      "cognito-idp:SetUserPoolMfaConfig",
      "cognito-idp:TagResource",
      "cognito-idp:UntagResource",
      "cognito-idp:UpdateUserPool",
      "cognito-idp:UpdateUserPoolClient",
    ]
    resources = [local.tf_user_pool_arn]

    # Pool ids are random: the pool is selected by its environment tag.
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }

  # ---- ECR: the two repositories and their lifecycle policies
  statement {
    sid = "Repositories"
    actions = [
      "ecr:CreateRepository",
      "ecr:DeleteLifecyclePolicy",
      "ecr:DeleteRepository",
      "ecr:DeleteRepositoryPolicy",
      "ecr:DescribeRepositories",
      "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy",
      "ecr:ListTagsForResource",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:PutLifecyclePolicy",
      "ecr:SetRepositoryPolicy",
      "ecr:TagResource",
      "ecr:UntagResource",
    ]
    resources = [local.tf_repository_arn]
  }

  # ---- pipeline: the Pipe, the state machine and the dead-letter queue
  # The Pipe is refreshed and tagged only: a person creates and changes it
  # (guard rails, DenyPipeChanges: its log configuration could send the
  # records it reads anywhere).
  statement {
    sid = "Pipes"
    actions = [
      "pipes:DescribePipe",
      "pipes:ListTagsForResource",
      "pipes:TagResource",
      "pipes:UntagResource",
    ]
    resources = [local.tf_pipe_arn]
  }

  statement {
    sid = "StateMachines"
    actions = [
      "states:CreateStateMachine",
      "states:DeleteStateMachine",
      "states:DescribeStateMachine",
      "states:ListStateMachineVersions",
      "states:ListTagsForResource",
      "states:TagResource",
      "states:UntagResource",
      "states:UpdateStateMachine",
    ]
    resources = [local.tf_state_machine_arn]
  }

  # The dead-letter queue only, by name: a queue of this role's own, with a
  # policy of its choosing, would be somewhere to send events.
  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ListQueueTags",
      "sqs:TagQueue",
      "sqs:UntagQueue",
    ]
    resources = [local.tf_dlq_arn]
  }

  # ---- events: the object-created rule and the file-events bus
  # The object-created rule only, by name (no other rule on any bus); its
  # target is applied by a person (guard rails of every GitHub role,
  # DenyEventTargetsAndQueuePolicies).
  statement {
    sid = "EventRules"
    actions = [
      "events:DeleteRule",
      "events:DescribeRule",
      "events:ListTagsForResource",
      "events:ListTargetsByRule",
      "events:PutRule",
      "events:TagResource",
      "events:UntagResource",
    ]
    resources = [local.tf_object_created_rule_arn]
  }

  statement {
    sid = "EventBuses"
    actions = [
      "events:CreateEventBus",
      "events:DeleteEventBus",
      "events:DescribeEventBus",
      "events:ListTagsForResource",
      "events:TagResource",
      "events:UntagResource",
      "events:UpdateEventBus",
    ]
    resources = [local.tf_event_bus_arn]
  }

  # ---- malware scanning: the GuardDuty Malware Protection plan of the upload bucket
  # Plan ids are random: a plan is selected by its environment tag, set at
  # creation (the guard rails keep it from moving).
  statement {
    sid       = "CreateMalwareProtectionPlans"
    actions   = ["guardduty:CreateMalwareProtectionPlan", "guardduty:TagResource"]
    resources = [local.tf_malware_plan_arn]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid = "ManageMalwareProtectionPlans"
    actions = [
      "guardduty:DeleteMalwareProtectionPlan",
      "guardduty:GetMalwareProtectionPlan",
      "guardduty:ListTagsForResource",
      "guardduty:TagResource",
      "guardduty:UntagResource",
      "guardduty:UpdateMalwareProtectionPlan",
    ]
    resources = [local.tf_malware_plan_arn]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }
}

locals {
  # The one queue, topic and rule the platform creates under each name
  # (modules/pipeline, modules/observability, modules/upload-events); the
  # Terraform role may create no other, so none can become a sink for
  # events (tests/e2e/test_iam_escalation.py checks every one applied).
  tf_dlq_arn                 = "arn:${format(local.arn_prefix, "sqs")}:${var.name_prefix}-files-stream-dlq"
  tf_alarm_topic_arn         = "arn:${format(local.arn_prefix, "sns")}:${var.name_prefix}-alarms"
  tf_object_created_rule_arn = "arn:${format(local.arn_prefix, "events")}:rule/${var.name_prefix}-object-created"
}

# Observability, the smoke user's secret and the SSM parameters: merged into
# the role's inline policy (terraform.tf), so neither policy passes IAM's size
# limits.
data "aws_iam_policy_document" "terraform_operations" {
  # ---- observability: the alarm topic, alarms and log groups
  # The alarm topic only, by name: a topic of this role's own would be
  # somewhere to send events.
  statement {
    sid = "Topics"
    actions = [
      "sns:CreateTopic",
      "sns:DeleteTopic",
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:SetTopicAttributes",
      "sns:TagResource",
      "sns:UntagResource",
    ]
    resources = [local.tf_alarm_topic_arn]
  }

  # Its e-mail subscription (alarm_email), and no other protocol: an https,
  # SQS or Lambda subscriber would be an endpoint of this role's choosing.
  statement {
    sid       = "AlarmEmailSubscription"
    actions   = ["sns:Subscribe"]
    resources = [local.tf_alarm_topic_arn]

    condition {
      test     = "StringEquals"
      variable = "sns:Protocol"
      values   = ["email"]
    }
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = [local.tf_alarm_arn]
  }

  statement {
    sid       = "Dashboards"
    actions   = ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"]
    resources = [local.tf_dashboard_arn]
  }

  # Deleting a log group and changing its retention are left to people
  # (guard rails): logs are audit data. A new log group with a retention is
  # therefore applied by a person, like the first apply.
  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:DisassociateKmsKey",
      "logs:ListTagsForResource",
      "logs:TagResource",
      "logs:UntagResource",
    ]
    resources = local.tf_log_group_arns
  }

  # The metric filter that counts API Gateway's 429s (modules/observability):
  # on the API access log groups only, never on a function's or the audit logs.
  statement {
    sid       = "AccessLogMetricFilters"
    actions   = ["logs:DeleteMetricFilter", "logs:PutMetricFilter"]
    resources = [local.tf_access_log_group_arn]
  }

  # ---- Secrets Manager: the smoke user's secret, the container only
  # (smoke.tf). Its value is written by a person and read only by the smoke
  # role: the guard rails deny this role every read or write of a value.
  statement {
    sid = "SmokeUserSecret"
    # Refresh only: with PutResourcePolicy or UpdateSecret this role could open
    # the secret to another role or move it to another key before the next
    # enrolment; a person creates and changes it, as the GitHub roles.
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
    ]
    resources = [local.tf_smoke_user_store_arn]
  }

  # ---- SSM: the parameters published for SAM
  # Created here; once they exist their values are out of this role's reach
  # (guard rails: no overwrite, no deletion): SAM reads them into the
  # functions and the API's authorizer.
  statement {
    sid = "Parameters"
    actions = [
      "ssm:AddTagsToResource",
      "ssm:DeleteParameter",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:ListTagsForResource",
      "ssm:PutParameter",
      "ssm:RemoveTagsFromResource",
    ]
    resources = [local.ssm_arn]
  }
}

resource "aws_iam_policy" "terraform_resources" {
  name        = "${var.name_prefix}-github-terraform-resources"
  description = "What the Terraform role of ${var.environment} may do to the platform's resources (its guard rails deny the rest)."
  policy      = data.aws_iam_policy_document.terraform_resources.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_resources" {
  role       = aws_iam_role.terraform.name
  policy_arn = aws_iam_policy.terraform_resources.arn
}
