# The browser app's hosting: a private bucket of its files under a key of its
# own, read only by one CloudFront distribution (origin access control), which
# serves them over HTTPS with the security headers of a response-headers
# policy. config.json, beside the app, tells it where the API and Cognito are.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"

  # The app loads only its own files and talks only to its API, Cognito and
  # the upload bucket: no inline script or style, no framing, no form posts.
  # No service worker or manifest either: the app uses none, and a worker a
  # bad release registered would outlive the release's rollback.
  # (Locally Cognito and S3 are both the emulator: one origin.)
  content_security_policy = join("; ", [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src ${join(" ", distinct(["'self'", var.api_url, var.cognito_endpoint, var.upload_bucket_origin]))}",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "worker-src 'none'",
    "manifest-src 'none'",
  ])

  origin_id = "web-files"
  # AWS's managed cache policy Managed-CachingDisabled (the same id in every
  # account). The app is a handful of small files: every request reaches the
  # bucket, so a new release or config.json is live at once, without an
  # invalidation (and without a CloudFront right for whoever deploys it).
  caching_disabled_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
}

# ------------------------------------------------------------ key

# The bucket's own key, so that CloudFront's right to decrypt reaches the
# app's files and nothing else: the environment key, which encrypts users'
# data, gives CloudFront nothing.
data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: Key policy: "*" is this key; administration is delegated to this account's IAM, as for the environment key (modules/kms).
  # checkov:skip=CKV_AWS_111: Key policy: "*" is this key; IAM principals use it only through S3, CloudFront only decrypts for this distribution (aws:SourceArn).
  # checkov:skip=CKV_AWS_356: Key policy: the only resource a key policy can name is "*" (this key).

  # Administration is delegated to IAM in this account (Terraform and
  # break-glass roles). Listed explicitly so the account root never gets
  # data-key usage here.
  statement {
    sid = "KeyAdministration"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # In a key policy "*" means this key.

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }
  }

  # IAM principals of this account use the key only through S3 (writing the
  # app's files); their own IAM policies decide which of them may.
  statement {
    sid = "UseThroughS3"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # Origin access control: CloudFront reads the files as its service
  # principal, for this distribution only.
  statement {
    sid       = "CloudFrontDecryptsForThisDistribution"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  # Whatever an IAM policy of this account says, only the listed roles decrypt
  # (CloudFront, a service principal, is covered above).
  statement {
    sid       = "DecryptOnlyForListedRoles"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.key_user_role_arns
    }

    condition {
      test     = "BoolIfExists"
      variable = "aws:PrincipalIsAWSService"
      values   = ["false"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the web app's files of ${var.name_prefix}; CloudFront decrypts them for its one distribution."
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  rotation_period_in_days = 365
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

# ------------------------------------------------------------ bucket

# Hardened as modules/secure-bucket's buckets are; not one of them because
# its one reader is a service principal (CloudFront), which that module's
# policy does not admit.
resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: S3 server access logs would record CloudFront's reads of public code; who changed a file is the question that matters, and CloudTrail answers it (object-level data events of this bucket, environments/bootstrap).
  # checkov:skip=CKV_AWS_144: The bucket holds the build of a commit, reproducible from the repository; a copy in a second region adds no recovery.
  # checkov:skip=CKV2_AWS_62: Nothing reacts to changes of the app's files.
  bucket        = "${var.name_prefix}-web-${local.account_id}"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "bounded-history"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOldTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # Every file is encrypted with this bucket's key, as modules/secure-bucket
  # requires of its buckets: an upload that names its encryption names SSE-KMS
  # and this key. (IfExists: one that names none gets the default, this key.)
  statement {
    sid       = "DenyOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid       = "DenyOtherKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.this.arn]
    }
  }

  # SSE-C names its encryption in a header of its own, which the two statements
  # above do not see: CloudFront could not read a file under the writer's key.
  # Null false: that header is present. S3 authorises CopyObject and every
  # multipart step as s3:PutObject too.
  statement {
    sid       = "DenyCustomerKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-customer-algorithm"
      values   = ["false"]
    }
  }

  # Origin access control: the only grant of the policy. CloudFront reads
  # files for this distribution only; nobody outside the account reads.
  statement {
    sid       = "CloudFrontReadsForThisDistribution"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  # checkov:skip=CKV_SUP_14: The app's public code, not users' data: its one reader is CloudFront, a service principal no reader list of IAM roles can name, and the bytes need the key, which decrypts for CloudFront and the listed roles only (DecryptOnlyForListedRoles). A reader list here would also refuse the HeadObject of the person who applies this module.
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ------------------------------------------------------------ distribution

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name_prefix}-web"
  description                       = "CloudFront signs every request to the web bucket of ${var.name_prefix}."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "this" {
  name    = "${var.name_prefix}-web"
  comment = "Security headers of the ${var.name_prefix} web app."

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }

    strict_transport_security {
      access_control_max_age_sec = 63072000 # two years, as the preload list asks
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }
  }

  # Browsers revalidate every file, whatever Cache-Control a file was written with:
  # a release rolled back is gone from every browser at its next load.
  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = "no-cache"
      override = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  # checkov:skip=CKV_AWS_68: No AWS WAF: the distribution serves a few static public files, and every request for data goes to the API, which authenticates, throttles and validates it. A fork that needs one attaches a web ACL (web_acl_id) created in us-east-1.
  # checkov:skip=CKV2_AWS_47: No AWS WAF (see CKV_AWS_68): no server-side code runs behind this distribution for Log4j to reach.
  # checkov:skip=CKV_AWS_86: CloudFront's standard logs go to a bucket with ACLs enabled, which every bucket here forbids (BucketOwnerEnforced); the reads are of public code, and the API logs every data request. A fork that wants viewer logs adds CloudFront's logging to CloudWatch (aws_cloudwatch_log_delivery).
  # checkov:skip=CKV_AWS_174: The default *.cloudfront.net certificate cannot raise CloudFront's minimum TLS version; browsers negotiate TLS 1.2 or 1.3 with it. A fork with its own domain sets aliases, an ACM certificate and minimum_protocol_version = "TLSv1.2_2021".
  # checkov:skip=CKV2_AWS_42: No custom domain, so the default *.cloudfront.net certificate (see CKV_AWS_174).
  # checkov:skip=CKV_AWS_374: Users may sign in from anywhere; a fork with a narrower audience sets a geo_restriction allow list.
  # checkov:skip=CKV_AWS_310: One origin, the bucket: a failover origin would be a second copy of the files to keep in step, for a static app that S3 serves at its own availability.
  enabled             = true
  comment             = "The ${var.name_prefix} web app."
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  tags                = var.tags

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.this.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# ------------------------------------------------------------ runtime configuration

# Beside the app, read by it at start: the same build runs in every environment.
resource "aws_s3_object" "config" {
  bucket       = aws_s3_bucket.this.id
  key          = "config.json"
  content_type = "application/json"
  content = jsonencode({
    apiUrl           = var.api_url
    region           = local.region
    cognitoEndpoint  = var.cognito_endpoint
    userPoolClientId = var.user_pool_client_id
  })
  kms_key_id = aws_kms_key.this.arn
  tags       = var.tags
}
