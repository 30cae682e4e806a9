# `terraform test` for the permissions boundary (make validate). The AWS
# provider computes the policy document itself; it reaches no AWS: the only
# data source that would call AWS is overridden, and every endpoint is a
# closed loopback port, so a stray call fails at once.

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

# The longest names of any environment (stage), so the size check holds for all.
variables {
  name_prefix = "secure-upload-stage"
  workload_roles = {
    upload_api    = "arn:aws:iam::111111111111:role/secure-upload-stage-upload-api"
    processor     = "arn:aws:iam::111111111111:role/secure-upload-stage-processor"
    state_machine = "arn:aws:iam::111111111111:role/secure-upload-stage-processing-sfn"
    pipe          = "arn:aws:iam::111111111111:role/secure-upload-stage-files-stream-pipe"
    malware_scan  = "arn:aws:iam::111111111111:role/secure-upload-stage-malware-scan"
  }
  upload_bucket_arn             = "arn:aws:s3:::secure-upload-stage-uploads-111111111111"
  files_table_arn               = "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-stage-files"
  processor_function_arn        = "arn:aws:lambda:us-east-1:111111111111:function:secure-upload-stage-processor"
  state_machine_arn             = "arn:aws:states:us-east-1:111111111111:stateMachine:secure-upload-stage-processing"
  dead_letter_queue_arns        = ["arn:aws:sqs:us-east-1:111111111111:secure-upload-stage-files-stream-dlq"] # pragma: allowlist secret (an SQS queue ARN, not a bot token)
  file_events_bus_arn           = "arn:aws:events:us-east-1:111111111111:event-bus/secure-upload-stage-file-events"
  state_machine_item_attributes = ["file_id", "status", "failure_reason", "processed_at", "updated_at"]
  malware_scan_rule_arn         = "arn:aws:events:us-east-1:111111111111:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
}

run "the_boundary_is_a_ceiling" {
  command = plan

  assert {
    condition     = length(replace(data.aws_iam_policy_document.this.json, "/\\s/", "")) <= 6144
    error_message = "IAM refuses a managed policy over 6,144 characters (white space not counted)."
  }

  # Explicit action lists: no service wildcard (s3:*, dynamodb:*) in what it allows.
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : [
        for a in flatten([s.Action]) : !strcontains(a, "*")
      ] if s.Effect == "Allow"
    ]))
    error_message = "The boundary's Allow statements list actions; wildcards would let a new role do whatever a service offers."
  }

  # Object deletes: upload-api alone; puts also the scanner (its validation
  # object); the verdict tags the scanner alone.
  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "s3:DeleteObjectVersion"))])
    ])) == toset([var.workload_roles.upload_api])
    error_message = "Only upload-api may delete object versions."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "s3:PutObject"))])
    ])) == toset([var.workload_roles.upload_api, var.workload_roles.malware_scan])
    error_message = "Only upload-api and the scanner may put objects."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "s3:PutObjectVersionTagging"))])
    ])) == toset([var.workload_roles.malware_scan])
    error_message = "Only the scanner may tag objects (the scan verdict)."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "events:PutTargets"))])
    ])) == toset([var.workload_roles.malware_scan])
    error_message = "Only the scanner may change GuardDuty's rule and its targets (they receive every new object's key)."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "s3:GetObjectVersion"))])
    ])) == toset([var.workload_roles.upload_api, var.workload_roles.processor, var.workload_roles.malware_scan])
    error_message = "Only the two functions and the scanner may read objects."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "dynamodb:GetItem"))])
    ])) == toset([var.workload_roles.upload_api, var.workload_roles.processor, var.workload_roles.malware_scan])
    error_message = "Only the two functions (and the scanner, which runs no code of ours) may read items."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "dynamodb:GetRecords"))])
    ])) == toset([var.workload_roles.pipe])
    error_message = "Only the Pipe may read the stream."
  }

  # The pipeline: only the Pipe starts executions, of the processing state
  # machine, and dead-letters, to the dead-letter queues; only the state
  # machine invokes the processor.
  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "states:StartExecution"))])
    ])) == toset([var.workload_roles.pipe])
    error_message = "Only the Pipe role may start executions."
  }

  assert {
    condition = toset([
      for r in flatten([
        for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Resource])
        if s.Effect == "Allow" && contains(flatten([s.Action]), "states:StartExecution")
      ]) : r if startswith(r, "arn:aws:states:")
    ]) == toset([var.state_machine_arn])
    error_message = "Executions may be started only on the processing state machine."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "sqs:SendMessage"))])
    ])) == toset([var.workload_roles.pipe])
    error_message = "Only the Pipe role may send messages."
  }

  assert {
    condition = toset([
      for r in flatten([
        for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Resource])
        if s.Effect == "Allow" && contains(flatten([s.Action]), "sqs:SendMessage")
      ]) : r if startswith(r, "arn:aws:sqs:")
    ]) == toset(var.dead_letter_queue_arns)
    error_message = "Messages may be sent only to the dead-letter queues."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Condition.ArnNotEquals["aws:PrincipalArn"]])
      if s.Effect == "Deny" && can(s.Condition.ArnNotEquals) && anytrue([for p in flatten([s.Action]) : can(regex("^${replace(p, "*", ".*")}$", "lambda:InvokeFunction"))])
    ])) == toset([var.workload_roles.state_machine])
    error_message = "Only the state machine role may invoke the processor."
  }

  # The state machine role: the status attributes only, nothing read back.
  assert {
    condition = [
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      toset(s.Condition["ForAnyValue:StringNotEquals"]["dynamodb:Attributes"]) if s.Effect == "Deny" && can(s.Condition["ForAnyValue:StringNotEquals"]["dynamodb:Attributes"])
    ] == [toset(var.state_machine_item_attributes)]
    error_message = "The state machine role may name only the status attributes in an UpdateItem."
  }

  assert {
    condition = [
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      s.Condition.ArnEquals["aws:PrincipalArn"] if s.Effect == "Deny" && can(s.Condition.StringNotEquals["dynamodb:ReturnValues"])
    ] == [var.workload_roles.state_machine]
    error_message = "The state machine role's UpdateItem must ask for ReturnValues NONE."
  }

  # A role created with the boundary cannot make a sink for events: no topic,
  # subscription, queue policy or Pipe, and rules and targets only on
  # GuardDuty's managed rule (for the scanner, below).
  assert {
    condition = !anytrue(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : [
        for a in flatten([s.Action]) : startswith(a, "sns:") || startswith(a, "pipes:") || startswith(a, "firehose:") || contains(["sqs:AddPermission", "sqs:CreateQueue", "sqs:SetQueueAttributes", "logs:PutSubscriptionFilter"], a)
      ] if s.Effect == "Allow"
    ]))
    error_message = "The boundary lets a role create or open a topic, subscription, queue, Pipe or log subscription: somewhere to send upload events."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement : flatten([s.Resource])
      if s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : startswith(a, "events:") && a != "events:PutEvents"])
    ])) == toset([var.malware_scan_rule_arn])
    error_message = "The boundary allows rules and targets only on GuardDuty's managed rule."
  }

  # Nobody changes how data is protected, whatever policy a role is given.
  assert {
    condition = alltrue([
      for action in [
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration", "s3:PutBucketLogging", "s3:PutEncryptionConfiguration",
        "s3:PutBucketObjectLockConfiguration", "s3:PutReplicationConfiguration", "s3:DeleteBucket",
        "dynamodb:ExportTableToPointInTime", "dynamodb:DeleteTable", "dynamodb:UpdateTable",
        "dynamodb:UpdateContinuousBackups", "dynamodb:CreateBackup", "dynamodb:RestoreTableToPointInTime",
        "dynamodb:UpdateTimeToLive", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate",
        "dynamodb:EnableKinesisStreamingDestination", "dynamodb:PutResourcePolicy",
        "iam:PutRolePolicy", "iam:PassRole", "sts:AssumeRole",
        ] : anytrue([
          for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
          s.Effect == "Deny" && !can(s.Condition) && flatten([s.Resource]) == ["*"] && anytrue([
            for pattern in flatten([s.Action]) : can(regex("^${replace(pattern, "*", ".*")}$", action))
          ])
      ])
    ])
    error_message = "Every data-protection action (and identity administration) is denied to every role, unconditionally."
  }
}

run "an_exception_names_one_role" {
  command = plan

  variables {
    workload_roles = {
      upload_api    = "arn:aws:iam::111111111111:role/secure-upload-stage-*"
      processor     = "arn:aws:iam::111111111111:role/secure-upload-stage-processor"
      state_machine = "arn:aws:iam::111111111111:role/secure-upload-stage-processing-sfn"
      pipe          = "arn:aws:iam::111111111111:role/secure-upload-stage-files-stream-pipe"
      malware_scan  = "arn:aws:iam::111111111111:role/secure-upload-stage-malware-scan"
    }
  }

  expect_failures = [var.workload_roles]
}

# Every data-plane and data-protection action the guard rails deny the
# Terraform role (modules/github-oidc) is denied to every role the Terraform
# role may create with this boundary, but for the named exceptions: otherwise
# the Terraform role would create a role to do it. The actions are spelled
# out, so a pattern on either side is checked against real action names.
run "the_boundary_denies_what_the_guard_rails_deny" {
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
    name_prefix         = "secure-upload-stage"
    environment         = "stage"
    github_repository   = "example-org/secure-upload-platform"
    oidc_provider_arn   = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    lambda_role_arns    = ["arn:aws:iam::111111111111:role/secure-upload-stage-upload-api", "arn:aws:iam::111111111111:role/secure-upload-stage-processor"]
    ecr_repository_arns = ["arn:aws:ecr:us-east-1:111111111111:repository/secure-upload-stage/upload-api"]
    kms_key_arn         = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    user_pool_arn       = "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_example"
    ssm_parameter_path  = "/secure-upload/stage"
    # As modules/platform passes them: the size limits below hold for the real lists.
    protected_data_arns = [
      "arn:aws:s3:::secure-upload-stage-uploads-111111111111",
      "arn:aws:s3:::secure-upload-stage-access-logs-111111111111",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-stage-files",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-stage-pending-uploads",
      "arn:aws:dynamodb:us-east-1:111111111111:table/secure-upload-stage-user-usage",
    ]
    permissions_boundary_arn = "arn:aws:iam::111111111111:policy/secure-upload-stage-workload-boundary"
    data_role_arns = [
      "arn:aws:iam::111111111111:role/secure-upload-stage-upload-api",
      "arn:aws:iam::111111111111:role/secure-upload-stage-processor",
      "arn:aws:iam::111111111111:role/secure-upload-stage-files-stream-pipe",
      "arn:aws:iam::111111111111:role/secure-upload-stage-processing-sfn",
      "arn:aws:iam::111111111111:role/secure-upload-stage-malware-scan",
    ]
    state_bucket_name   = "secure-upload-tfstate-111111111111"
    state_key           = "stage/terraform.tfstate"
    state_kms_key_alias = "alias/secure-upload-tfstate"
  }

  assert {
    condition = alltrue([
      for action in [
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:CreateBackup", "dynamodb:CreateGlobalTable",
        "dynamodb:CreateTableReplica", "dynamodb:DeleteBackup", "dynamodb:DeleteItem", "dynamodb:DeleteResourcePolicy",
        "dynamodb:DeleteTable", "dynamodb:DeleteTableReplica", "dynamodb:EnableKinesisStreamingDestination",
        "dynamodb:ExportTableToPointInTime", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
        "dynamodb:ImportTable", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLUpdate", "dynamodb:PutItem", "dynamodb:PutResourcePolicy", "dynamodb:Query",
        "dynamodb:RestoreTableFromAwsBackup", "dynamodb:RestoreTableFromBackup", "dynamodb:RestoreTableToPointInTime",
        "dynamodb:Scan", "dynamodb:StartAwsBackupJob", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateGlobalTable",
        "dynamodb:UpdateItem", "dynamodb:UpdateKinesisStreamingDestination", "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive",
        "s3:AbortMultipartUpload", "s3:BypassGovernanceRetention", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
        "s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging",
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutBucketAcl", "s3:PutBucketLogging", "s3:PutBucketNotification",
        "s3:PutBucketObjectLockConfiguration", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
        "s3:PutInventoryConfiguration", "s3:PutLifecycleConfiguration", "s3:PutObject", "s3:PutObjectAcl",
        "s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionAcl",
        "s3:PutObjectVersionTagging", "s3:PutReplicationConfiguration", "s3:ReplicateDelete", "s3:ReplicateObject",
        "s3:RestoreObject",
        ] : anytrue([
          # denied by the boundary: to everyone, or to all but named roles
          for s in jsondecode(run.the_boundary_is_a_ceiling.policy).Statement :
          s.Effect == "Deny" && flatten([s.Resource]) == ["*"] && (!can(s.Condition) || keys(try(s.Condition, {})) == ["ArnNotEquals"]) && anytrue([
            for pattern in flatten([s.Action]) : can(regex("^${replace(pattern, "*", ".*")}$", action))
          ])
          ]) || !anytrue([
          # ...or not denied to the Terraform role in the first place
          for s in jsondecode(data.aws_iam_policy_document.terraform_guard_rails.json).Statement :
          s.Effect == "Deny" && anytrue([
            for pattern in flatten([s.Action]) : can(regex("^${replace(pattern, "*", ".*")}$", action))
          ])
      ])
    ])
    error_message = "An action the guard rails deny the Terraform role on the data is allowed to a role created with the boundary: the Terraform role could create a role to do it."
  }

  # No event target and no queue policy from CI (H1 of the red-team review
  # and its second pass: a target's input and dead-letter queue are no IAM
  # condition keys, so even the upload API's own target is put by a person);
  # the Terraform role may put rules on no rule but the object-created rule,
  # and may create no queue or topic but the dead-letter queue and the alarm
  # topic (subscribed by e-mail only).
  assert {
    condition = length([
      for s in jsondecode(data.aws_iam_policy_document.github_guard_rails.json).Statement : s
      if s.Effect == "Deny" && flatten([s.Resource]) == ["*"] && try(s.Condition, null) == null
      && length(setsubtract(["events:PutTargets", "events:RemoveTargets", "sqs:SetQueueAttributes", "sqs:AddPermission"], flatten([s.Action]))) == 0
    ]) == 1
    error_message = "Every GitHub role's guard rails must deny every event target and queue policy, unconditionally."
  }

  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.terraform_resources.json, data.aws_iam_policy_document.terraform.json] : [
        for s in jsondecode(doc).Statement : flatten([s.Resource]) == ["arn:aws:events:us-east-1:111111111111:rule/secure-upload-stage-object-created"]
        if s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : contains(["events:PutRule", "events:PutTargets"], a)])
      ]
    ]))
    error_message = "The Terraform role may put rules and targets on the object-created rule only."
  }

  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.terraform_resources.json, data.aws_iam_policy_document.terraform.json] : [
        for s in jsondecode(doc).Statement : contains([
          ["arn:aws:sqs:us-east-1:111111111111:secure-upload-stage-files-stream-dlq"], # pragma: allowlist secret (an SQS queue ARN, not a bot token)
          ["arn:aws:sns:us-east-1:111111111111:secure-upload-stage-alarms"],
        ], flatten([s.Resource]))
        if s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : contains(["sqs:CreateQueue", "sqs:SetQueueAttributes", "sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe"], a)])
      ]
    ]))
    error_message = "The Terraform role may create and configure only the dead-letter queue and the alarm topic."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(data.aws_iam_policy_document.terraform.json).Statement : s.Condition.StringEquals["sns:Protocol"] == "email"
      if s.Effect == "Allow" && contains(flatten([s.Action]), "sns:Subscribe")
    ]))
    error_message = "The alarm topic takes e-mail subscriptions only."
  }

  # The Pipe's log configuration is delivered with the caller's rights to a
  # destination IAM cannot name: a person applies the Pipe, no GitHub role.
  assert {
    condition = alltrue([
      for action in ["pipes:CreatePipe", "pipes:UpdatePipe", "pipes:DeletePipe"] : anytrue([
        for s in jsondecode(data.aws_iam_policy_document.github_guard_rails.json).Statement :
        s.Effect == "Deny" && !can(s.Condition) && flatten([s.Resource]) == ["*"] && contains(flatten([s.Action]), action)
      ])
    ])
    error_message = "Every GitHub role's guard rails must deny every Pipe create, update and delete."
  }

  # Managed policies hold at most 6,144 characters, a role's inline policies
  # 10,240 (white space not counted).
  assert {
    condition     = length(replace(data.aws_iam_policy_document.terraform_guard_rails.json, "/\\s/", "")) <= 6144
    error_message = "The Terraform role's guard rails exceed IAM's 6,144 characters for a managed policy."
  }

  assert {
    condition     = length(replace(data.aws_iam_policy_document.github_guard_rails.json, "/\\s/", "")) <= 6144
    error_message = "The GitHub roles' shared guard rails exceed IAM's 6,144 characters for a managed policy."
  }

  assert {
    condition     = length(replace(data.aws_iam_policy_document.terraform_resources.json, "/\\s/", "")) <= 6144
    error_message = "The Terraform role's resource policy exceeds IAM's 6,144 characters for a managed policy."
  }

  assert {
    condition     = length(replace(data.aws_iam_policy_document.terraform.json, "/\\s/", "")) <= 10240
    error_message = "The Terraform role's inline policy exceeds IAM's 10,240 characters."
  }
}
