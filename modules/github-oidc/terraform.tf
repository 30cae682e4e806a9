# ------------------------------------------------------------ Terraform role (make init/plan/apply)

# Applying the platform needs broad rights. They are limited to the services
# this platform uses, to resources named <project>-<env>-* wherever the service
# supports resource-level permissions, and fenced by explicit denies: no IAM
# users or identity providers, no changes to the GitHub roles (this one
# included), no reading of uploaded files or metadata items, no administration
# of the state key. Changes to the GitHub roles are applied by a person with
# administrator credentials, like the first apply.
resource "aws_iam_role" "terraform" {
  name                 = "${var.name_prefix}-github-terraform"
  description          = "GitHub Actions terraform apply of ${var.github_repository} to ${var.environment}."
  assume_role_policy   = data.aws_iam_policy_document.environment_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

data "aws_iam_policy_document" "terraform" {
  # ---- state: this environment's key and lock file only
  # ListBucket returns key names only; the backend lists workspaces with it.
  statement {
    sid       = "StateBucketList"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "StateReadWrite"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.state_arn]
  }

  statement {
    sid       = "StateLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_arn}.tflock"]
  }

  # The backend names the key by alias; IAM matches keys by ARN, so select
  # the key through its alias, and only for S3 requests.
  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.tf_key_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.state_kms_key_alias]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # ---- KMS: the environment key
  # CreateKey has no resource-level permissions; the request must carry the
  # environment tag (the provider's default tags). AWS KMS authorises the tags
  # of a CreateKey request as kms:TagResource on no particular key, so that
  # permission cannot be narrowed to a key: it is pinned to the same request
  # tag, and the guard rails deny tagging a key of another environment and
  # changing or removing the environment tag.
  statement {
    sid       = "CreateEnvironmentKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  # Key ids are random: the key is selected by its environment tag. An alias
  # action needs the key (here) and the alias (next statement).
  statement {
    sid = "ManageEnvironmentKey"
    actions = [
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = [local.tf_key_arn]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }

  # Aliases carry no tags: only alias/<project>-<env>, by name.
  statement {
    sid       = "EnvironmentKeyAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = [local.tf_alias_arn]
  }

  # DynamoDB, ECR, Step Functions and Pipes create grants on the key (and
  # check it) with the caller's rights when a resource is encrypted with it.
  statement {
    sid = "KeyThroughServices"
    actions = [
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:RetireGrant",
    ]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for s in ["dynamodb", "ecr", "states", "pipes"] : "${s}.${local.region}.amazonaws.com"]
    }
  }

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

  # ---- IAM: the workload roles (the GitHub roles are denied in the guard rails)
  statement {
    sid = "ReadWorkloadRoles"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
    ]
    resources = [local.tf_role_arn]
  }

  # Every role this role creates, and every policy change it makes to one,
  # keeps the permissions boundary: whatever the policy, the role can never
  # administer identities, assume roles, or read upload data unless it is one
  # of the roles that read it by design. Trust policies are set at creation;
  # changing one later is denied (guard rails) and applied by a person.
  statement {
    sid = "ChangeWorkloadRolesWithinTheBoundary"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
    ]
    resources = [local.tf_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [var.permissions_boundary_arn]
    }
  }

  statement {
    sid = "WorkloadRoleSettings"
    actions = [
      "iam:DeleteRole",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = [local.tf_role_arn]
  }

  # The state machine's and the Pipe's roles, to their services only.
  statement {
    sid       = "PassWorkloadRoles"
    actions   = ["iam:PassRole"]
    resources = [local.tf_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["pipes.amazonaws.com", "states.amazonaws.com"]
    }
  }

  # ---- no resource-level permissions in these services
  # kms:ListAliases, ssm:DescribeParameters, logs:DescribeLogGroups and SNS
  # subscription calls (the e-mail subscription's id is random) exist on "*"
  # only; log-delivery set-up is what Step Functions and Pipes need for
  # vended logs.
  statement {
    sid = "AccountLevelOnly"
    actions = [
      "kms:ListAliases",
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
      "sns:GetSubscriptionAttributes",
      "sns:SetSubscriptionAttributes",
      "sns:Unsubscribe",
      "ssm:DescribeParameters",
    ]
    resources = ["*"]
  }

  # Refresh of the guard rails and the permissions boundary (which this role
  # cannot change: CreatePolicyVersion is denied).
  statement {
    sid       = "ReadGuardRailsAndBoundary"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"]
    resources = [local.tf_guard_rails_arn, var.permissions_boundary_arn]
  }
}

resource "aws_iam_role_policy" "terraform" {
  name   = "terraform-apply"
  role   = aws_iam_role.terraform.id
  policy = data.aws_iam_policy_document.terraform.json
}
