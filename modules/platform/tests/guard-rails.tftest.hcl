# `terraform test` (make validate): the GitHub roles' guard rails
# (modules/github-oidc, terraform-guard-rails.tf) hold the denies the threat
# model needs (README, "Security model"). The AWS provider computes the policy
# documents itself and reaches no AWS: the one data source that would call
# AWS is overridden and the endpoints are a closed loopback port.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing" # pragma: allowlist secret (dummy credential: every endpoint below is a closed loopback port)
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  max_retries                 = 1

  endpoints {
    iam = "http://127.0.0.1:9"
    sts = "http://127.0.0.1:9"
  }
}

run "the_ci_roles_cannot_change_the_trust_anchors_or_the_audit" {
  command = plan

  module {
    source = "../github-oidc"
  }

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "111111111111"
    }
  }

  variables {
    name_prefix              = "secure-upload-dev"
    environment              = "dev"
    github_repository        = "example-org/secure-upload-platform"
    oidc_provider_arn        = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    lambda_role_arns         = ["arn:aws:iam::111111111111:role/secure-upload-dev-upload-api"]
    ecr_repository_arns      = ["arn:aws:ecr:us-east-1:111111111111:repository/secure-upload-dev/upload-api"]
    kms_key_arn              = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    user_pool_arn            = "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_example"
    ssm_parameter_path       = "/secure-upload/dev"
    protected_data_arns      = ["arn:aws:s3:::secure-upload-dev-uploads-111111111111", "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-files"]
    permissions_boundary_arn = "arn:aws:iam::111111111111:policy/secure-upload-dev-workload-boundary"
    data_role_arns           = ["arn:aws:iam::111111111111:role/secure-upload-dev-upload-api"]
    state_bucket_name        = "secure-upload-tfstate-111111111111"
    state_key                = "dev/terraform.tfstate"
    state_kms_key_alias      = "alias/secure-upload-tfstate"
  }

  # The parameters SAM reads into the API's authorizer and the functions
  # (the Cognito issuer, pool and client above all): created, never
  # overwritten or deleted by the Terraform role.
  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.terraform_guard_rails.json).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "ssm:PutParameter") && try(s.Condition.StringEquals["ssm:Overwrite"], "") == "true"
      && contains(flatten([s.Resource]), "arn:aws:ssm:us-east-1:111111111111:parameter/secure-upload/dev/*")
    ])
    error_message = "The Terraform role must not overwrite the parameters the workloads read (ssm:Overwrite = true)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.terraform_guard_rails.json).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "ssm:DeleteParameter") && !can(s.Condition)
      && contains(flatten([s.Resource]), "arn:aws:ssm:us-east-1:111111111111:parameter/secure-upload/dev/*")
    ])
    error_message = "The Terraform role must not delete the parameters the workloads read."
  }

  # No secret value, read or written.
  assert {
    condition = alltrue([
      for action in ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"] :
      anytrue([
        for s in jsondecode(data.aws_iam_policy_document.terraform_guard_rails.json).Statement :
        s.Effect == "Deny" && !can(s.Condition) && flatten([s.Resource]) == ["*"] && anytrue([
          for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", action))
        ])
      ])
    ])
    error_message = "The Terraform role must never read or write a secret's value."
  }

  # No object deletion in the environment's buckets, for force_destroy or
  # anything else (its own state lock file is in the state bucket).
  assert {
    condition = !anytrue(flatten([
      for doc in [data.aws_iam_policy_document.terraform.json, data.aws_iam_policy_document.terraform_resources.json] : [
        for s in jsondecode(doc).Statement :
        s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : startswith(a, "s3:DeleteObject")])
        && anytrue([for r in flatten([s.Resource]) : startswith(r, "arn:aws:s3:::secure-upload-dev-")])
      ]
    ]))
    error_message = "The Terraform role must not be allowed to delete objects of the environment's buckets."
  }

  # Every GitHub role: the trail is not silenced, no logs are deleted or their
  # retention changed, no identity provider and no pool-wide Admin* call.
  assert {
    condition = alltrue([
      for action in [
        "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
        "cloudtrail:PutInsightSelectors", "cloudtrail:DeleteEventDataStore",
        "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
        "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminInitiateAuth", "cognito-idp:AdminDeleteUser",
        "cognito-idp:CreateIdentityProvider", "cognito-idp:UpdateIdentityProvider", "cognito-idp:DeleteIdentityProvider",
        ] : anytrue([
          for s in jsondecode(data.aws_iam_policy_document.github_guard_rails.json).Statement :
          s.Effect == "Deny" && !can(s.Condition) && flatten([s.Resource]) == ["*"] && anytrue([
            for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", action))
          ])
      ])
    ])
    error_message = "Every GitHub role must be denied stopping or reconfiguring the trail, deleting logs, changing retention, identity providers and Admin* calls."
  }

  # ...nor the audit trail's bucket, rules, topic and key (<project>-audit-*).
  assert {
    condition = alltrue([
      for pair in [
        ["events:PutTargets", "arn:aws:events:us-east-1:111111111111:rule/secure-upload-audit-trail-stopped"],
        ["s3:PutBucketPolicy", "arn:aws:s3:::secure-upload-audit-logs-111111111111"],
        ["s3:DeleteObjectVersion", "arn:aws:s3:::secure-upload-audit-logs-111111111111/AWSLogs/x"],
        ["sns:Unsubscribe", "arn:aws:sns:us-east-1:111111111111:secure-upload-audit-alerts:0000"],
        ["kms:DeleteAlias", "arn:aws:kms:us-east-1:111111111111:alias/secure-upload-audit-key"],
        ] : anytrue([
          for s in jsondecode(data.aws_iam_policy_document.github_guard_rails.json).Statement :
          s.Effect == "Deny" && !can(s.Condition) && anytrue([
            for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", pair[0]))
            ]) && anytrue([
            for r in flatten([s.Resource]) : can(regex("^${replace(replace(r, ".", "\\."), "*", ".*")}$", pair[1]))
          ])
      ])
    ])
    error_message = "Every GitHub role must be denied changes to the audit trail's bucket, rules, topic and key alias."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.github_guard_rails.json).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "kms:ScheduleKeyDeletion") && contains(flatten([s.Action]), "kms:PutKeyPolicy")
      && flatten([try(s.Condition["ForAnyValue:StringLike"]["kms:ResourceAliases"], [])]) == ["alias/secure-upload-audit-*"]
    ])
    error_message = "Every GitHub role must be denied deleting or re-policing the audit trail's key."
  }
}
