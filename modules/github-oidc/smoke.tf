# ------------------------------------------------------------ smoke role (make smoke)

# The smoke test's own identity. It signs in as the environment's smoke user,
# an ordinary user of the pool, through the public flow (USER_SRP_AUTH and a
# TOTP code: calls botocore sends unsigned, which IAM never sees), so it holds
# no cognito-idp permission at all: what it reaches through the API is the
# smoke user's own files. A person creates the user and its credentials once
# (`make smoke-user ENV=<env>`, administrator credentials); Terraform creates
# only the empty secret that holds them, so no value is ever in state.

locals {
  # name_prefix is <project>-<environment>; the break-glass role is
  # <project>-break-glass (environments/bootstrap), named exactly: a pattern
  # would also match a role the Terraform role may create (<project>-<env>-*).
  smoke_project        = trimsuffix(var.name_prefix, "-${var.environment}")
  break_glass_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.smoke_project}-break-glass"
  # The two parameters the smoke client reads (services/smoke/smoke/client.py),
  # named by the data contract.
  smoke_contract = jsondecode(file("${path.module}/../../services/contract/upload_contract/contract.json"))
  smoke_parameter_arns = [
    for key in ["cognito_user_pool_id", "cognito_app_client_id"] :
    "arn:${format(local.arn_prefix, "ssm")}:parameter${var.ssm_parameter_path}/${local.smoke_contract.ssm_parameters[key]}"
  ]
  smoke_environment_role_arns = "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-*"
}

resource "aws_iam_role" "smoke" {
  name                 = "${var.name_prefix}-github-smoke"
  description          = "GitHub Actions smoke test of ${var.github_repository} in ${var.environment}: the smoke user uploads, checks and deletes one file."
  assume_role_policy   = data.aws_iam_policy_document.smoke_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

data "aws_iam_policy_document" "smoke" {
  # The user pool and app client ids.
  statement {
    sid       = "ReadSmokeParameters"
    actions   = ["ssm:GetParameter"]
    resources = local.smoke_parameter_arns
  }

  # The API endpoint (the stack's ApiEndpoint output).
  statement {
    sid       = "ReadApiEndpoint"
    actions   = ["cloudformation:DescribeStacks"]
    resources = [local.stack_arn]
  }

  # The smoke user's username, password and TOTP seed.
  statement {
    sid       = "ReadSmokeUserSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.smoke_user.arn]
  }

  # Secrets Manager decrypts the value with the environment key as the caller:
  # only through Secrets Manager, and only for this secret (its ARN is the
  # encryption context Secrets Manager binds every version to).
  statement {
    sid       = "DecryptSmokeUserSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:SecretARN"
      values   = [aws_secretsmanager_secret.smoke_user.arn]
    }
  }
}

resource "aws_iam_role_policy" "smoke" {
  name   = "smoke-test"
  role   = aws_iam_role.smoke.id
  policy = data.aws_iam_policy_document.smoke.json
}

# ------------------------------------------------------------ smoke user secret

# {"username", "password", "totp_secret"}, written by `make smoke-user` (a
# person); encrypted with the environment key.
resource "aws_secretsmanager_secret" "smoke_user" {
  # checkov:skip=CKV2_AWS_57: Rotated by a person with `make smoke-user ENV=<env> REPLACE=1`: a rotation function would need the pool-wide cognito-idp Admin* calls that this design keeps away from every automated role.
  name                    = "${var.name_prefix}-smoke-user"
  description             = "Credentials of the smoke user of ${var.name_prefix} (username, password, TOTP seed), written by make smoke-user; read only by the smoke role."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags

  lifecycle {
    precondition {
      condition     = endswith(var.name_prefix, "-${var.environment}")
      error_message = "name_prefix must be <project>-<environment>: the break-glass role allowed to read the smoke-user secret is derived from it."
    }
  }
}

# Whatever an identity policy of this account says, only the smoke role and
# break-glass read the value, and no role of this environment (every CI role,
# every role the Terraform role may create) writes it or moves its versions.
data "aws_iam_policy_document" "smoke_user_secret" {
  statement {
    sid       = "ReadOnlyBySmokeRoleAndBreakGlass"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"] # In a resource policy "*" means this secret.

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.smoke.arn, local.break_glass_role_arn]
    }
  }

  statement {
    sid    = "NoValueWritesByEnvironmentRoles"
    effect = "Deny"
    actions = [
      "secretsmanager:PutSecretValue",
      "secretsmanager:RotateSecret",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:PrincipalArn"
      values   = [local.smoke_environment_role_arns]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "smoke_user" {
  secret_arn          = aws_secretsmanager_secret.smoke_user.arn
  policy              = data.aws_iam_policy_document.smoke_user_secret.json
  block_public_policy = true
}
