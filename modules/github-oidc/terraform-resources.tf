# The Terraform role's rights on the platform's resources: buckets, table,
# user pool, repositories, pipeline, observability and SSM parameters, each on
# names of this environment. Merged into the role's policy (terraform.tf).
data "aws_iam_policy_document" "terraform_resources" {
  # ---- S3: the upload and access-log buckets
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

  # force_destroy (throw-away environments only) lists and deletes every
  # object version before deleting a bucket.
  dynamic "statement" {
    for_each = var.terraform_may_empty_buckets ? [1] : []

    content {
      sid       = "ListVersionsToEmptyBuckets"
      actions   = ["s3:ListBucketVersions"]
      resources = [local.tf_bucket_arn]
    }
  }

  dynamic "statement" {
    for_each = var.terraform_may_empty_buckets ? [1] : []

    content {
      sid       = "EmptyBucketsOnDestroy"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = ["${local.tf_bucket_arn}/*"]
    }
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
  statement {
    sid = "Pipes"
    actions = [
      "pipes:CreatePipe",
      "pipes:DeletePipe",
      "pipes:DescribePipe",
      "pipes:ListTagsForResource",
      "pipes:StartPipe",
      "pipes:StopPipe",
      "pipes:TagResource",
      "pipes:UntagResource",
      "pipes:UpdatePipe",
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

  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ListQueueTags",
      "sqs:SetQueueAttributes",
      "sqs:TagQueue",
      "sqs:UntagQueue",
    ]
    resources = [local.tf_queue_arn]
  }

  # ---- events: the object-created rule and the file-events bus
  statement {
    sid = "EventRules"
    actions = [
      "events:DeleteRule",
      "events:DescribeRule",
      "events:ListTagsForResource",
      "events:ListTargetsByRule",
      "events:PutRule",
      "events:PutTargets",
      "events:RemoveTargets",
      "events:TagResource",
      "events:UntagResource",
    ]
    resources = [local.tf_event_rule_arn]
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

  # ---- observability: the alarm topic, alarms and log groups
  statement {
    sid = "Topics"
    actions = [
      "sns:CreateTopic",
      "sns:DeleteTopic",
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:SetTopicAttributes",
      "sns:Subscribe",
      "sns:TagResource",
      "sns:UntagResource",
    ]
    resources = [local.tf_topic_arn]
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

  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey",
      "logs:ListTagsForResource",
      "logs:PutRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
    ]
    resources = local.tf_log_group_arns
  }

  # ---- SSM: the parameters published for SAM
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
