output "pipe_arn" {
  description = "ARN of the Pipe."
  value       = aws_pipes_pipe.this.arn
}

output "pipe_role_arn" {
  description = "ARN of the Pipe's role."
  value       = aws_iam_role.pipe.arn
}

output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.state_machine.arn
}

output "dlq_arn" {
  description = "ARN of the Pipe's dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the Pipe's dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "file_events_bus_name" {
  description = "Name of the KMS-encrypted bus the file outcomes are published on."
  value       = aws_cloudwatch_event_bus.file_events.name
}

output "file_events_bus_arn" {
  description = "ARN of the file-events bus."
  value       = aws_cloudwatch_event_bus.file_events.arn
}

output "named_arns" {
  description = "ARNs built from names, known before the resources exist (the permissions boundary names them, and the roles created with it carry the boundary): the state machine, the dead-letter queue and the file-events bus."
  value = {
    state_machine     = local.state_machine_arn
    dead_letter_queue = local.dlq_arn
    file_events_bus   = local.file_events_bus_arn
  }
}

output "state_machine_item_attributes" {
  description = "The item attributes the state machine's UpdateItem may name (dynamodb:Attributes): the table's key and the status attributes RecordFailure writes."
  value       = local.state_machine_item_attributes
}
