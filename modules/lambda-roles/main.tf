data "aws_region" "current" {}

locals {
  region      = data.aws_region.current.id
  objects_arn = "${var.bucket_arn}/${var.upload_prefix}/*"
  # The functions reach the key only through these services (S3 SSE-KMS and
  # the KMS-encrypted table), never with direct KMS calls.
  kms_via_services = ["s3.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com"]
  # The SAM template encrypts both functions' environment variables with the
  # key (KmsKeyArn); Lambda decrypts them with the execution role.
  lambda_via_service = "lambda.${local.region}.amazonaws.com"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Terraform owns the log groups so they are KMS-encrypted, have a retention
# and the roles need no logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "upload_api" {
  name              = "/aws/lambda/${var.upload_api_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "processor" {
  name              = "/aws/lambda/${var.processor_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ------------------------------------------------------------ upload API

resource "aws_iam_role" "upload_api" {
  name                 = "${var.name_prefix}-upload-api"
  description          = "Execution role of the upload API function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "upload_api" {
  # Put the upload (and sign URLs that put it: single PUT, and multipart's
  # create, part and complete calls are all s3:PutObject); GetObjectVersion
  # signs the presigned download of the version the malware scan cleared
  # (GetObject stays for a bucket without versions); delete every version
  # under a file's prefix (delete, discard, erasure) or the exact version a
  # failed metadata write leaves (DeleteObjectVersion), or the key
  # (DeleteObject) should S3 return no version id.
  statement {
    sid       = "UploadObjects"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [local.objects_arn]
  }

  # Deleting a file removes every version of its object (the bucket is
  # versioned): list them, under the upload prefix only.
  statement {
    sid       = "ListObjectVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.upload_prefix}/*"]
    }
  }

  # Direct multipart uploads: list the parts received (resume, complete) and
  # abort a pending upload the owner deletes.
  statement {
    sid       = "MultipartUploads"
    actions   = ["s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    resources = [local.objects_arn]
  }

  # Delete, discard and erasure abort every open multipart upload under the
  # file's (or user's) prefix, not only the one a record names. S3 offers no
  # s3:prefix condition key for this action, so it is the bucket: it reveals
  # keys and upload ids of in-flight uploads, never bytes (the code always
  # lists one prefix; AbortMultipartUpload stays on the upload prefix above).
  statement {
    sid       = "OpenMultipartUploads"
    actions   = ["s3:ListBucketMultipartUploads"]
    resources = [var.bucket_arn]
  }

  # Put and read file items; mark one DELETING (UpdateItem) and delete it
  # when its owner deletes the file.
  statement {
    sid       = "MetadataItems"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [var.table_arn]
  }

  # Each user's stored bytes and files: read before a direct upload starts,
  # counted up and down in the transaction that writes or deletes the item.
  statement {
    sid       = "UserUsage"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.usage_table_arn]
  }

  # Pending direct uploads: created by POST /uploads, moved into the files
  # table by completion (a transaction: Put there, Delete here), or deleted.
  statement {
    sid       = "PendingUploads"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]
    resources = [var.pending_table_arn]
  }

  statement {
    sid       = "ListOwnFiles"
    actions   = ["dynamodb:Query"]
    resources = [var.owner_index_arn]
  }

  statement {
    sid       = "KeyThroughS3AndDynamoDB"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  statement {
    sid       = "EnvironmentVariables"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.lambda_via_service]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.upload_api.arn}:log-stream:*"]
  }

  # X-Ray has no resource-level permissions.
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "upload_api" {
  name   = "least-privilege"
  role   = aws_iam_role.upload_api.id
  policy = data.aws_iam_policy_document.upload_api.json
}

# ------------------------------------------------------------ processor

resource "aws_iam_role" "processor" {
  name                 = "${var.name_prefix}-processor"
  description          = "Execution role of the processor function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "processor" {
  # The processor reads the exact version the malware scan tagged.
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
  }

  # The malware scan's verdict is a tag GuardDuty puts on the object.
  statement {
    sid       = "ReadScanVerdicts"
    actions   = ["s3:GetObjectTagging"]
    resources = [local.objects_arn]
  }

  # Without ListBucket S3 answers a missing key with 403 AccessDenied, which
  # the processor must treat as a configuration error (item left UPLOADED);
  # with it, a missing object is a 404 NoSuchKey and the item is marked
  # FAILED. Limited to the upload prefix.
  statement {
    sid       = "KnowMissingUploads"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.upload_prefix}/*"]
    }
  }

  statement {
    sid       = "RecordOutcome"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.table_arn]
  }

  statement {
    sid       = "KeyThroughS3AndDynamoDB"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  statement {
    sid       = "EnvironmentVariables"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.lambda_via_service]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.processor.arn}:log-stream:*"]
  }

  # X-Ray has no resource-level permissions.
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "processor" {
  name   = "least-privilege"
  role   = aws_iam_role.processor.id
  policy = data.aws_iam_policy_document.processor.json
}
