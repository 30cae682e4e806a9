# `terraform test` for the key (make validate). The AWS provider computes the
# key policy itself, so these runs read the JSON that AWS would get; it
# reaches no AWS: the only data source that would call AWS is overridden, and
# every endpoint is a closed loopback port, so a stray call fails at once.

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

# What modules/platform gives the environment key.
variables {
  name           = "secure-upload-dev"
  description    = "Encrypts every data store, queue, topic and log group of secure-upload-dev."
  pipe_role_arns = ["arn:aws:iam::111111111111:role/secure-upload-dev-files-stream-pipe"]
  event_bus_arns = ["arn:aws:events:us-east-1:111111111111:event-bus/secure-upload-dev-file-events"]
  key_user_role_arns = [
    "arn:aws:iam::111111111111:role/secure-upload-dev-upload-api",
    "arn:aws:iam::111111111111:role/secure-upload-dev-processor",
    "arn:aws:iam::111111111111:role/secure-upload-dev-github-*",
    "arn:aws:iam::111111111111:role/secure-upload-break-glass",
  ]
}

run "the_environment_key_is_administered_and_used_through_iam_and_services_only" {
  command = plan

  assert {
    condition = [for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : s.Sid] == [
      "KeyAdministration", "GrantsForAwsResources", "UseThroughAwsServices", "PipeRolesDescribeKey",
      "PipeRolesPipeData", "PipeRolesPipeDataExample", "CloudWatchLogs", "VendedLogDelivery",
      "DecryptOnlyForListedRoles", "EventBridgeBuses", "CloudWatchAlarmsToEncryptedSns",
    ]
    error_message = "The environment key's policy has exactly the expected statements."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30 && aws_kms_alias.this.name == "alias/secure-upload-dev"
    error_message = "The key rotates, waits 30 days before deletion and is named alias/<name>."
  }

  # The account root (delegation to IAM) administers the key but gets no
  # data-key operation from that statement.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        s.Effect == "Allow" && flatten([s.Principal.AWS]) == ["arn:aws:iam::111111111111:root"] && !can(s.Condition)
        && contains(flatten([s.Action]), "kms:PutKeyPolicy")
        && length(setintersection(flatten([s.Action]), ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"])) == 0
      ) if s.Sid == "KeyAdministration"
    ])
    error_message = "KeyAdministration lets the account's IAM administer the key, never use it."
  }

  # Every other Allow for the account's principals carries a condition.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : can(s.Condition)
      if s.Effect == "Allow" && s.Sid != "KeyAdministration" && contains(flatten([try(s.Principal.AWS, [])]), "arn:aws:iam::111111111111:root")
    ])
    error_message = "The account's principals use the key only under a condition (a listed service, or grants for AWS resources)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        try(s.Condition.StringEquals["kms:CallerAccount"], null) == "111111111111"
        && toset(flatten([try(s.Condition.StringEquals["kms:ViaService"], [])])) == toset([
          for service in ["s3", "dynamodb", "sqs", "sns", "ecr", "states", "pipes", "lambda", "secretsmanager"] : "${service}.us-east-1.amazonaws.com"
        ])
      ) if s.Sid == "UseThroughAwsServices"
    ])
    error_message = "The account's principals use the key only through the listed services of this region."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : try(s.Condition.Bool["kms:GrantIsForAWSResource"], null) == "true"
      if s.Sid == "GrantsForAwsResources"
    ])
    error_message = "Grants may only be created for AWS resources."
  }

  # Confidentiality does not rest on IAM alone.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        s.Effect == "Deny" && flatten([s.Principal.AWS]) == ["*"]
        && toset(flatten([s.Action])) == toset(["kms:Decrypt", "kms:ReEncryptFrom"])
        && toset(flatten([try(s.Condition.ArnNotLike["aws:PrincipalArn"], [])])) == toset(var.key_user_role_arns)
        && try(s.Condition.BoolIfExists["aws:PrincipalIsAWSService"], null) == "false"
      ) if s.Sid == "DecryptOnlyForListedRoles"
    ])
    error_message = "Every AWS principal but the listed roles is denied decryption, whatever an IAM policy says."
  }

  # No statement names everyone as a principal except that Deny.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : !contains(flatten([try(s.Principal.AWS, [])]), "*")
      if s.Effect == "Allow"
    ])
    error_message = "No Allow of the key policy opens the key to every principal."
  }

  # The Pipe's role uses data keys directly only for this environment's pipes.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        toset(flatten([s.Principal.AWS])) == toset(var.pipe_role_arns)
        && toset(flatten([s.Action])) == toset(["kms:Decrypt", "kms:GenerateDataKey"])
        && flatten([values(try(s.Condition.ArnLike, {}))]) == ["arn:aws:pipes:us-east-1:111111111111:pipe/secure-upload-dev-*"]
      ) if startswith(s.Sid, "PipeRolesPipeData")
    ])
    error_message = "The Pipe roles get data keys only under the encryption context of this environment's pipes."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : keys(try(s.Condition.ArnLike, {}))
      if startswith(s.Sid, "PipeRolesPipeData")
    ])) == toset(["kms:EncryptionContext:aws:pipes:arn", "kms:EncryptionContext:aws:pipe:arn"])
    error_message = "Both spellings of the Pipe's encryption-context key are pinned."
  }

  # AWS services acting as themselves: each for this environment or account only.
  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        try(s.Principal.Service, null) == "logs.us-east-1.amazonaws.com"
        && try(s.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"], null) == "arn:aws:logs:us-east-1:111111111111:log-group:/aws/*secure-upload-dev-*"
      ) if s.Sid == "CloudWatchLogs"
    ])
    error_message = "CloudWatch Logs encrypts only this environment's log groups."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        try(s.Principal.Service, null) == "delivery.logs.amazonaws.com" && flatten([s.Action]) == ["kms:Decrypt"]
        && try(s.Condition.StringEquals["aws:SourceAccount"], null) == "111111111111"
        && try(s.Condition.StringLike["kms:EncryptionContext:SourceArn"], null) == "arn:aws:logs:us-east-1:111111111111:*"
      ) if s.Sid == "VendedLogDelivery"
    ])
    error_message = "The log-delivery service decrypts only vended-log records of this account and region."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        try(s.Principal.Service, null) == "events.amazonaws.com" && toset(flatten([try(s.Condition.ArnEquals["aws:SourceArn"], [])])) == toset(var.event_bus_arns)
      ) if s.Sid == "EventBridgeBuses"
    ])
    error_message = "EventBridge uses the key for the listed buses only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : (
        try(s.Principal.Service, null) == "cloudwatch.amazonaws.com" && try(s.Condition.StringEquals["aws:SourceAccount"], null) == "111111111111"
      ) if s.Sid == "CloudWatchAlarmsToEncryptedSns"
    ])
    error_message = "Only this account's alarms publish to the encrypted topic."
  }
}

# What environments/bootstrap gives the state key.
run "the_state_key_is_used_through_s3_by_the_state_readers_only" {
  command = plan

  variables {
    name         = "secure-upload-tfstate"
    description  = "Encrypts the Terraform state of account 111111111111."
    via_services = ["s3"]
    key_user_role_arns = [
      "arn:aws:iam::111111111111:role/secure-upload-dev-github-terraform",
      "arn:aws:iam::111111111111:role/secure-upload-dev-github-plan",
      "arn:aws:iam::111111111111:role/secure-upload-break-glass",
      "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*",
    ]
    pipe_role_arns            = []
    event_bus_arns            = []
    allow_aws_resource_grants = false
    allow_cloudwatch_logs     = false
    allow_cloudwatch_alarms   = false
  }

  assert {
    condition = [for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : s.Sid] == [
      "KeyAdministration", "UseThroughAwsServices", "DecryptOnlyForListedRoles",
    ]
    error_message = "The state key has administration, use through S3 and the decrypt allow-list, nothing else."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([try(s.Condition.StringEquals["kms:ViaService"], [])]) == ["s3.us-east-1.amazonaws.com"]
      if s.Sid == "UseThroughAwsServices"
    ])
    error_message = "State is encrypted and decrypted through S3 of this region only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : !can(s.Principal.Service)
    ])
    error_message = "No AWS service acting as itself may use the state key."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : toset(flatten([try(s.Condition.ArnNotLike["aws:PrincipalArn"], [])])) == toset(var.key_user_role_arns)
      if s.Sid == "DecryptOnlyForListedRoles"
    ])
    error_message = "Only the state readers decrypt state."
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/secure-upload-tfstate"
    error_message = "The environments' backend.tf name the state key by alias/secure-upload-tfstate."
  }
}

run "decryption_is_never_allowed_to_everyone" {
  command = plan

  variables {
    key_user_role_arns = ["*"]
  }

  expect_failures = [var.key_user_role_arns]
}

run "decryption_needs_a_listed_role" {
  command = plan

  variables {
    key_user_role_arns = []
  }

  expect_failures = [var.key_user_role_arns]
}

run "pipe_roles_are_role_arns" {
  command = plan

  variables {
    pipe_role_arns = ["*"]
  }

  expect_failures = [var.pipe_role_arns]
}

run "via_services_are_bare_service_prefixes" {
  command = plan

  variables {
    via_services = ["s3.*"]
  }

  expect_failures = [var.via_services]
}

run "a_deletion_window_under_seven_days_is_refused" {
  command = plan

  variables {
    deletion_window_in_days = 1
  }

  expect_failures = [var.deletion_window_in_days]
}
