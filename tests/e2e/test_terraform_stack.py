"""The local stack runs on what Terraform created: SSM parameters, resources and the Pipe."""

from __future__ import annotations

import json
from typing import Any

from tests.devstack import definitions as d
from tests.e2e.conftest import RunningStack
from upload_contract import SSM_PARAMETERS


def terraform_resources(stack: RunningStack) -> dict[str, dict[str, Any]]:
    """address -> attributes of every managed resource in the apply's state file."""
    state = json.loads(stack.child.terraform_state_file.read_text(encoding="utf-8"))
    found = {}
    for resource in state["resources"]:
        if resource["mode"] != "managed":
            continue
        for instance in resource["instances"]:
            key = instance.get("index_key")
            suffix = f"[{json.dumps(key)}]" if key is not None else ""
            address = f"{resource.get('module', '')}.{resource['type']}.{resource['name']}{suffix}"
            found[address] = instance["attributes"]
    return found


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [attrs for address, attrs in resources.items() if f".{kind}." in address]


def test_terraform_wrote_every_contract_parameter(stack: RunningStack) -> None:
    names = {f"{d.PARAMETER_PATH}{name}" for name in SSM_PARAMETERS.values()}
    pages = stack.client("ssm").get_paginator("get_parameters_by_path")
    in_ssm = {
        p["Name"] for page in pages.paginate(Path=d.PARAMETER_PATH) for p in page["Parameters"]
    }
    assert in_ssm == names
    published = {p["name"] for p in of_type(terraform_resources(stack), "aws_ssm_parameter")}
    assert published == names


def test_the_stack_uses_the_resources_in_the_terraform_state(stack: RunningStack) -> None:
    resources = terraform_resources(stack)
    assert stack.state.bucket in {b["bucket"] for b in of_type(resources, "aws_s3_bucket")}
    tables = {t["name"]: t for t in of_type(resources, "aws_dynamodb_table")}
    assert set(tables) == {stack.state.table, stack.state.pending_table, stack.state.usage_table}
    assert tables[stack.state.table]["stream_arn"] == stack.state.stream_arn
    # Pending uploads and usage counters never reach a stream: they must not start the pipeline.
    assert not tables[stack.state.pending_table]["stream_enabled"]
    assert not tables[stack.state.usage_table]["stream_enabled"]
    (rule,) = of_type(resources, "aws_cloudwatch_event_rule")
    (target,) = of_type(resources, "aws_cloudwatch_event_target")
    assert (target["rule"], target["arn"]) == (rule["name"], stack.state.upload_api_function_arn)
    # The environment's key (the web app's assets have their own).
    key = resources["module.platform.module.kms.aws_kms_key.this"]
    assert key["arn"] == stack.state.kms_key_arn
    (pool,) = of_type(resources, "aws_cognito_user_pool")
    assert pool["id"] == stack.state.user_pool_id
    (machine,) = of_type(resources, "aws_sfn_state_machine")
    assert machine["arn"] == stack.state.state_machine_arn
    (pipe,) = of_type(resources, "aws_pipes_pipe")
    assert pipe["name"] == stack.state.pipe_name
    roles = {r["arn"] for r in of_type(resources, "aws_iam_role")}
    function = stack.client("lambda").get_function(FunctionName=stack.state.processor_function_arn)
    assert function["Configuration"]["Role"] in roles


def test_the_pipe_runner_delivers_with_the_terraform_pipe_settings(stack: RunningStack) -> None:
    (pipe,) = of_type(terraform_resources(stack), "aws_pipes_pipe")
    described = stack.client("pipes").describe_pipe(Name=stack.state.pipe_name)
    stream = described["SourceParameters"]["DynamoDBStreamParameters"]
    planned = pipe["source_parameters"][0]["dynamodb_stream_parameters"][0]
    assert stream["BatchSize"] == planned["batch_size"]
    assert stream["MaximumRetryAttempts"] == planned["maximum_retry_attempts"]
    assert stream["MaximumRecordAgeInSeconds"] == planned["maximum_record_age_in_seconds"]
    assert stream["DeadLetterConfig"]["Arn"] == planned["dead_letter_config"][0]["arn"]
    dlq_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.state.dead_letter_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert dlq_arn == planned["dead_letter_config"][0]["arn"]
    assert described["Target"] == stack.state.state_machine_arn
