data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_prefix = "${local.partition}:%s:${local.region}:${local.account_id}"

  stack_arn  = "arn:${format(local.arn_prefix, "cloudformation")}:stack/${var.name_prefix}*/*"
  sam_arn    = "arn:${local.partition}:cloudformation:${local.region}:aws:transform/Serverless-2016-10-31"
  lambda_arn = "arn:${format(local.arn_prefix, "lambda")}:function:${var.name_prefix}-*"
  ssm_arn    = "arn:${format(local.arn_prefix, "ssm")}:parameter/${replace(var.name_prefix, "-", "/")}/*"
  state_arn  = "arn:${local.partition}:s3:::${var.state_bucket_name}/${var.state_key}"
}

# ------------------------------------------------------------ deploy role

data "aws_iam_policy_document" "deploy_assume" {
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

    # Only jobs that declare this GitHub environment (and pass its protection rules).
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.environment}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name_prefix}-github-deploy"
  description          = "GitHub Actions deployments of ${var.github_repository} to ${var.environment} (SAM)."
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

data "aws_iam_policy_document" "deploy" {
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
      "cloudformation:UpdateStack",
    ]
    resources = [local.stack_arn]
  }

  statement {
    sid       = "SamTransform"
    actions   = ["cloudformation:CreateChangeSet"]
    resources = [local.sam_arn]
  }

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
      "lambda:GetFunctionConfiguration",
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

  # HTTP APIs get generated ids, so the API resources cannot be named up front.
  statement {
    sid = "HttpApi"
    actions = [
      "apigateway:DELETE",
      "apigateway:GET",
      "apigateway:PATCH",
      "apigateway:POST",
      "apigateway:PUT",
      "apigateway:TagResource",
      "apigateway:UntagResource",
    ]
    resources = [
      "arn:${local.partition}:apigateway:${local.region}::/apis",
      "arn:${local.partition}:apigateway:${local.region}::/apis/*",
      "arn:${local.partition}:apigateway:${local.region}::/tags/*",
    ]
  }

  statement {
    sid       = "ReadPlatformParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.ssm_arn]
  }

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

  # GetAuthorizationToken and log-delivery set-up (API access logs) have no
  # resource-level permissions.
  statement {
    sid = "AccountLevelOnly"
    actions = [
      "ecr:GetAuthorizationToken",
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
}

resource "aws_iam_role_policy" "deploy" {
  name   = "sam-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
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

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:pull_request"]
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.name_prefix}-github-plan"
  description          = "Read-only terraform plan on pull requests of ${var.github_repository}."
  assume_role_policy   = data.aws_iam_policy_document.plan_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# Refreshing every resource type Terraform manages needs the broad read-only
# managed policy; the inline policy below takes data reads back out.
resource "aws_iam_role_policy_attachment" "plan_read_only" {
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

  statement {
    sid       = "DenyEnvironmentKeyUse"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"]
    resources = [var.kms_key_arn]
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
