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
  tf_alarm_arn         = "arn:${format(local.arn_prefix, "cloudwatch")}:alarm:${var.name_prefix}-*"
  tf_dashboard_arn     = "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${var.name_prefix}-*"
  tf_event_bus_arn     = "arn:${format(local.arn_prefix, "events")}:event-bus/${var.name_prefix}-*"
  tf_malware_plan_arn  = "arn:${format(local.arn_prefix, "guardduty")}:malware-protection-plan/*"
  tf_log_group_arns = [
    "arn:${format(local.arn_prefix, "logs")}:log-group:/aws/lambda/${var.name_prefix}-*",
    "arn:${format(local.arn_prefix, "logs")}:log-group:/aws/vendedlogs/*/${var.name_prefix}-*",
  ]
  tf_access_log_group_arn = "arn:${format(local.arn_prefix, "logs")}:log-group:/aws/vendedlogs/apigateway/${var.name_prefix}-*"
  # The web app's bucket, named as modules/web names it; config.json, beside
  # the app, is Terraform's (it names the API, Cognito and the app client).
  web_bucket_arn = "arn:${local.partition}:s3:::${var.name_prefix}-web-${local.account_id}"
  web_config_arn = "${local.web_bucket_arn}/config.json"
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

  # The configuration reads terraform plan makes to refresh the platform's
  # resource types (and nothing that returns data).
  plan_refresh_actions = [
    "cloudfront:GetDistribution",
    "cloudfront:GetOriginAccessControl",
    "cloudfront:GetResponseHeadersPolicy",
    "cloudfront:ListTagsForResource",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "cognito-idp:DescribeUserPool",
    "cognito-idp:DescribeUserPoolClient",
    "cognito-idp:GetUserPoolMfaConfig",
    "cognito-idp:ListTagsForResource",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:ListTagsOfResource",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "events:DescribeEventBus",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "guardduty:GetMalwareProtectionPlan",
    "guardduty:ListTagsForResource",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListPolicyTags",
    "iam:ListPolicyVersions",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups",
    "logs:DescribeMetricFilters",
    "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "pipes:DescribePipe",
    "pipes:ListTagsForResource",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
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
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sqs:GetQueueAttributes",
    "sqs:ListQueueTags",
    "ssm:DescribeParameters",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:ListTagsForResource",
    "states:DescribeStateMachine",
    "states:ListStateMachineVersions",
    "states:ListTagsForResource",
    "states:ValidateStateMachineDefinition",
  ]
}

# ------------------------------------------------------------ environment roles

# GitHub's OIDC subject is customised for this repository (include_claim_keys
# = repo, context, ref, job_workflow_ref; the `gh api` call is in the README):
#   repo:<org>/<repo>:<context>:ref:<caller's ref>:job_workflow_ref:<org>/<repo>/<file>@<ref>
# where <context> is `environment:<name>` for a job that declares an
# environment, `ref:<ref>` for other jobs and `pull_request` in pull requests.
# `ref` is the ref that triggered the caller; `job_workflow_ref` names the
# reusable workflow and the ref it was called at. Both must be main: a branch
# that calls `deploy-environment.yml@main` has its own ref in the subject, and
# main's workflow file alone is not enough. The values are written out (no
# locals or variables) so that CKV_SUP_5 can check the ref and the file.

# The deploy and Terraform roles: only jobs of the promotion workflow's
# deploy-environment.yml, run by a push to main, that declare this GitHub
# environment (and so pass its protection rules). Another branch, another
# workflow, or a job of the same workflow without the environment (the plan
# job) gets a different subject.
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
      values   = ["repo:${var.github_repository}:environment:${var.environment}:ref:refs/heads/main:job_workflow_ref:${var.github_repository}/.github/workflows/deploy-environment.yml@refs/heads/main"]
    }
  }
}

# The smoke role: its own workflow file, smoke-environment.yml, on main in this
# environment. The deploy job (deploy-environment.yml) cannot assume it, and
# the smoke job cannot assume the deploy or Terraform roles.
data "aws_iam_policy_document" "smoke_assume" {
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
      values   = ["repo:${var.github_repository}:environment:${var.environment}:ref:refs/heads/main:job_workflow_ref:${var.github_repository}/.github/workflows/smoke-environment.yml@refs/heads/main"]
    }
  }
}
