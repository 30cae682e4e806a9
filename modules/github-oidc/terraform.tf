# ------------------------------------------------------------ Terraform role (make init/plan/apply)

# Applying the platform needs broad rights. They are limited to the services
# this platform uses, to resources named <project>-<env>-* wherever the service
# supports resource-level permissions, and fenced by explicit denies
# (terraform-guard-rails.tf): no IAM users or identity providers, no changes
# to the GitHub roles (this one included), no reading, writing or deleting of
# uploaded files or metadata items, no change to how they are protected, no
# overwriting of the parameters the workloads read, no administration of the
# state key, and (every GitHub role) no silencing of the audit trail, no
# change to the identity provider the API trusts, no event target but the
# platform's own and no change to the Pipe. Whatever a role it creates
# may do is capped by the permissions boundary. Changes to the GitHub roles
# are applied by a person with administrator credentials, like the first apply.
resource "aws_iam_role" "terraform" {
  name                 = "${var.name_prefix}-github-terraform"
  description          = "GitHub Actions terraform apply of ${var.github_repository} to ${var.environment}."
  assume_role_policy   = data.aws_iam_policy_document.environment_assume.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

# Most of the platform's resources are a managed policy of their own
# (terraform-resources.tf): together they would pass IAM's 10,240 characters
# for a role's inline policies.
data "aws_iam_policy_document" "terraform" {
  # Observability, the smoke user's secret and the SSM parameters
  # (terraform-resources.tf), merged into this policy.
  source_policy_documents = [data.aws_iam_policy_document.terraform_operations.json]

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

  # The state machine's and the malware scanner's roles, to their services
  # only. (The Pipe, and so its role, is applied by a person: guard rails.)
  statement {
    sid       = "PassWorkloadRoles"
    actions   = ["iam:PassRole"]
    resources = [local.tf_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["malware-protection-plan.guardduty.amazonaws.com", "states.amazonaws.com"]
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

  # Refresh of its own managed policies and the permissions boundary (which
  # this role cannot change: CreatePolicyVersion is denied).
  statement {
    sid       = "ReadGuardRailsAndBoundary"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"]
    resources = [local.tf_guard_rails_arn, local.github_guard_rails_arn, local.tf_resources_policy_arn, var.permissions_boundary_arn]
  }
}

resource "aws_iam_role_policy" "terraform" {
  name   = "terraform-apply"
  role   = aws_iam_role.terraform.id
  policy = data.aws_iam_policy_document.terraform.json
}
