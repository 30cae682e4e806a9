# `terraform test` for the GitHub roles' trust (make validate). The AWS
# provider computes the trust documents itself, so these runs read the JSON
# that IAM would get; it reaches no AWS: the only data source that would call
# AWS is overridden, and every endpoint is a closed loopback port, so a stray
# call fails at once. The roles' permissions and guard rails are tested in
# modules/platform/tests/guard-rails.tftest.hcl; the subject format is in
# main.tf.

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
