# ------------------------------------------------------------ plan role (pull requests)

data "aws_iam_policy_document" "plan_assume" {
  # The promotion workflow's plan job (deploy-environment.yml, no GitHub
  # environment) run by a push to main publishes a plan before the
  # environment's reviewers approve it. Only reads. Subject format: main.tf.
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

    # A job without an environment has the context `ref:<ref>`, followed by
    # the `ref` claim itself: GitHub writes the ref twice. The second value,
    # with the ref once, is what the subject would be should GitHub ever fold
    # the two; both name main as the caller's ref and the workflow's.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${var.github_repository}:ref:refs/heads/main:ref:refs/heads/main:job_workflow_ref:${var.github_repository}/.github/workflows/deploy-environment.yml@refs/heads/main",
        "repo:${var.github_repository}:ref:refs/heads/main:job_workflow_ref:${var.github_repository}/.github/workflows/deploy-environment.yml@refs/heads/main",
      ]
    }
  }

  # Where plan_on_pull_requests is set (dev only), the plan workflow's
  # pull-request runs plan too: pull-request code runs with this role, so
  # stage and prod never trust them.
  dynamic "statement" {
    for_each = var.plan_on_pull_requests ? [1] : []

    content {
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

      # Any pull request's merge ref, but only through the plan workflow file.
      condition {
        test     = "StringLike"
        variable = "token.actions.githubusercontent.com:sub"
        values   = ["repo:${var.github_repository}:pull_request:ref:refs/pull/*/merge:job_workflow_ref:${var.github_repository}/.github/workflows/plan.yml@refs/pull/*/merge"]
      }
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

data "aws_iam_policy_document" "plan" {
  # checkov:skip=CKV_AWS_356: RefreshPlatformResources is a list of configuration reads (Describe/Get/List) that terraform plan makes on every managed resource type, some of which exist on "*" only; reads of data, state and secrets are denied in the same document, and the role writes nothing.
  # checkov:skip=CKV_SUP_4: RefreshPlatformResources lists configuration reads (Describe/Get/List of the platform's resource types) that terraform plan makes on every managed resource, some of which (ListAliases, DescribeParameters, DescribeLogGroups) exist on "*" only; every read of data, state or secrets is denied in the same document.
  # Plans run with -lock=false: the role never writes, so it cannot take or
  # delete a lock (an apply's included). A plan saved while state changed is
  # refused as stale when applied.
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.state_arn]
  }

  # The web app's config.json (aws_s3_object): refresh reads its metadata
  # (HeadObject) and tags. What it holds is public: the app loads it.
  statement {
    sid       = "RefreshWebConfig"
    actions   = ["s3:GetObject", "s3:GetObjectTagging"]
    resources = [local.web_config_arn]
  }

  # No other object anywhere: other environments' state, lock files, uploads,
  # the web app's code.
  statement {
    sid           = "DenyOtherObjects"
    effect        = "Deny"
    actions       = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    not_resources = [local.state_arn, local.web_config_arn]
  }

  # What terraform plan refreshes, and nothing else: the configuration reads
  # of the resource types the platform manages (an allow-list, not
  # ReadOnlyAccess). HeadBucket needs s3:ListBucket, which also lists object
  # keys; the keys hold owner ids and file names, so the denies below and the
  # bucket policies keep every object's content out of reach.
  statement {
    sid       = "RefreshPlatformResources"
    actions   = local.plan_refresh_actions
    resources = ["*"]
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
