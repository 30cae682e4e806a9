# `terraform test` for the web app's hosting (make validate). Every provider
# call is mocked: these runs check what the module asks AWS for.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_s3_bucket" {
    override_during = plan
    defaults = {
      arn                         = "arn:aws:s3:::secure-upload-dev-web-111111111111"
      bucket_regional_domain_name = "secure-upload-dev-web-111111111111.s3.us-east-1.amazonaws.com"
    }
  }

  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_cloudfront_origin_access_control" {
    override_during = plan
    defaults = {
      id = "E1OACEXAMPLE"
    }
  }

  mock_resource "aws_cloudfront_response_headers_policy" {
    override_during = plan
    defaults = {
      id = "00000000-1111-2222-3333-444444444444"
    }
  }

  mock_resource "aws_cloudfront_distribution" {
    override_during = plan
    defaults = {
      arn         = "arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
}

# What modules/platform gives it in dev.
variables {
  name_prefix          = "secure-upload-dev"
  api_url              = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
  cognito_endpoint     = "https://cognito-idp.us-east-1.amazonaws.com"
  upload_bucket_origin = "https://secure-upload-dev-uploads-111111111111.s3.us-east-1.amazonaws.com"
  user_pool_client_id  = "example-client-id"
  key_user_role_arns = [
    "arn:aws:iam::111111111111:role/secure-upload-dev-github-*",
    "arn:aws:iam::111111111111:role/secure-upload-break-glass",
  ]
}

run "the_bucket_is_private_and_read_only_through_the_distribution" {
  command = plan

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "Public access is blocked four ways."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "No ACLs: the bucket owner owns every object."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning is on: a release can be rolled back."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : (
        one(r.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
        one(r.apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.this.arn
      )
    ])
    error_message = "Files are encrypted with the module's own key."
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.bucket.statement : s.sid] == ["DenyInsecureTransport", "DenyOldTls", "DenyOtherEncryption", "DenyOtherKeys", "DenyCustomerKeys", "CloudFrontReadsForThisDistribution"]
    error_message = "The bucket policy denies plain HTTP and old TLS, and grants nothing but CloudFront's read."
  }

  assert {
    condition = length([
      for s in data.aws_iam_policy_document.bucket.statement : s.sid
      if s.effect == "Deny" && toset(s.actions) == toset(["s3:PutObject"]) && one(s.condition).test == "StringNotEqualsIfExists" && (
        (one(s.condition).variable == "s3:x-amz-server-side-encryption" && toset(one(s.condition).values) == toset(["aws:kms"])) ||
        (one(s.condition).variable == "s3:x-amz-server-side-encryption-aws-kms-key-id" && toset(one(s.condition).values) == toset([aws_kms_key.this.arn]))
      )
    ]) == 2
    error_message = "A write that names its encryption names SSE-KMS and the module's key."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.bucket.statement : (
        s.effect == "Deny" &&
        toset(s.actions) == toset(["s3:PutObject"]) &&
        toset(s.resources) == toset(["arn:aws:s3:::secure-upload-dev-web-111111111111/*"]) &&
        [for p in s.principals : [p.type, toset(p.identifiers)]] == [["*", toset(["*"])]] &&
        [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["Null s3:x-amz-server-side-encryption-customer-algorithm false"]
      ) if s.sid == "DenyCustomerKeys"
    ])
    error_message = "Every write that sends an SSE-C header is denied: CloudFront could not read the file."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.bucket.statement : (
        coalesce(s.effect, "Allow") == "Allow" &&
        toset(s.actions) == toset(["s3:GetObject"]) &&
        toset(s.resources) == toset(["arn:aws:s3:::secure-upload-dev-web-111111111111/*"]) &&
        [for p in s.principals : [p.type, toset(p.identifiers)]] == [["Service", toset(["cloudfront.amazonaws.com"])]] &&
        [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["StringEquals aws:SourceArn arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"]
      ) if s.sid == "CloudFrontReadsForThisDistribution"
    ])
    error_message = "Only cloudfront.amazonaws.com reads objects, and only for this distribution (aws:SourceArn)."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.bucket.statement : s.effect == "Deny" if s.sid != "CloudFrontReadsForThisDistribution"])
    error_message = "Every other statement of the bucket policy is a Deny."
  }
}

run "cloudfront_reads_through_origin_access_control_over_https_only" {
  command = plan

  assert {
    condition = (
      aws_cloudfront_origin_access_control.this.origin_access_control_origin_type == "s3" &&
      aws_cloudfront_origin_access_control.this.signing_behavior == "always" &&
      aws_cloudfront_origin_access_control.this.signing_protocol == "sigv4"
    )
    error_message = "CloudFront signs every request to the bucket with SigV4."
  }

  assert {
    condition = (
      length(aws_cloudfront_distribution.this.origin) == 1 &&
      one(aws_cloudfront_distribution.this.origin).origin_access_control_id == "E1OACEXAMPLE" &&
      one(aws_cloudfront_distribution.this.origin).domain_name == "secure-upload-dev-web-111111111111.s3.us-east-1.amazonaws.com" &&
      length(one(aws_cloudfront_distribution.this.origin).s3_origin_config) == 0
    )
    error_message = "The one origin is the bucket, reached through the origin access control (no legacy origin access identity)."
  }

  assert {
    condition = (
      aws_cloudfront_distribution.this.default_root_object == "index.html" &&
      aws_cloudfront_distribution.this.http_version == "http2and3" &&
      aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https" &&
      toset(aws_cloudfront_distribution.this.default_cache_behavior[0].allowed_methods) == toset(["GET", "HEAD"])
    )
    error_message = "index.html at /, HTTP/2 and HTTP/3, plain HTTP redirected to HTTPS, reads only."
  }

  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].response_headers_policy_id == "00000000-1111-2222-3333-444444444444"
    error_message = "Every response carries the module's security headers."
  }

  assert {
    condition     = output.web_url == "https://d111111abcdef8.cloudfront.net/" && output.web_origin == "https://d111111abcdef8.cloudfront.net"
    error_message = "The app is at https://<distribution domain>/; its origin has no path."
  }
}

run "the_security_headers_are_exactly_the_stated_ones" {
  command = plan

  assert {
    condition = one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).content_security_policy).content_security_policy == join("", [
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; ",
      "connect-src 'self' https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com https://cognito-idp.us-east-1.amazonaws.com ",
      "https://secure-upload-dev-uploads-111111111111.s3.us-east-1.amazonaws.com; ",
      "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; worker-src 'none'; manifest-src 'none'",
    ])
    error_message = "The CSP allows the app's own files, and connections to its API, Cognito and the upload bucket only."
  }

  assert {
    condition = alltrue([
      for h in one(aws_cloudfront_response_headers_policy.this.security_headers_config).strict_transport_security :
      h.access_control_max_age_sec == 63072000 && h.include_subdomains && h.preload && h.override
    ]) && length(one(aws_cloudfront_response_headers_policy.this.security_headers_config).strict_transport_security) == 1
    error_message = "HSTS: two years, subdomains included, preload."
  }

  assert {
    condition = (
      one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).content_type_options).override &&
      one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).frame_options).frame_option == "DENY" &&
      one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).referrer_policy).referrer_policy == "no-referrer"
    )
    error_message = "X-Content-Type-Options nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer."
  }

  assert {
    condition = alltrue([
      for name, header in one(aws_cloudfront_response_headers_policy.this.security_headers_config) : one(header).override
      if length(header) > 0
    ])
    error_message = "The policy's headers replace any the origin sends."
  }

  assert {
    condition = [
      for item in one(aws_cloudfront_response_headers_policy.this.custom_headers_config).items :
      [item.header, item.value, item.override]
    ] == [["Cache-Control", "no-cache", true]]
    error_message = "Browsers revalidate every file, whatever Cache-Control it was written with."
  }
}

run "the_key_decrypts_for_this_distribution_and_the_listed_roles_only" {
  command = plan

  assert {
    condition     = [for s in data.aws_iam_policy_document.key.statement : s.sid] == ["KeyAdministration", "UseThroughS3", "CloudFrontDecryptsForThisDistribution", "DecryptOnlyForListedRoles"]
    error_message = "The key's policy has exactly the expected statements."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : (
        toset(s.actions) == toset(["kms:Decrypt"]) &&
        [for p in s.principals : [p.type, toset(p.identifiers)]] == [["Service", toset(["cloudfront.amazonaws.com"])]] &&
        [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["StringEquals aws:SourceArn arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"]
      ) if s.sid == "CloudFrontDecryptsForThisDistribution"
    ])
    error_message = "CloudFront decrypts, and only for this distribution."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : (
        s.effect == "Deny" &&
        toset([for c in s.condition : "${c.test} ${c.variable} ${join(",", sort(c.values))}"]) == toset([
          "ArnNotLike aws:PrincipalArn ${join(",", sort(var.key_user_role_arns))}",
          "BoolIfExists aws:PrincipalIsAWSService false",
        ])
      ) if s.sid == "DecryptOnlyForListedRoles"
    ])
    error_message = "Every AWS principal but the listed roles is denied decryption, whatever an IAM policy says."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : (
        [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}" if c.variable == "kms:ViaService"] == ["StringEquals kms:ViaService s3.us-east-1.amazonaws.com"]
      ) if s.sid == "UseThroughS3"
    ])
    error_message = "The account's principals use the key through S3 only."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The key rotates and waits 30 days before deletion."
  }
}

run "config_json_tells_the_app_where_its_services_are" {
  command = plan

  assert {
    condition = aws_s3_object.config.key == "config.json" && aws_s3_object.config.content_type == "application/json" && jsondecode(aws_s3_object.config.content) == {
      apiUrl           = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
      region           = "us-east-1"
      cognitoEndpoint  = "https://cognito-idp.us-east-1.amazonaws.com"
      userPoolClientId = "example-client-id"
    }
    error_message = "config.json holds apiUrl, region, cognitoEndpoint and userPoolClientId, served as JSON."
  }

  assert {
    condition     = aws_s3_object.config.kms_key_id == aws_kms_key.this.arn
    error_message = "config.json is encrypted with the module's key."
  }
}

run "the_local_stack_names_the_emulator_once" {
  command = plan

  variables {
    api_url              = "http://127.0.0.1:8000"
    cognito_endpoint     = "http://127.0.0.1:5000"
    upload_bucket_origin = "http://127.0.0.1:5000"
  }

  assert {
    condition     = strcontains(one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).content_security_policy).content_security_policy, "; connect-src 'self' http://127.0.0.1:8000 http://127.0.0.1:5000; ")
    error_message = "Cognito and S3 are one origin in the emulator, named once."
  }
}

run "the_api_url_is_an_origin" {
  command = plan

  variables {
    api_url = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/"
  }

  expect_failures = [var.api_url]
}

run "plain_http_only_on_loopback" {
  command = plan

  variables {
    upload_bucket_origin = "http://secure-upload-dev-uploads-111111111111.s3.us-east-1.amazonaws.com"
  }

  expect_failures = [var.upload_bucket_origin]
}

run "the_key_users_are_never_everyone" {
  command = plan

  variables {
    key_user_role_arns = ["*"]
  }

  expect_failures = [var.key_user_role_arns]
}
