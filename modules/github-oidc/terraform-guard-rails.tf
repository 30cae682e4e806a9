# The Terraform role's denies, and the denies every GitHub role shares.
locals {
  # name_prefix is <project>-<environment> (modules/platform).
  guard_rails_project = trimsuffix(var.name_prefix, "-${var.environment}")
  # The account's audit trail, its bucket, key, topic and rules
  # (environments/bootstrap, modules/audit-trail) are all named <project>-audit-*.
  audit_prefix = "${local.guard_rails_project}-audit-"
  # The smoke user's secret (smoke.tf); Secrets Manager appends a random suffix.
  tf_smoke_user_store_arn = "arn:${format(local.arn_prefix, "secretsmanager")}:secret:${var.name_prefix}-smoke-user*"
  github_guard_rails_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${var.name_prefix}-github-guard-rails"
  tf_resources_policy_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.name_prefix}-github-terraform-resources"
  # Stream records, index entries and backups are under the table's ARN. The
  # web app's bucket is protected as the data is: its policy decides who may
  # write the code every signed-in user runs, and config.json which identity
  # provider they sign in with; a person applies it (modules/web).
  protected_data_and_contents = flatten([for arn in concat(var.protected_data_arns, [local.web_bucket_arn]) : [arn, "${arn}/*"]])
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

  # No key's policy is changed by this role, and no key is disabled or
  # deleted: a person does that. The environment key's policy could open the
  # data to another account, the web key's who decrypts the app's files, and
  # disabling or deleting either destroys what it encrypts. Every key of the
  # account: the web key carries the environment tag too (ManageEnvironmentKey).
  statement {
    sid       = "DenyKeyPolicyChanges"
    effect    = "Deny"
    actions   = ["kms:DeleteImportedKeyMaterial", "kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]
  }

  # How the data is protected changes only by a person: no bucket policy,
  # ACL, versioning, lifecycle (an expiry deletes objects), logging,
  # encryption, object lock, replication, notification (object keys to
  # another destination) or deletion of a data bucket; no deletion, export,
  # backup or restore, table update (its key, stream and deletion
  # protection), TTL (an expiry on a numeric attribute deletes items),
  # streaming to Kinesis or resource policy of a data table. The same actions
  # are denied to every role created with the permissions boundary.
  # Nor the data itself: no object or item is written or deleted by this role
  # (force_destroy included: a data bucket is emptied by a person), and none
  # is read (Terraform manages containers, never their contents). The web
  # app's bucket is in the list too. One statement: three copies of the
  # resource list would pass IAM's 6,144 characters for a managed policy.
  statement {
    sid    = "DenyDataAndItsProtection"
    effect = "Deny"
    actions = [
      "dynamodb:*Backup*",
      "dynamodb:*Kinesis*",
      "dynamodb:*Replica*",
      "dynamodb:*ResourcePolicy",
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:DeleteTable",
      "dynamodb:Export*",
      "dynamodb:GetItem",
      "dynamodb:GetRecords",
      "dynamodb:PartiQL*",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Restore*",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
      "dynamodb:UpdateTable",
      "dynamodb:UpdateTimeToLive",
      "s3:AbortMultipartUpload",
      "s3:Bypass*",
      "s3:DeleteBucket*",
      "s3:DeleteObject*",
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:Put*Configuration",
      "s3:PutBucketAcl",
      "s3:PutBucketLogging",
      "s3:PutBucketNotification",
      "s3:PutBucketOwnershipControls",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketVersioning",
      "s3:PutObject*",
      "s3:Replicate*",
      "s3:RestoreObject",
    ]
    resources = local.protected_data_and_contents
  }

  # Once created, no parameter SAM reads into the functions and the API's
  # authorizer changes but by a person: above all the Cognito issuer, user
  # pool and app client (cognito-*), which decide whose tokens the API
  # accepts. Terraform creates a parameter with Overwrite=false (the
  # provider sends Overwrite=true only to update), so a first apply works.
  statement {
    sid       = "DenyParameterOverwrites"
    effect    = "Deny"
    actions   = ["ssm:PutParameter"]
    resources = [local.ssm_arn]

    condition {
      test     = "StringEquals"
      variable = "ssm:Overwrite"
      values   = ["true"]
    }
  }

  statement {
    sid       = "DenyParameterDeletion"
    effect    = "Deny"
    actions   = ["ssm:DeleteParameter", "ssm:DeleteParameters"]
    resources = [local.ssm_arn]
  }

  # No secret's value, read or written (the smoke user's secret is managed
  # here as an empty container; UpdateSecret could set a value too).
  statement {
    sid       = "DenySecretValues"
    effect    = "Deny"
    actions   = ["secretsmanager:*SecretValue", "secretsmanager:RotateSecret", "secretsmanager:UpdateSecret*"]
    resources = ["*"]
  }

  # Nor its container: a resource policy or key of this role's choosing would
  # open the next enrolment's credentials to it.
  statement {
    sid    = "DenySecretChanges"
    effect = "Deny"
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteResourcePolicy",
      "secretsmanager:DeleteSecret",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:ReplicateSecretToRegions",
      "secretsmanager:RestoreSecret",
      "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
    ]
    resources = ["*"]
  }

  # A role this role creates may trust it, but this role assumes no role.
  statement {
    sid       = "DenyRoleAssumption"
    effect    = "Deny"
    actions   = ["sts:AssumeRole"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "terraform_guard_rails" {
  name        = "${var.name_prefix}-github-terraform-guard-rails"
  description = "Denies for the Terraform role of ${var.environment}: identity administration, GitHub roles, trust and boundary changes, state key, environment key, data protection, data reads and writes, parameter overwrites, secret values."
  policy      = data.aws_iam_policy_document.terraform_guard_rails.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_guard_rails" {
  role       = aws_iam_role.terraform.name
  policy_arn = aws_iam_policy.terraform_guard_rails.arn
}

# ------------------------------------------------------------ every GitHub role

# Denies every GitHub role of this environment carries (deploy, plan, smoke
# and Terraform): the audit trail cannot be silenced, no logs deleted or their
# retention cut, the identity provider the API trusts cannot be changed, no
# event goes to a target but the platform's own and no Pipe is changed.
# A managed policy of its own so each role attaches the same document; no
# GitHub role can detach it (changes to the GitHub roles are denied, and
# applied by a person).
data "aws_iam_policy_document" "github_guard_rails" {
  # The trail (any trail and event data store of the account): not stopped,
  # deleted, reconfigured or narrowed.
  statement {
    sid    = "DenyTrailChanges"
    effect = "Deny"
    actions = [
      "cloudtrail:Delete*",
      "cloudtrail:Put*",
      "cloudtrail:RemoveTags",
      "cloudtrail:Stop*",
      "cloudtrail:Update*",
    ]
    resources = ["*"]
  }

  # Logs are audit data: no log group or stream is deleted and no retention
  # is changed or removed, anywhere.
  statement {
    sid       = "DenyLogDeletion"
    effect    = "Deny"
    actions   = ["logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:DeleteRetentionPolicy", "logs:PutRetentionPolicy"]
    resources = ["*"]
  }

  # The trail's bucket and its objects, its alarm rules and their targets,
  # its alert topic and subscriptions, alarms and key aliases named
  # <project>-audit-*.
  statement {
    sid    = "DenyAuditResourceChanges"
    effect = "Deny"
    actions = [
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DisableAlarmActions",
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:SetAlarmState",
      "events:DeleteRule",
      "events:DisableRule",
      "events:PutRule",
      "events:PutTargets",
      "events:RemoveTargets",
      "events:TagResource",
      "events:UntagResource",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:UpdateAlias",
      "s3:Bypass*",
      "s3:Delete*",
      "s3:Put*",
      "s3:Replicate*",
      "s3:RestoreObject",
      "sns:AddPermission",
      "sns:DeleteTopic",
      "sns:PutDataProtectionPolicy",
      "sns:RemovePermission",
      "sns:SetSubscriptionAttributes",
      "sns:SetTopicAttributes",
      "sns:Subscribe",
      "sns:TagResource",
      "sns:Unsubscribe",
      "sns:UntagResource",
    ]
    resources = [
      "arn:${local.partition}:s3:::${local.audit_prefix}*",
      "arn:${local.partition}:events:*:${local.account_id}:rule/${local.audit_prefix}*",
      "arn:${local.partition}:sns:*:${local.account_id}:${local.audit_prefix}*",
      "arn:${local.partition}:cloudwatch:*:${local.account_id}:alarm:${local.audit_prefix}*",
      "arn:${local.partition}:kms:*:${local.account_id}:alias/${local.audit_prefix}*",
    ]
  }

  # The trail's key has a random id: it is selected by its alias.
  statement {
    sid    = "DenyAuditKeyChanges"
    effect = "Deny"
    actions = [
      "kms:CreateGrant",
      "kms:DeleteImportedKeyMaterial",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
    ]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]

    condition {
      test     = "ForAnyValue:StringLike"
      variable = "kms:ResourceAliases"
      values   = ["alias/${local.audit_prefix}*"]
    }
  }

  # Which identity provider the API trusts: no identity provider is added,
  # changed or removed in any user pool, and no pool-wide Admin* call (which
  # could set any user's password or sign in as anyone) is made. The pool,
  # client and issuer parameters are protected in the Terraform role's guard
  # rails; the rest (Lambda triggers set by UpdateUserPool, app client
  # changes) is alarmed from the audit trail.
  statement {
    sid    = "DenyIdentityProviderChanges"
    effect = "Deny"
    actions = [
      "cognito-idp:Admin*",
      "cognito-idp:CreateIdentityProvider",
      "cognito-idp:DeleteIdentityProvider",
      "cognito-idp:UpdateIdentityProvider",
    ]
    resources = ["*"]
  }

  # Targets and queue policies are applied by a person: a target's input and
  # dead-letter queue are no IAM condition keys, so whoever may put even the
  # upload API's own target on a rule that hears object events can send those
  # events (every new object's key) to a queue whose policy it opens.
  statement {
    sid       = "DenyEventTargetsAndQueuePolicies"
    effect    = "Deny"
    actions   = ["events:PutTargets", "events:RemoveTargets", "sqs:AddPermission", "sqs:RemovePermission", "sqs:SetQueueAttributes"]
    resources = ["*"]
  }

  # A Pipe's log configuration can send every record it reads (whole new
  # items, IncludeExecutionData ALL) to an S3 bucket or Firehose stream of
  # any account, delivered with the caller's rights, not the Pipe role's: no
  # IAM condition names the destination. The Pipe is created, changed,
  # started, stopped and deleted by a person, like the GitHub roles.
  statement {
    sid       = "DenyPipeChanges"
    effect    = "Deny"
    actions   = ["pipes:CreatePipe", "pipes:DeletePipe", "pipes:StartPipe", "pipes:StopPipe", "pipes:UpdatePipe"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "github_guard_rails" {
  name        = "${var.name_prefix}-github-guard-rails"
  description = "Denies for every GitHub role of ${var.environment}: the audit trail and its alarms, log deletion and retention, Cognito identity providers and Admin* calls, event targets, Pipe changes."
  policy      = data.aws_iam_policy_document.github_guard_rails.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_github_guard_rails" {
  role       = aws_iam_role.terraform.name
  policy_arn = aws_iam_policy.github_guard_rails.arn
}

# Every GitHub role carries the audit and identity denies, not only this one.
resource "aws_iam_role_policy_attachment" "deploy_github_guard_rails" {
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.github_guard_rails.arn
}

resource "aws_iam_role_policy_attachment" "plan_github_guard_rails" {
  role       = aws_iam_role.plan.name
  policy_arn = aws_iam_policy.github_guard_rails.arn
}

resource "aws_iam_role_policy_attachment" "smoke_github_guard_rails" {
  role       = aws_iam_role.smoke.name
  policy_arn = aws_iam_policy.github_guard_rails.arn
}
