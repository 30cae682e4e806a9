data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  arn_prefix = "${local.partition}:%s:${local.region}:${local.account_id}"

  stack_arn  = "arn:${format(local.arn_prefix, "cloudformation")}:stack/${var.name_prefix}-*/*"
  sam_arn    = "arn:${local.partition}:cloudformation:${local.region}:aws:transform/Serverless-2016-10-31"
  lambda_arn = "arn:${format(local.arn_prefix, "lambda")}:function:${var.name_prefix}-*"
  # Parameter ARNs have no slash between "parameter" and a path that starts with one.
  ssm_arn          = "arn:${format(local.arn_prefix, "ssm")}:parameter${var.ssm_parameter_path}/*"
  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
  state_arn        = "${local.state_bucket_arn}/${var.state_key}"

  # What the Terraform role may manage, by name (see the contract's names).
  # Buckets end in the account id; roles, tables, queues, topics, pipes, state
  # machines, alarms and log groups start with <project>-<env>-.
  tf_bucket_arn        = "arn:${local.partition}:s3:::${var.name_prefix}-*-${local.account_id}"
  tf_table_arn         = "arn:${format(local.arn_prefix, "dynamodb")}:table/${var.name_prefix}-*"
  tf_role_arn          = "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-*"
  tf_github_role_arn   = "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-github-*"
  tf_repository_arn    = "arn:${format(local.arn_prefix, "ecr")}:repository/${var.name_prefix}/*"
  tf_pipe_arn          = "arn:${format(local.arn_prefix, "pipes")}:pipe/${var.name_prefix}-*"
  tf_state_machine_arn = "arn:${format(local.arn_prefix, "states")}:stateMachine:${var.name_prefix}-*"
  tf_queue_arn         = "arn:${format(local.arn_prefix, "sqs")}:${var.name_prefix}-*"
  tf_topic_arn         = "arn:${format(local.arn_prefix, "sns")}:${var.name_prefix}-*"
  tf_alarm_arn         = "arn:${format(local.arn_prefix, "cloudwatch")}:alarm:${var.name_prefix}-*"
  tf_log_group_arns = [
    "arn:${format(local.arn_prefix, "logs")}:log-group:/aws/lambda/${var.name_prefix}-*",
    "arn:${format(local.arn_prefix, "logs")}:log-group:/aws/vendedlogs/*/${var.name_prefix}-*",
  ]
  # Key and user pool ids are random: statements on these ARNs select the
  # environment's key and pool by their environment tag (provider
  # default_tags) or the state key by its alias; the state key is also
  # protected by a Deny.
  tf_key_arn       = "arn:${format(local.arn_prefix, "kms")}:key/*"
  tf_alias_arn     = "arn:${format(local.arn_prefix, "kms")}:alias/${var.name_prefix}"
  tf_user_pool_arn = "arn:${format(local.arn_prefix, "cognito-idp")}:userpool/*"

  tf_guard_rails_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.name_prefix}-github-terraform-guard-rails"

  # HTTP APIs (deploy role): the collection that creation calls address, and
  # tagging, whose ARN embeds the URL-encoded ARN of the API or stage.
  http_apis_arn     = "arn:${local.partition}:apigateway:${local.region}::/apis"
  http_api_tags_arn = "arn:${local.partition}:apigateway:${local.region}::/tags/*"

  # The services whose resources Terraform refreshes by decrypting them with
  # the environment key (state machine definition, Pipe filter).
  plan_key_via_services = ["states.${local.region}.amazonaws.com", "pipes.${local.region}.amazonaws.com"]
}

# ------------------------------------------------------------ environment roles

# The deploy and Terraform roles are both assumed only by jobs that declare
# the GitHub environment (and so pass its protection rules).
data "aws_iam_policy_document" "environment_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.environment}"]
    }
  }
}

# ------------------------------------------------------------ deploy role (SAM, images, smoke test)

resource "aws_iam_role" "deploy" {
  name                 = "${var.name_prefix}-github-deploy"
  description          = "GitHub Actions deployments of ${var.github_repository} to ${var.environment} (SAM)."
  assume_role_policy   = data.aws_iam_policy_document.environment_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# HTTP APIs (v2) get generated ids, and their stages, routes, integrations,
# authorizers and deployments carry no tags, so neither a name nor
# aws:ResourceTag can select them; CloudFormation's ImportApi (PUT /apis with
# SAM's OpenAPI body) does not surface aws:RequestTag either. So the deploy
# role gets the HTTP verbs on the API collection, any API below it and
# tagging, fenced by the denies in the deploy policy (another environment's
# API or stage, retagging, untagging). One environment is one account. A
# document of its own so that the CKV_SUP_4 waiver covers this statement only;
# the deploy policy merges it (source_policy_documents).
data "aws_iam_policy_document" "deploy_http_apis" {
  # checkov:skip=CKV_SUP_4: API Gateway ARNs are paths (/apis/<api id>/...) whose API id is generated at creation and unknown when this policy is written, and routes, integrations and authorizers carry no tags to select them by; the statement is limited to HTTP APIs and tagging in this region and account, and the deploy policy denies every call on an API or stage tagged for another environment.
  statement {
    sid = "HttpApis"
    actions = [
      "apigateway:DELETE",
      "apigateway:GET",
      "apigateway:PATCH",
      "apigateway:POST",
      "apigateway:PUT",
    ]
    resources = [local.http_apis_arn, "${local.http_apis_arn}/*", local.http_api_tags_arn]
  }
}

data "aws_iam_policy_document" "deploy" {
  source_policy_documents = [data.aws_iam_policy_document.deploy_http_apis.json]

  # sam deploy; the smoke test reads the stack's ApiEndpoint output (DescribeStacks).
  statement {
    sid = "SamStacks"
    actions = [
      "cloudformation:CreateChangeSet",
      "cloudformation:CreateStack",
      "cloudformation:DeleteChangeSet",
      "cloudformation:DescribeChangeSet",
      "cloudformation:DescribeStackEvents",
      "cloudformation:DescribeStackResource",
      "cloudformation:DescribeStackResources",
      "cloudformation:DescribeStacks",
      "cloudformation:ExecuteChangeSet",
      "cloudformation:GetTemplate",
      "cloudformation:GetTemplateSummary",
      "cloudformation:ListStackResources",
      "cloudformation:TagResource",
      "cloudformation:UpdateStack",
    ]
    resources = [local.stack_arn]
  }

  statement {
    sid       = "SamTransform"
    actions   = ["cloudformation:CreateChangeSet"]
    resources = [local.sam_arn]
  }

  # CloudFormation's Lambda handlers also read the code-signing, recursion and
  # runtime-management settings and the permissions' resource policy.
  statement {
    sid = "Functions"
    actions = [
      "lambda:AddPermission",
      "lambda:CreateAlias",
      "lambda:CreateFunction",
      "lambda:DeleteAlias",
      "lambda:DeleteFunction",
      "lambda:DeleteFunctionConcurrency",
      "lambda:GetAlias",
      "lambda:GetFunction",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionRecursionConfig",
      "lambda:GetPolicy",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListTags",
      "lambda:ListVersionsByFunction",
      "lambda:PublishVersion",
      "lambda:PutFunctionConcurrency",
      "lambda:RemovePermission",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:UpdateAlias",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
    ]
    resources = [local.lambda_arn, "${local.lambda_arn}:*"]
  }

  statement {
    sid       = "PassOnlyTheExecutionRoles"
    actions   = ["iam:PassRole"]
    resources = var.lambda_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  # An API or stage that carries another environment's tag is out of bounds.
  # (Routes, integrations and authorizers carry no tags for this Deny to see;
  # one environment is one account, so only this environment's APIs are here.)
  statement {
    sid    = "DenyOtherEnvironmentsHttpApis"
    effect = "Deny"
    actions = [
      "apigateway:DELETE",
      "apigateway:GET",
      "apigateway:PATCH",
      "apigateway:POST",
      "apigateway:PUT",
    ]
    resources = ["${local.http_apis_arn}/*", local.http_api_tags_arn]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/environment"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }

  # The environment tag marks the API: no API is created with another value
  # (CreateApi POST /apis, ImportApi PUT /apis), and it may not be given
  # another value (TagResource is POST /tags/...) or removed (UntagResource is
  # DELETE).
  statement {
    sid       = "DenyHttpApiEnvironmentRetag"
    effect    = "Deny"
    actions   = ["apigateway:POST", "apigateway:PUT"]
    resources = [local.http_apis_arn, local.http_api_tags_arn]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/environment"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "DenyHttpApiEnvironmentUntag"
    effect    = "Deny"
    actions   = ["apigateway:DELETE"]
    resources = [local.http_api_tags_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:TagKeys"
      values   = ["environment"]
    }
  }

  # make deploy and the workflow read the repository URIs, the smoke test the
  # user pool and app client ids, CloudFormation the template's
  # {{resolve:ssm:...}} references (GetParameters, with the caller's rights).
  statement {
    sid       = "ReadPlatformParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.ssm_arn]
  }

  # skopeo copy/inspect into this environment's two repositories, and Lambda
  # reading the image when CloudFormation creates or updates a function.
  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = var.ecr_repository_arns
  }

  # The one registry-wide call: amazon-ecr-login's docker login token. AWS
  # offers ecr:GetAuthorizationToken on "*" only; the token itself grants
  # nothing beyond the repository permissions above.
  statement {
    sid       = "RegistryLoginToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # Log-delivery set-up (the HTTP API's access logs) has no resource-level
  # permissions.
  statement {
    sid = "AccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }

  # Image layers (ECR) and function environment variables (Lambda) are
  # encrypted with the environment key.
  statement {
    sid       = "KeyThroughEcrAndLambda"
    actions   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ecr.${local.region}.amazonaws.com", "lambda.${local.region}.amazonaws.com"]
    }
  }

  # The smoke test: a throw-away user (no message sent), a permanent random
  # password, an ADMIN_USER_PASSWORD_AUTH sign-in for an IdToken, deletion.
  # Where the pool requires MFA the sign-in answers MFA_SETUP / SOFTWARE_TOKEN_MFA
  # (AdminRespondToAuthChallenge). AssociateSoftwareToken and VerifySoftwareToken
  # are not listed: Cognito authorises them by the sign-in session and does not
  # evaluate IAM policies for them (the SDK sends them unsigned).
  statement {
    sid = "SmokeTestUser"
    actions = [
      "cognito-idp:AdminCreateUser",
      "cognito-idp:AdminDeleteUser",
      "cognito-idp:AdminInitiateAuth",
      "cognito-idp:AdminRespondToAuthChallenge",
      "cognito-idp:AdminSetUserPassword",
    ]
    resources = [var.user_pool_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "sam-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

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

  # ---- IAM: the workload roles (the GitHub roles are denied below)
  statement {
    sid = "WorkloadRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
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

  # Refresh of the guard-rail policy below (which this role cannot change).
  statement {
    sid       = "ReadGuardRails"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"]
    resources = [local.tf_guard_rails_arn]
  }
}

resource "aws_iam_role_policy" "terraform" {
  name   = "terraform-apply"
  role   = aws_iam_role.terraform.id
  policy = data.aws_iam_policy_document.terraform.json
}

# The denies live in a managed policy of their own: they stay outside the
# inline policy's 10,240-character limit, and this role can neither edit nor
# detach them (CreatePolicyVersion and changes to the GitHub roles are denied).
data "aws_iam_policy_document" "terraform_guard_rails" {
  statement {
    sid    = "DenyIdentityAdministration"
    effect = "Deny"
    actions = [
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:AddUserToGroup",
      "iam:AttachGroupPolicy",
      "iam:AttachUserPolicy",
      "iam:CreateAccessKey",
      "iam:CreateGroup",
      "iam:CreateLoginProfile",
      "iam:CreateOpenIDConnectProvider",
      "iam:CreatePolicy",
      "iam:CreatePolicyVersion",
      "iam:CreateSAMLProvider",
      "iam:CreateUser",
      "iam:DeleteOpenIDConnectProvider",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:PutGroupPolicy",
      "iam:PutUserPolicy",
      "iam:RemoveClientIDFromOpenIDConnectProvider",
      "iam:SetDefaultPolicyVersion",
      "iam:UpdateLoginProfile",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ]
    resources = ["*"]
  }

  # This role must not widen itself, nor the deploy or plan role.
  statement {
    sid    = "DenyGitHubRoleChanges"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PassRole",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = [local.tf_github_role_arn]
  }

  # The state key is administered by people only.
  statement {
    sid    = "DenyStateKeyAdministration"
    effect = "Deny"
    actions = [
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DisableKey",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = [local.tf_key_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.state_kms_key_alias]
    }
  }

  # The environment key and user pool are selected by their environment tag, so
  # the tag must not move: no tagging of a key or pool that carries another
  # environment's tag, no other value, no removal. (Tags set at creation are
  # this environment's: the Allow pins aws:RequestTag.)
  statement {
    sid       = "DenyTaggingOtherEnvironments"
    effect    = "Deny"
    actions   = ["cognito-idp:TagResource", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/environment"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "DenyEnvironmentRetag"
    effect    = "Deny"
    actions   = ["cognito-idp:TagResource", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/environment"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "DenyEnvironmentUntag"
    effect    = "Deny"
    actions   = ["cognito-idp:UntagResource", "kms:UntagResource"]
    resources = ["*"]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:TagKeys"
      values   = ["environment"]
    }
  }

  # Terraform manages containers, never their contents.
  statement {
    sid    = "DenyDataReads"
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
  }
}

resource "aws_iam_policy" "terraform_guard_rails" {
  name        = "${var.name_prefix}-github-terraform-guard-rails"
  description = "Denies for the Terraform role of ${var.environment}: identity administration, GitHub roles, state key, data reads."
  policy      = data.aws_iam_policy_document.terraform_guard_rails.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_guard_rails" {
  role       = aws_iam_role.terraform.name
  policy_arn = aws_iam_policy.terraform_guard_rails.arn
}

# ------------------------------------------------------------ plan role (pull requests)

data "aws_iam_policy_document" "plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Pull requests plan for review; main's deploy workflow publishes a plan
    # before prod's reviewers approve it. Both only read.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${var.github_repository}:pull_request",
        "repo:${var.github_repository}:ref:refs/heads/main",
      ]
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.name_prefix}-github-plan"
  description          = "Read-only terraform plan for pull requests and main of ${var.github_repository}."
  assume_role_policy   = data.aws_iam_policy_document.plan_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# Refreshing every resource type Terraform manages needs the broad read-only
# managed policy; the inline policy below takes data reads back out.
resource "aws_iam_role_policy_attachment" "plan_read_only" {
  # checkov:skip=CKV_SUP_12: Plan role only: terraform plan must refresh every managed resource type, which AWS ReadOnlyAccess covers; it cannot write, and the inline policy explicitly denies reads of uploaded files, metadata items, user data, logs, secrets and any use of the environment key other than decrypting the state machine and Pipe definitions through those services for refresh.
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.state_arn]
  }

  # plan takes the S3-native lock (<key>.tflock) while it runs.
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
    resources = ["arn:${format(local.arn_prefix, "kms")}:key/*"]

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

  # Pull-request code runs with this role: it must not read uploaded files,
  # metadata, or anything encrypted with the environment key.
  statement {
    sid    = "DenyDataReads"
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
  }

  # Refresh of the KMS-encrypted state machine (DescribeStateMachine decrypts
  # its definition) and Pipe (DescribePipe decrypts its filter) needs Decrypt,
  # through those two services only. Execution input and history stay denied
  # below (DenyUserDataReads).
  statement {
    sid       = "DecryptDefinitionsForRefresh"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.plan_key_via_services
    }
  }

  # Any other decryption with the environment key (S3 objects, table items,
  # streams, queues, log data, direct calls; a direct call has no ViaService, so
  # StringNotEquals matches it). Scoped so it does not cancel the Allow above.
  statement {
    sid       = "DenyEnvironmentKeyUse"
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringNotEquals"
      variable = "kms:ViaService"
      values   = local.plan_key_via_services
    }
  }

  # Data keys and re-encryption: never, through any service.
  statement {
    sid       = "DenyEnvironmentKeyEncryption"
    effect    = "Deny"
    actions   = ["kms:GenerateDataKey", "kms:ReEncryptFrom"]
    resources = [var.kms_key_arn]
  }

  # ReadOnlyAccess also reads user data outside the buckets and the table:
  # user profiles and devices (Cognito), log events (Lambda and API logs carry
  # owners, file names and keys), execution input and history (stream records).
  # Refresh needs none of these. "*": log queries, their results and log
  # records have no resource-level permissions, and one environment is one
  # account, so nothing of another environment is affected.
  statement {
    sid    = "DenyUserDataReads"
    effect = "Deny"
    actions = [
      "cognito-idp:AdminGetDevice",
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminListDevices",
      "cognito-idp:AdminListGroupsForUser",
      "cognito-idp:ListUsers",
      "cognito-idp:ListUsersInGroup",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogRecord",
      "logs:GetQueryResults",
      "logs:StartLiveTail",
      "logs:StartQuery",
      "states:DescribeExecution",
      "states:GetExecutionHistory",
    ]
    resources = ["*"]
  }

  # The platform keeps no secrets; deny them anyway should one be added.
  # (SSM parameters hold names and ARNs only, and plan must refresh them.)
  statement {
    sid       = "DenySecrets"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "state-access-and-data-deny"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}
