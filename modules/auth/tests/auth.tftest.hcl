# `terraform test` for the user pool and its app client (make validate). Every
# provider call is mocked: these runs check the sign-in flows the module
# accepts and what it asks AWS for.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
}

variables {
  name = "secure-upload-test"
}

run "default_client_signs_in_with_srp_only" {
  command = plan

  assert {
    condition     = toset(aws_cognito_user_pool_client.this.explicit_auth_flows) == toset(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "The default client allows SRP and refresh tokens, nothing else."
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.generate_secret == false
    error_message = "A public client holds no secret."
  }
}

# Stage and prod: SRP alone, with the TOTP factor prod requires.
run "srp_only_client_with_required_mfa" {
  command = plan

  variables {
    mfa_configuration   = "ON"
    explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "MFA ON requires a TOTP factor, which the pool offers."
  }
}

# Users and the smoke test sign in with SRP: a client without it is refused.
run "a_client_without_srp_is_refused" {
  command = plan

  variables {
    explicit_auth_flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  }

  expect_failures = [var.explicit_auth_flows]
}

run "custom_auth_is_refused" {
  command = plan

  variables {
    explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
  }

  expect_failures = [var.explicit_auth_flows]
}
