# Object-created events of the upload bucket go to the upload API function,
# which completes a pending single-request upload (Lambda Web Adapter passes
# non-HTTP events to the app's /events). The bucket sends its events to
# EventBridge (modules/storage); SAM grants this rule permission to invoke
# the function it creates.
resource "aws_cloudwatch_event_rule" "object_created" {
  name        = "${var.name_prefix}-object-created"
  description = "Completes direct uploads: objects created under ${var.upload_prefix} in ${var.bucket_name}."
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [{ prefix = var.upload_prefix }] }
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "upload_api" {
  rule = aws_cloudwatch_event_rule.object_created.name
  arn  = var.function_arn

  # An event that cannot be delivered within the day leaves the upload
  # pending: the client's POST /uploads/{file_id}/complete still completes
  # it, and the pending record expires otherwise.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
}
