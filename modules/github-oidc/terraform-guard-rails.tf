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

  # The environment key, user pool and malware protection plan are selected by
  # their environment tag, so the tag must not move: no tagging of one that
  # carries another environment's tag, no other value, no removal. (Tags set
  # at creation are this environment's: the Allow pins aws:RequestTag.)
  statement {
    sid       = "DenyTaggingOtherEnvironments"
    effect    = "Deny"
    actions   = ["cognito-idp:TagResource", "guardduty:TagResource", "kms:TagResource"]
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
    actions   = ["cognito-idp:TagResource", "guardduty:TagResource", "kms:TagResource"]
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
    actions   = ["cognito-idp:UntagResource", "guardduty:UntagResource", "kms:UntagResource"]
    resources = ["*"]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:TagKeys"
      values   = ["environment"]
    }
  }

  # A role keeps its permissions boundary, and its trust policy: a role this
  # role could re-point at itself (or at another account) would carry its
  # policies to whoever it trusts.
  statement {
    sid       = "DenyBoundaryRemoval"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  statement {
    sid       = "DenyTrustChanges"
    effect    = "Deny"
    actions   = ["iam:UpdateAssumeRolePolicy"]
    resources = [local.tf_role_arn]
  }

  # The boundary, key and bucket policies name the roles that may read upload
  # data: those roles cannot be deleted and created again with another trust.
  statement {
    sid       = "DenyDataRoleReplacement"
    effect    = "Deny"
    actions   = ["iam:DeleteRole"]
    resources = var.data_role_arns
  }

  # Resource policies that could open data to another account are changed by
  # a person: the environment key's policy and the data buckets' policies.
  statement {
    sid       = "DenyKeyPolicyChanges"
    effect    = "Deny"
    actions   = ["kms:PutKeyPolicy"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "DenyDataBucketPolicyChanges"
    effect    = "Deny"
    actions   = ["s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy"]
    resources = var.protected_data_arns
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
  description = "Denies for the Terraform role of ${var.environment}: identity administration, GitHub roles, trust and boundary changes, state key, data policies and reads."
  policy      = data.aws_iam_policy_document.terraform_guard_rails.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_guard_rails" {
  role       = aws_iam_role.terraform.name
  policy_arn = aws_iam_policy.terraform_guard_rails.arn
}
