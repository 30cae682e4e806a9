# ------------------------------------------------------------ deploy role (SAM, images)

# Trust: data.aws_iam_policy_document.environment_assume (main.tf), the
# deploy job of deploy-environment.yml on main in this environment.

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

  # sam deploy (DescribeStacks also reads the stack's outputs).
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

  # The only permission SAM adds to a function: API Gateway may invoke it.
  statement {
    sid       = "InvokePermissionForApiGatewayOnly"
    actions   = ["lambda:AddPermission"]
    resources = [local.lambda_arn, "${local.lambda_arn}:*"]

    condition {
      test     = "StringEquals"
      variable = "lambda:Principal"
      values   = ["apigateway.amazonaws.com"]
    }
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

  # make deploy and the workflow read the repository URIs, CloudFormation the
  # template's {{resolve:ssm:...}} references (GetParameters, with the
  # caller's rights).
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

  # The web app's files (make deploy-web: aws s3 sync, --delete). Whoever
  # writes them runs code in every signed-in user's browser, as that user: a
  # right like deploying the functions, used only by the deploy job on main
  # after the gate (prod: its reviewers), every write in the audit trail's
  # data events (environments/bootstrap).
  statement {
    sid       = "ListWebFiles"
    actions   = ["s3:ListBucket"]
    resources = [local.web_bucket_arn]
  }

  statement {
    sid       = "DeployWebFiles"
    actions   = ["s3:DeleteObject", "s3:PutObject"]
    resources = ["${local.web_bucket_arn}/*"]
  }

  # config.json names the API, Cognito and the app client users sign in
  # with: Terraform writes it, applied by a person (environments/README.md,
  # "The web app").
  statement {
    sid     = "DenyWebConfig"
    effect  = "Deny"
    actions = ["s3:DeleteObject*", "s3:PutObject*"]
    # Under any prefix too: a copy of the app under evil/ would read evil/config.json.
    resources = [local.web_config_arn, "${local.web_bucket_arn}/*/config.json"]
  }

  # The web bucket's own key (modules/web), through S3 for that bucket only.
  # Its id is random: it is one of this environment's keys (their tag) that
  # S3 uses with the web bucket's ARN as encryption context (S3 Bucket Keys),
  # which no other bucket's objects get.
  statement {
    sid       = "WebKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.tf_key_arn]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [local.web_bucket_arn]
    }
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
}

resource "aws_iam_role_policy" "deploy" {
  name   = "sam-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
