# `terraform test` for the GitHub roles' trust (make validate). The AWS
# provider computes the trust documents itself, so these runs read the JSON
# that IAM would get; it reaches no AWS: the only data source that would call
# AWS is overridden, and every endpoint is a closed loopback port, so a stray
# call fails at once. The roles' guard rails are tested in
# modules/platform/tests/guard-rails.tftest.hcl, their rights on the web app
# and the policies' sizes here; the subject format is in main.tf.

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

override_data {
  target = data.aws_caller_identity.current
  values = {
    account_id = "111111111111"
  }
}

# The smoke role's ARN is computed by IAM; the secret's policy names it.
override_resource {
  target          = aws_iam_role.smoke
  override_during = plan
  values = {
    arn = "arn:aws:iam::111111111111:role/secure-upload-dev-github-smoke"
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

run "each_role_trusts_one_workflow_file_on_main_and_nothing_else" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy) == jsondecode(data.aws_iam_policy_document.environment_assume.json) && jsondecode(aws_iam_role.terraform.assume_role_policy) == jsondecode(data.aws_iam_policy_document.environment_assume.json)
    error_message = "The deploy and Terraform roles trust the environment job of deploy-environment.yml."
  }

  assert {
    condition     = jsondecode(aws_iam_role.smoke.assume_role_policy) == jsondecode(data.aws_iam_policy_document.smoke_assume.json) && jsondecode(aws_iam_role.plan.assume_role_policy) == jsondecode(data.aws_iam_policy_document.plan_assume.json)
    error_message = "The smoke and plan roles have trusts of their own."
  }

  # The caller's ref, the environment and the reusable workflow at main: a
  # branch calling deploy-environment.yml@main has its own ref in the subject.
  assert {
    condition = jsondecode(data.aws_iam_policy_document.environment_assume.json).Statement == [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          "token.actions.githubusercontent.com:sub" = "repo:example-org/secure-upload-platform:environment:dev:ref:refs/heads/main:job_workflow_ref:example-org/secure-upload-platform/.github/workflows/deploy-environment.yml@refs/heads/main"
        }
      }
    }]
    error_message = "Only the deploy job of deploy-environment.yml, run from main in the dev environment, assumes the deploy and Terraform roles."
  }

  assert {
    condition = jsondecode(data.aws_iam_policy_document.smoke_assume.json).Statement == [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          "token.actions.githubusercontent.com:sub" = "repo:example-org/secure-upload-platform:environment:dev:ref:refs/heads/main:job_workflow_ref:example-org/secure-upload-platform/.github/workflows/smoke-environment.yml@refs/heads/main"
        }
      }
    }]
    error_message = "Only the job of smoke-environment.yml, run from main in the dev environment, assumes the smoke role."
  }

  # The plan job declares no environment: its context is ref:<ref>.
  assert {
    condition = jsondecode(data.aws_iam_policy_document.plan_assume.json).Statement == [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          "token.actions.githubusercontent.com:sub" = [
            "repo:example-org/secure-upload-platform:ref:refs/heads/main:ref:refs/heads/main:job_workflow_ref:example-org/secure-upload-platform/.github/workflows/deploy-environment.yml@refs/heads/main",
            "repo:example-org/secure-upload-platform:ref:refs/heads/main:job_workflow_ref:example-org/secure-upload-platform/.github/workflows/deploy-environment.yml@refs/heads/main",
          ]
        }
      }
    }]
    error_message = "Only the plan job of deploy-environment.yml run from main assumes the plan role; pull requests do not (plan_on_pull_requests is off)."
  }

  # Every GitHub role carries the shared denies (audit trail, logs, identity
  # providers, event targets, the Pipe).
  assert {
    condition = [
      for attachment in [
        aws_iam_role_policy_attachment.deploy_github_guard_rails, aws_iam_role_policy_attachment.terraform_github_guard_rails,
        aws_iam_role_policy_attachment.plan_github_guard_rails, aws_iam_role_policy_attachment.smoke_github_guard_rails,
      ] : attachment.role
      ] == [
      "secure-upload-dev-github-deploy", "secure-upload-dev-github-terraform",
      "secure-upload-dev-github-plan", "secure-upload-dev-github-smoke",
    ]
    error_message = "The guard rails every GitHub role shares are attached to all four roles."
  }
}

run "pull_requests_plan_only_through_plan_yml_and_only_where_allowed" {
  command = plan

  variables {
    plan_on_pull_requests = true
  }

  # Any pull request's merge ref, but only through the plan workflow file;
  # main's plan job keeps its own statement.
  assert {
    condition = jsondecode(data.aws_iam_policy_document.plan_assume.json).Statement[1] == {
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike   = { "token.actions.githubusercontent.com:sub" = "repo:example-org/secure-upload-platform:pull_request:ref:refs/pull/*/merge:job_workflow_ref:example-org/secure-upload-platform/.github/workflows/plan.yml@refs/pull/*/merge" }
      }
    }
    error_message = "Pull requests plan through plan.yml at their merge ref only."
  }

  assert {
    condition     = length(jsondecode(data.aws_iam_policy_document.plan_assume.json).Statement) == 2
    error_message = "The plan role trusts main's plan job and pull requests' plan.yml, nothing else."
  }

  # Pull-request code runs with the plan role only: the other trusts do not move.
  assert {
    condition = alltrue([
      for document in [data.aws_iam_policy_document.environment_assume.json, data.aws_iam_policy_document.smoke_assume.json] :
      !strcontains(document, "pull_request") && !strcontains(document, "StringLike")
    ])
    error_message = "No role but the plan role trusts pull requests."
  }
}

run "a_wildcard_environment_is_refused" {
  command = plan

  variables {
    environment = "*"
  }

  expect_failures = [var.environment]
}

run "a_wildcard_repository_is_refused" {
  command = plan

  variables {
    github_repository = "example-org/*"
  }

  expect_failures = [var.github_repository]
}

run "another_identity_provider_is_refused" {
  command = plan

  variables {
    oidc_provider_arn = "arn:aws:iam::111111111111:oidc-provider/gitlab.com"
  }

  expect_failures = [var.oidc_provider_arn]
}

# The break-glass role that may read the smoke user's secret is derived from
# name_prefix and environment; a prefix that is not <project>-<environment>
# would name another role.
run "a_name_prefix_of_another_environment_is_refused" {
  command = plan

  variables {
    name_prefix = "secure-upload-prod"
  }

  expect_failures = [aws_secretsmanager_secret.smoke_user]
}

# The secret's policy names the smoke role, whose ARN IAM computes: these
# assertions read the document's statements as configured.
run "the_smoke_user_secret_is_read_by_the_smoke_role_and_break_glass_only" {
  command = plan

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.smoke_user_secret.statement : (
        s.effect == "Deny" && toset(s.actions) == toset(["secretsmanager:GetSecretValue"]) && toset(one(s.principals).identifiers) == toset(["*"])
        && one(s.condition).test == "ArnNotEquals" && one(s.condition).variable == "aws:PrincipalArn"
        && toset(one(s.condition).values) == toset(["arn:aws:iam::111111111111:role/secure-upload-dev-github-smoke", "arn:aws:iam::111111111111:role/secure-upload-break-glass"])
      ) if s.sid == "ReadOnlyBySmokeRoleAndBreakGlass"
    ])
    error_message = "Whatever an IAM policy says, only the smoke role and break-glass read the smoke user's credentials."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.smoke_user_secret.statement : (
        s.effect == "Deny" && contains(s.actions, "secretsmanager:PutSecretValue") && toset(one(s.principals).identifiers) == toset(["*"])
        && one(s.condition).test == "ArnLike" && one(s.condition).variable == "aws:PrincipalArn"
        && toset(one(s.condition).values) == toset(["arn:aws:iam::111111111111:role/secure-upload-dev-*"])
      ) if s.sid == "NoValueWritesByEnvironmentRoles"
    ])
    error_message = "No role of the environment writes the smoke user's credentials."
  }
}

# The web app (modules/web): whoever writes its files runs code in every
# signed-in user's browser. The deploy role writes them, but not config.json;
# the plan role refreshes the app; the Terraform role changes none of it.
run "the_deploy_role_deploys_the_web_apps_files_but_not_its_config" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.deploy.json).Statement :
      s.Effect == "Allow" && toset(flatten([s.Action])) == toset(["s3:DeleteObject", "s3:PutObject"])
      && flatten([s.Resource]) == ["arn:aws:s3:::secure-upload-dev-web-111111111111/*"]
      if s.Sid == "DeployWebFiles"
    ])
    error_message = "The deploy role writes and deletes the files of the web bucket, secure-upload-<env>-web-<account>, and no other bucket's."
  }

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.deploy.json).Statement :
      s.Effect == "Deny" && toset(flatten([s.Action])) == toset(["s3:DeleteObject*", "s3:PutObject*"])
      && toset(flatten([s.Resource])) == toset(["arn:aws:s3:::secure-upload-dev-web-111111111111/config.json", "arn:aws:s3:::secure-upload-dev-web-111111111111/*/config.json"])
      if s.Sid == "DenyWebConfig"
    ])
    error_message = "The deploy role must not write or delete config.json (the API, Cognito and app client the app signs in with), under any prefix."
  }

  # Every S3 right of the deploy role is on the web bucket.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.deploy.json).Statement : alltrue([
        for r in flatten([s.Resource]) : startswith(r, "arn:aws:s3:::secure-upload-dev-web-111111111111")
      ]) if s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : startswith(a, "s3:")])
    ])
    error_message = "The deploy role has no S3 right outside the web bucket."
  }

  # The web bucket's key only: S3 names the bucket in the encryption context.
  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.deploy.json).Statement :
      s.Effect == "Allow" && toset(flatten([s.Action])) == toset(["kms:Decrypt", "kms:GenerateDataKey"])
      && s.Condition.StringEquals["aws:ResourceTag/environment"] == "dev"
      && s.Condition.StringEquals["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
      && s.Condition.StringEquals["kms:EncryptionContext:aws:s3:arn"] == "arn:aws:s3:::secure-upload-dev-web-111111111111"
      if s.Sid == "WebKeyThroughS3"
    ])
    error_message = "The deploy role uses a key through S3 only for the web bucket (encryption context aws:s3:arn)."
  }
}

run "the_plan_role_refreshes_the_web_app_and_reads_only_its_config" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.plan.json).Statement :
      s.Effect == "Allow" && toset(flatten([s.Action])) == toset(["s3:GetObject", "s3:GetObjectTagging"])
      && flatten([s.Resource]) == ["arn:aws:s3:::secure-upload-dev-web-111111111111/config.json"]
      if s.Sid == "RefreshWebConfig"
    ])
    error_message = "The plan role refreshes config.json (HeadObject, its tags), no other object of the web bucket."
  }

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.plan.json).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "s3:GetObject")
      && toset(flatten([s.NotResource])) == toset(["arn:aws:s3:::secure-upload-tfstate-111111111111/dev/terraform.tfstate", "arn:aws:s3:::secure-upload-dev-web-111111111111/config.json"])
      if s.Sid == "DenyOtherObjects"
    ])
    error_message = "The plan role reads no object but its state and the web app's config.json."
  }

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.plan.json).Statement : alltrue([
        for action in ["cloudfront:GetDistribution", "cloudfront:GetOriginAccessControl", "cloudfront:GetResponseHeadersPolicy", "cloudfront:ListTagsForResource"] :
        contains(flatten([s.Action]), action)
        ]) && alltrue([
        for action in flatten([s.Action]) : can(regex("^cloudfront:(Get|List)", action)) if startswith(action, "cloudfront:")
      ]) if s.Sid == "RefreshPlatformResources"
    ])
    error_message = "The plan role refreshes the distribution, its origin access control and response-headers policy, and only reads them."
  }
}

run "the_terraform_role_changes_nothing_of_the_web_app" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.terraform_guard_rails.json).Statement :
      s.Effect == "Deny" && alltrue([for a in ["s3:PutBucketPolicy", "s3:PutObject*", "s3:DeleteObject*", "s3:Put*Configuration"] : contains(flatten([s.Action]), a)])
      && contains(flatten([s.Resource]), "arn:aws:s3:::secure-upload-dev-web-111111111111")
      && contains(flatten([s.Resource]), "arn:aws:s3:::secure-upload-dev-web-111111111111/*")
      if s.Sid == "DenyDataAndItsProtection"
    ])
    error_message = "The Terraform role must not change the web bucket's policy, configuration or files (config.json included): a person applies the web app."
  }

  assert {
    condition = !anytrue(flatten([
      for doc in [data.aws_iam_policy_document.terraform.json, data.aws_iam_policy_document.terraform_resources.json] : [
        for s in jsondecode(doc).Statement :
        s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : startswith(a, "cloudfront:")])
      ]
    ]))
    error_message = "The Terraform role has no CloudFront right: the distribution, its origin access control and response-headers policy are applied by a person."
  }

  # The upload bucket's CORS (the web app's origin) is applied by CI.
  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.terraform_resources.json).Statement :
      contains(flatten([s.Action]), "s3:PutBucketCORS") if s.Sid == "Buckets"
    ])
    error_message = "The Terraform role applies the upload bucket's CORS."
  }
}

# IAM refuses a managed policy over 6,144 characters and a role's inline
# policies over 10,240 (white space not counted), with modules/platform's
# five protected ARNs.
run "every_policy_fits_iams_size_limits" {
  command = plan

  variables {
    protected_data_arns = [
      "arn:aws:s3:::secure-upload-dev-uploads-111111111111",
      "arn:aws:s3:::secure-upload-dev-access-logs-111111111111",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-files",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-pending-uploads",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-dev-user-usage",
    ]
  }

  assert {
    condition = alltrue([
      for document in [
        data.aws_iam_policy_document.terraform_guard_rails.json,
        data.aws_iam_policy_document.github_guard_rails.json,
        data.aws_iam_policy_document.terraform_resources.json,
      ] : length(replace(document, "/\\s/", "")) <= 6144
    ])
    error_message = "A managed policy of the GitHub roles exceeds IAM's 6,144 characters."
  }

  assert {
    condition = alltrue([
      for document in [
        data.aws_iam_policy_document.deploy.json,
        data.aws_iam_policy_document.plan.json,
        data.aws_iam_policy_document.terraform.json,
      ] : length(replace(document, "/\\s/", "")) <= 10240
    ])
    error_message = "A GitHub role's inline policy exceeds IAM's 10,240 characters."
  }
}
