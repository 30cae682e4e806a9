data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  arn_prefix = "arn:${local.partition}:%s:${local.region}:${local.account_id}"

  roles = var.workload_roles
}

# The ceiling of every role the Terraform role may create or change (it must
# attach this boundary: see modules/github-oidc). The Terraform role may give
# such a role any trust and any policy, so whatever this boundary lets a role
# do, the Terraform role can do through it (finding 3 of the security review).
#
# The Allow statements list the actions the five workload roles need, on the
# resources they need, and nothing else. The Deny statements take every
# data-plane and data-protection action away from every role, except the
# named grants below (aws:PrincipalArn, no wildcards): a role the Terraform
# role creates has another ARN and gets none of them, and the named roles
# cannot be deleted and created again with another trust (guard rails).
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_SUP_4: A permissions boundary grants nothing; it caps what a role's own policies (held to CKV_SUP_4 themselves) can grant. Its broad entries are the environment key (key ids are random: key/* of this account and region, and a Deny limits kms:Decrypt to the five workload roles) and the actions that exist on "*" only (X-Ray, vended-log delivery).

  # ---- Allow: the ceiling, action by action

  # upload-api puts, reads and deletes upload objects (presigned or direct),
  # aborts multipart uploads and lists under the upload prefix; the processor
  # reads objects and their scan verdict tags; the scanner reads and tags
  # them, puts its validation object and keeps the bucket's EventBridge
  # notification.
  statement {
    actions = [
      "s3:AbortMultipartUpload",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
      "s3:GetBucketNotification",
      "s3:GetObject",
      "s3:GetObjectTagging",
      "s3:GetObjectVersion",
      "s3:GetObjectVersionTagging",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:ListBucketVersions",
      "s3:ListMultipartUploadParts",
      "s3:PutBucketNotification",
      "s3:PutObject",
      "s3:PutObjectTagging",
      "s3:PutObjectVersionTagging",
    ]
    resources = [var.upload_bucket_arn, "${var.upload_bucket_arn}/*"]
  }

  # Items of this environment's tables (indexes included), and the Pipe's
  # reads of the files table's stream.
  statement {
    actions = [
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeStream",
      "dynamodb:GetItem",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = ["${format(local.arn_prefix, "dynamodb")}:table/${var.name_prefix}-*"]
  }

  # The environment key, through S3, DynamoDB, Lambda, SQS and Step Functions.
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["${format(local.arn_prefix, "kms")}:key/*"]
  }

  # The pipeline, each action on its one resource: the Pipe starts the
  # processing state machine and dead-letters to its queue; the state
  # machine invokes the processor and publishes file events.
  statement {
    actions = ["events:PutEvents", "lambda:InvokeFunction", "sqs:SendMessage", "states:StartExecution"]
    resources = concat(
      [var.state_machine_arn, var.processor_function_arn, "${var.processor_function_arn}:*", var.file_events_bus_arn],
      var.dead_letter_queue_arns,
    )
  }

  # GuardDuty's scanner role keeps the rule that tells GuardDuty of new objects.
  statement {
    actions = [
      "events:DeleteRule",
      "events:DescribeRule",
      "events:ListTargetsByRule",
      "events:PutRule",
      "events:PutTargets",
      "events:RemoveTargets",
    ]
    resources = [var.malware_scan_rule_arn]
  }

  statement {
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # /aws/lambda/<prefix>-* and /aws/vendedlogs/<service>/<prefix>-*
    resources = ["${format(local.arn_prefix, "logs")}:log-group:/aws/*/${var.name_prefix}-*"]
  }

  # X-Ray and vended-log delivery (the state machine's logs) have no
  # resource-level permissions.
  statement {
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    resources = ["*"]
  }

  # ---- Deny: never, for any role

  statement {
    effect    = "Deny"
    actions   = ["iam:*", "organizations:*", "sts:AssumeRole*"]
    resources = ["*"]
  }

  # Data protection of buckets, objects and tables: policies, ACLs,
  # versioning, lifecycle, logging, encryption, object lock, replication,
  # deletion; table settings and deletion, backups and restores, exports and
  # imports (every *Table* action), TTL, streaming to Kinesis, resource
  # policies; and item writes nobody makes (BatchWriteItem, PartiQL).
  statement {
    effect = "Deny"
    actions = [
      "dynamodb:*Backup*",
      "dynamodb:*Kinesis*",
      "dynamodb:*ResourcePolicy",
      "dynamodb:*Table*",
      "dynamodb:*TimeToLive",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQL*",
      "s3:Bypass*",
      "s3:DeleteBucket*",
      "s3:DeleteObject*Tagging",
      "s3:Put*Configuration",
      "s3:PutBucketAcl",
      "s3:PutBucketLogging",
      "s3:PutBucketOwnershipControls",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketVersioning",
      "s3:PutObject*Acl",
      "s3:PutObjectLegalHold",
      "s3:PutObjectRetention",
      "s3:Replicate*",
      "s3:RestoreObject",
    ]
    resources = ["*"]
  }

  # ---- Deny: except to the named roles (each exception says who and why)

  # Reads of objects and items: the two functions (downloads, listing,
  # processing) and the scanner (GuardDuty scans objects as it; it runs no
  # code of ours, so sharing this list gives nobody item reads).
  statement {
    effect    = "Deny"
    actions   = ["dynamodb:*GetItem", "dynamodb:Query", "dynamodb:Scan", "s3:GetObject*"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.upload_api, local.roles.processor, local.roles.malware_scan]
    }
  }

  # Object puts: upload-api (uploads) and the scanner (its validation object).
  statement {
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.upload_api, local.roles.malware_scan]
    }
  }

  # upload-api alone deletes objects, versions and multipart uploads (delete,
  # discard, erasure) and puts and deletes items (upload, quota, delete).
  statement {
    effect = "Deny"
    actions = [
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:PutItem",
      "s3:AbortMultipartUpload",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.upload_api]
    }
  }

  # The scanner alone writes the verdict tags (the bucket policy says the
  # same), the bucket's EventBridge notification and GuardDuty's rule (whose
  # targets receive every new object's key).
  statement {
    effect    = "Deny"
    actions   = ["events:*Rule", "events:*Targets", "s3:PutBucketNotification", "s3:PutObject*Tagging"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.malware_scan]
    }
  }

  # Item updates: upload-api (quota, DELETING), the processor (outcome) and
  # the state machine (FAILED, limited below).
  statement {
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.upload_api, local.roles.processor, local.roles.state_machine]
    }
  }

  # The state machine (whose definition the Terraform role may rewrite) sets
  # the status attributes and nothing else, and reads nothing back.
  statement {
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.state_machine]
    }

    condition {
      test     = "ForAnyValue:StringNotEquals"
      variable = "dynamodb:Attributes"
      values   = var.state_machine_item_attributes
    }
  }

  statement {
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.state_machine]
    }

    condition {
      test     = "StringNotEquals"
      variable = "dynamodb:ReturnValues"
      values   = ["NONE"]
    }
  }

  # The state machine alone invokes the processor and publishes file events.
  statement {
    effect    = "Deny"
    actions   = ["events:PutEvents", "lambda:InvokeFunction"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.state_machine]
    }
  }

  # The Pipe alone reads the stream (the items' new images), starts the
  # processing state machine and sends to the dead-letter queue.
  statement {
    effect = "Deny"
    actions = [
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "sqs:SendMessage",
      "states:StartExecution",
    ]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [local.roles.pipe]
    }
  }

  # Decryption: the five workload roles (each through its services).
  statement {
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = values(local.roles)
    }
  }
}

resource "aws_iam_policy" "this" {
  name        = "${var.name_prefix}-workload-boundary"
  description = "Permissions boundary of every role the Terraform role of ${var.name_prefix} creates."
  policy      = data.aws_iam_policy_document.this.json
  tags        = var.tags

  lifecycle {
    # IAM refuses a managed policy over 6,144 characters (white space not counted).
    precondition {
      condition     = length(replace(data.aws_iam_policy_document.this.json, "/\\s/", "")) <= 6144
      error_message = "The permissions boundary exceeds IAM's 6,144 characters for a managed policy."
    }
  }
}
