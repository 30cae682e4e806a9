# ------------------------------------------------------------ smoke role (make smoke)

# The smoke test's own identity, apart from the deploy role: creating,
# signing in and deleting a throw-away Cognito user needs the pool's Admin*
# calls, which IAM cannot narrow to one user. Kept here, they cannot deploy
# anything, and the deploy role cannot mint tokens. Same trust as the deploy
# role: the promotion workflow on the trusted ref, in this environment.
resource "aws_iam_role" "smoke" {
  name                 = "${var.name_prefix}-github-smoke"
  description          = "GitHub Actions smoke test of ${var.github_repository} in ${var.environment}: a throw-away user uploads one file."
  assume_role_policy   = data.aws_iam_policy_document.environment_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

data "aws_iam_policy_document" "smoke" {
  # The user pool and app client ids (SSM) and the API endpoint (the stack's
  # ApiEndpoint output).
  statement {
    sid       = "ReadPlatformParameters"
    actions   = ["ssm:GetParameter"]
    resources = [local.ssm_arn]
  }

  statement {
    sid       = "ReadApiEndpoint"
    actions   = ["cloudformation:DescribeStacks"]
    resources = [local.stack_arn]
  }

  # A throw-away user (no message sent), a permanent random password, an
  # ADMIN_USER_PASSWORD_AUTH sign-in for an IdToken, deletion. Where the pool
  # requires MFA the sign-in answers MFA_SETUP / SOFTWARE_TOKEN_MFA
  # (AdminRespondToAuthChallenge). AssociateSoftwareToken and
  # VerifySoftwareToken are authorised by the sign-in session, not by IAM.
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

resource "aws_iam_role_policy" "smoke" {
  name   = "smoke-test"
  role   = aws_iam_role.smoke.id
  policy = data.aws_iam_policy_document.smoke.json
}
