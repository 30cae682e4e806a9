data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # The data contract shared with both services (one file, no copies).
  contract = jsondecode(file("${path.module}/../../services/contract/upload_contract/contract.json"))

  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.id
  name_prefix = "${var.project}-${var.environment}"

  # SAM creates the functions later under these fixed names, so roles, log
  # groups, alarms and the state machine can reference them now.
  upload_api_function_name = "${local.name_prefix}-upload-api"
  processor_function_name  = "${local.name_prefix}-processor"
  processor_function_arn   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.processor_function_name}"
  upload_api_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.upload_api_function_name}"
  # Every function of this environment (ECR lets only these pull images).
  function_arn_pattern = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.name_prefix}-*"

  # Role names are fixed so the permissions boundary (and the key and bucket
  # policies) can name the roles that read upload data before they exist.
  role_arn               = "arn:${local.partition}:iam::${local.account_id}:role/${local.name_prefix}"
  upload_api_role_arn    = "${local.role_arn}-upload-api"
  processor_role_arn     = "${local.role_arn}-processor"
  pipe_role_arn          = "${local.role_arn}-files-stream-pipe"
  state_machine_role_arn = "${local.role_arn}-processing-sfn"
  data_reader_role_arns  = [local.upload_api_role_arn, local.processor_role_arn, local.pipe_role_arn]
  # GuardDuty Malware Protection reads (scans) and tags new objects as this role.
  malware_scan_role_arn = "${local.role_arn}-malware-scan"
  # Created by people in each account (environments/bootstrap), for emergencies only.
  break_glass_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-break-glass"
  arn_prefix           = "${local.partition}:%s:${local.region}:${local.account_id}"
  # Named before creation: the permissions boundary names them.
  upload_bucket_arn = "arn:${local.partition}:s3:::${local.name_prefix}-uploads-${local.account_id}"
  files_table_name  = "${local.name_prefix}-files"

  upload_api_repository = "${local.name_prefix}/upload-api"
  processor_repository  = "${local.name_prefix}/processor"

  # SSM parameters for SAM live under /<project>/<env>/ (aws_ssm_parameter.this).
  parameter_path = "/${var.project}/${var.environment}"

  # Created once per account by the bootstrap root.
  oidc_provider_arn = "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

# The ceiling of every role the Terraform role may create or change: each
# workload role is named in the grants it needs, every other role gets none
# (modules/permissions-boundary). Names, not references: the roles carry the
# boundary, so it must exist first.
module "permissions_boundary" {
  source = "../permissions-boundary"

  name_prefix = local.name_prefix
  workload_roles = {
    upload_api    = local.upload_api_role_arn
    processor     = local.processor_role_arn
    state_machine = local.state_machine_role_arn
    pipe          = local.pipe_role_arn
    malware_scan  = local.malware_scan_role_arn
  }
  upload_bucket_arn             = local.upload_bucket_arn
  files_table_arn               = "arn:${format(local.arn_prefix, "dynamodb")}:table/${local.files_table_name}"
  processor_function_arn        = local.processor_function_arn
  state_machine_arn             = module.pipeline.named_arns.state_machine
  dead_letter_queue_arns        = [module.pipeline.named_arns.dead_letter_queue]
  file_events_bus_arn           = module.pipeline.named_arns.file_events_bus
  state_machine_item_attributes = module.pipeline.state_machine_item_attributes
  malware_scan_rule_arn         = "arn:${format(local.arn_prefix, "events")}:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
  tags                          = var.tags
}

module "kms" {
  source = "../kms"

  name                    = local.name_prefix
  description             = "Encrypts every data store, queue, topic and log group of ${local.name_prefix}."
  deletion_window_in_days = var.kms_deletion_window_in_days
  # The Pipe's role uses the key directly for the Pipe's own encrypted data.
  pipe_role_arns = [module.pipeline.pipe_role_arn]
  # Named, not referenced: the bus is encrypted with this key.
  event_bus_arns = ["arn:${format(local.arn_prefix, "events")}:event-bus/${local.name_prefix}-file-events"]
  key_user_role_arns = concat(local.data_reader_role_arns, [
    local.state_machine_role_arn,
    local.malware_scan_role_arn,
    "${local.role_arn}-github-*", # refresh and deploy encrypted resources through their services
    local.break_glass_role_arn,
  ])
  tags = var.tags
}

module "storage" {
  source = "../storage"

  name_prefix                        = local.name_prefix
  kms_key_arn                        = module.kms.key_arn
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  access_log_retention_days          = var.access_log_retention_days
  object_reader_role_arns            = [local.upload_api_role_arn, local.processor_role_arn, local.malware_scan_role_arn, local.break_glass_role_arn]
  cors_allowed_origins               = local.web_origins
  malware_scan = {
    tag_key          = local.contract.malware_scan.tag_key
    clean            = local.contract.malware_scan.clean
    threats_found    = local.contract.malware_scan.threats_found
    scanner_role_arn = local.malware_scan_role_arn
  }
  force_destroy = var.force_destroy_buckets
  tags          = var.tags
}

module "malware_protection" {
  source = "../malware-protection"

  name_prefix              = local.name_prefix
  bucket_name              = module.storage.bucket_name
  kms_key_arn              = module.kms.key_arn
  permissions_boundary_arn = module.permissions_boundary.policy_arn
  tags                     = var.tags
}

module "metadata_table" {
  source = "../metadata-table"

  name                        = local.files_table_name
  keys                        = local.contract.table
  kms_key_arn                 = module.kms.key_arn
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags
}

module "pending_uploads" {
  source = "../record-table"

  name                        = "${local.name_prefix}-pending-uploads"
  keys                        = local.contract.pending_table
  kms_key_arn                 = module.kms.key_arn
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags
}

module "user_usage" {
  source = "../record-table"

  name                        = "${local.name_prefix}-user-usage"
  keys                        = local.contract.usage_table
  kms_key_arn                 = module.kms.key_arn
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags
}

module "upload_events" {
  source = "../upload-events"

  name_prefix  = local.name_prefix
  bucket_name  = module.storage.bucket_name
  function_arn = local.upload_api_function_arn
  tags         = var.tags
}

module "auth" {
  source = "../auth"

  name                   = local.name_prefix
  mfa_configuration      = var.mfa_configuration
  self_signup_enabled    = var.self_signup_enabled
  threat_protection_mode = var.threat_protection_mode
  deletion_protection    = var.deletion_protection
  explicit_auth_flows    = var.explicit_auth_flows
  tags                   = var.tags
}

module "ecr" {
  source = "../ecr"

  repository_names            = [local.upload_api_repository, local.processor_repository]
  kms_key_arn                 = module.kms.key_arn
  keep_tagged_images          = var.ecr_keep_tagged_images
  lambda_function_arn_pattern = local.function_arn_pattern
  tags                        = var.tags
}

module "lambda_roles" {
  source = "../lambda-roles"

  name_prefix              = local.name_prefix
  upload_api_function_name = local.upload_api_function_name
  processor_function_name  = local.processor_function_name
  bucket_arn               = module.storage.bucket_arn
  table_arn                = module.metadata_table.table_arn
  owner_index_arn          = module.metadata_table.owner_index_arn
  pending_table_arn        = module.pending_uploads.table_arn
  usage_table_arn          = module.user_usage.table_arn
  kms_key_arn              = module.kms.key_arn
  permissions_boundary_arn = module.permissions_boundary.policy_arn
  log_retention_days       = var.log_retention_days
  tags                     = var.tags
}

module "pipeline" {
  source = "../pipeline"

  name_prefix              = local.name_prefix
  table_name               = module.metadata_table.table_name
  table_arn                = module.metadata_table.table_arn
  stream_arn               = module.metadata_table.stream_arn
  processor_function_arn   = local.processor_function_arn
  contract                 = local.contract
  kms_key_arn              = module.kms.key_arn
  state_machine_type       = var.state_machine_type
  malware_scan_wait        = var.malware_scan_wait
  batch_size               = var.pipe_batch_size
  permissions_boundary_arn = module.permissions_boundary.policy_arn
  log_retention_days       = var.log_retention_days
  tags                     = var.tags
}

module "observability" {
  source = "../observability"

  name_prefix           = local.name_prefix
  kms_key_arn           = module.kms.key_arn
  dlq_name              = module.pipeline.dlq_name
  state_machine_arn     = module.pipeline.state_machine_arn
  lambda_function_names = [local.upload_api_function_name, local.processor_function_name]
  # As set in services/template.yaml (POWERTOOLS_METRICS_NAMESPACE and
  # POWERTOOLS_SERVICE_NAME) and counted in services/processor/processor/handler.py.
  processor_metrics = {
    namespace   = "SecureUpload"
    service     = "processor"
    metric_name = "FilesFailed"
  }
  alarm_email        = var.alarm_email
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

# protected_data_arns: uploaded objects, access logs (requesters and object
# keys), metadata items and the table's stream (table ARN + "/*").
module "github_oidc" {
  source = "../github-oidc"

  name_prefix              = local.name_prefix
  environment              = var.environment
  github_repository        = var.github_repository
  oidc_provider_arn        = local.oidc_provider_arn
  lambda_role_arns         = [module.lambda_roles.upload_api_role_arn, module.lambda_roles.processor_role_arn]
  ecr_repository_arns      = values(module.ecr.repository_arns)
  kms_key_arn              = module.kms.key_arn
  user_pool_arn            = module.auth.user_pool_arn
  ssm_parameter_path       = local.parameter_path
  protected_data_arns      = [module.storage.bucket_arn, module.storage.access_log_bucket_arn, module.metadata_table.table_arn, module.pending_uploads.table_arn, module.user_usage.table_arn]
  permissions_boundary_arn = module.permissions_boundary.policy_arn
  data_role_arns           = concat(local.data_reader_role_arns, [local.state_machine_role_arn, local.malware_scan_role_arn])
  plan_on_pull_requests    = var.plan_on_pull_requests
  state_bucket_name        = var.state_bucket_name
  state_key                = "${var.environment}/terraform.tfstate"
  state_kms_key_alias      = var.state_kms_key_alias
  tags                     = var.tags
}

# ------------------------------------------------------------ the web app

locals {
  # The API's URL comes from the first sam deploy (environments/README.md):
  # until a root sets it there is no app to serve.
  web_enabled = var.web_api_url != ""
  # Where the browser reaches Cognito and the upload bucket (its regional
  # virtual-hosted origin, which the API's presigned URLs must name), or the
  # local stack's emulator.
  cognito_endpoint     = var.web_local_stack == null ? "https://cognito-idp.${local.region}.amazonaws.com" : var.web_local_stack.emulator_endpoint
  upload_bucket_origin = var.web_local_stack == null ? "https://${module.storage.bucket_name}.s3.${local.region}.amazonaws.com" : var.web_local_stack.emulator_endpoint
  # The origin the app runs at, the one the API's and the upload bucket's CORS
  # allow: CloudFront's, or the local stack's web server.
  web_origins = !local.web_enabled ? [] : [var.web_local_stack == null ? module.web[0].web_origin : var.web_local_stack.origin]
}

module "web" {
  source = "../web"
  count  = local.web_enabled ? 1 : 0

  name_prefix          = local.name_prefix
  api_url              = var.web_api_url
  cognito_endpoint     = local.cognito_endpoint
  upload_bucket_origin = local.upload_bucket_origin
  user_pool_client_id  = module.auth.app_client_id
  # Whoever deploys the app's files through S3 (the GitHub roles), and break-glass.
  key_user_role_arns                 = ["${local.role_arn}-github-*", local.break_glass_role_arn]
  kms_deletion_window_in_days        = var.kms_deletion_window_in_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy_buckets
  tags                               = var.tags
}

# ------------------------------------------------------------ SSM parameters for SAM

locals {
  # Keyed by the contract's names; the values are this environment's.
  parameter_values = {
    upload_bucket_name         = module.storage.bucket_name
    files_table_name           = module.metadata_table.table_name
    pending_uploads_table_name = module.pending_uploads.table_name
    user_usage_table_name      = module.user_usage.table_name
    object_created_rule_arn    = module.upload_events.rule_arn
    kms_key_arn                = module.kms.key_arn
    cognito_user_pool_id       = module.auth.user_pool_id
    cognito_issuer_url         = module.auth.issuer_url
    cognito_app_client_id      = module.auth.app_client_id
    upload_api_role_arn        = module.lambda_roles.upload_api_role_arn
    processor_role_arn         = module.lambda_roles.processor_role_arn
    malware_scan_role_arn      = module.malware_protection.role_arn
    processor_function_name    = local.processor_function_name
    upload_api_function_name   = local.upload_api_function_name
    upload_api_repository_uri  = module.ecr.repository_urls[local.upload_api_repository]
    processor_repository_uri   = module.ecr.repository_urls[local.processor_repository]
    api_access_log_group_arn   = module.observability.api_access_log_group_arn
    alarm_topic_arn            = module.observability.topic_arn
    file_events_bus_name       = module.pipeline.file_events_bus_name
    # The API's CORS origin. SSM refuses an empty value: "none" (no app yet)
    # keeps the API's CORS closed (services/template.yaml, HasAllowedOrigins).
    web_origin = local.web_enabled ? local.web_origins[0] : "none"
  }
  parameters = { for key, name in local.contract.ssm_parameters : name => local.parameter_values[key] }
}

resource "aws_ssm_parameter" "this" {
  # checkov:skip=CKV2_AWS_34: Values are names, ARNs and URLs, not secrets; the SAM template resolves them with {{resolve:ssm:...}}, which does not accept SecureString in these properties.
  for_each = local.parameters

  name        = "/${var.project}/${var.environment}/${each.key}"
  description = "Published by Terraform for the SAM template of ${local.name_prefix}."
  type        = "String"
  value       = each.value
  tags        = var.tags
}
