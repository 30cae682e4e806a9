"""The local stack runs what Terraform deploys: the same filter and ASL files, the same table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2

from devstack import definitions
from tests.e2e.conftest import RunningStack
from tests.infra import terraform_facts

MODULES = definitions.REPO_ROOT / "modules"


def _load_hcl(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = hcl2.load(handle)
    return loaded


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _resource(module: str, resource_type: str) -> dict[str, Any]:
    parsed = _load_hcl(MODULES / module / "main.tf")
    for block in parsed.get("resource", []):
        for rtype, named in block.items():
            if _unquote(rtype) == resource_type:
                (body,) = named.values()
                return dict(body)
    raise AssertionError(f"no {resource_type} in modules/{module}/main.tf")


def _locals(module: str) -> dict[str, Any]:
    parsed = _load_hcl(MODULES / module / "main.tf")
    merged: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        merged.update({k: _unquote(v) for k, v in block.items() if not k.startswith("__")})
    return merged


def terraform_table_definition() -> dict[str, Any]:
    """The metadata-table module's aws_dynamodb_table, shaped like CreateTable arguments."""
    table = _resource("metadata-table", "aws_dynamodb_table")
    local_values = _locals("metadata-table")

    def value(raw: Any) -> Any:
        raw = _unquote(raw)
        match = re.fullmatch(r"\$\{local\.(\w+)\}", str(raw))
        return local_values[match.group(1)] if match else raw

    def keys(block: dict[str, Any]) -> list[dict[str, str]]:
        schema = [{"AttributeName": value(block["hash_key"]), "KeyType": "HASH"}]
        if "range_key" in block:
            schema.append({"AttributeName": value(block["range_key"]), "KeyType": "RANGE"})
        return schema

    return {
        "AttributeDefinitions": [
            {"AttributeName": value(a["name"]), "AttributeType": value(a["type"])}
            for a in table["attribute"]
        ],
        "KeySchema": keys(table),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": value(g["name"]),
                "KeySchema": keys(g),
                "Projection": {"ProjectionType": value(g["projection_type"])},
            }
            for g in table.get("global_secondary_index", [])
        ],
        "BillingMode": value(table["billing_mode"]),
        "StreamSpecification": {
            "StreamEnabled": table["stream_enabled"] is True,
            "StreamViewType": value(table["stream_view_type"]),
        },
    }


def _canonical(definition: dict[str, Any]) -> dict[str, Any]:
    out = dict(definition)
    out["AttributeDefinitions"] = sorted(
        out["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    out["GlobalSecondaryIndexes"] = sorted(
        out["GlobalSecondaryIndexes"], key=lambda g: g["IndexName"]
    )
    return out


def test_devstack_table_definition_equals_the_terraform_table() -> None:
    assert _canonical(definitions.table_definition()) == _canonical(terraform_table_definition())


def as_facts(definition: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments in the shape of tests.infra.terraform_facts.table_definition()."""

    def key(schema: list[dict[str, str]], kind: str) -> str | None:
        return next((k["AttributeName"] for k in schema if k["KeyType"] == kind), None)

    return {
        "hash_key": key(definition["KeySchema"], "HASH"),
        "attributes": {
            a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]
        },
        "gsis": [
            {
                "name": g["IndexName"],
                "hash_key": key(g["KeySchema"], "HASH"),
                "range_key": key(g["KeySchema"], "RANGE"),
                "projection": g["Projection"]["ProjectionType"],
            }
            for g in definition["GlobalSecondaryIndexes"]
        ],
        "stream_view_type": definition["StreamSpecification"]["StreamViewType"],
    }


def test_devstack_table_definition_equals_the_shared_terraform_facts() -> None:
    assert as_facts(definitions.table_definition()) == terraform_facts.table_definition()


def test_terraform_loads_the_same_pipeline_files() -> None:
    machine = _resource("pipeline", "aws_sfn_state_machine")
    assert 'templatefile("${path.module}/state-machine.asl.json"' in machine["definition"]
    assert re.findall(r"\b(\w+) = var\.\w+", machine["definition"]) == [
        "processor_function_arn",
        "table_name",
    ]
    pipe = _resource("pipeline", "aws_pipes_pipe")
    (criteria,) = pipe["source_parameters"][0]["filter_criteria"]
    (pipe_filter,) = criteria["filter"]
    assert pipe_filter["pattern"] == '${file("${path.module}/pipe-filter.json")}'


def _variable_defaults(module: str) -> dict[str, Any]:
    parsed = _load_hcl(MODULES / module / "variables.tf")
    return {
        _unquote(name): _unquote(body["default"])
        for block in parsed.get("variable", [])
        for name, body in block.items()
        if "default" in body
    }


def _pipeline_variables() -> dict[str, Any]:
    """The pipeline module's variables as deployed: its defaults, then what the
    composition module passes from its own variables' defaults."""
    values = _variable_defaults("pipeline")
    platform_defaults = _variable_defaults("platform")
    parsed = _load_hcl(MODULES / "platform" / "main.tf")
    for block in parsed.get("module", []):
        for name, body in block.items():
            if _unquote(name) != "pipeline":
                continue
            for argument, raw in body.items():
                match = re.fullmatch(r"\$\{var\.(\w+)\}", str(raw))
                if match and match.group(1) in platform_defaults:
                    values[argument] = platform_defaults[match.group(1)]
    return values


def _pipeline_value(raw: Any, variables: dict[str, Any]) -> Any:
    raw = _unquote(raw)
    match = re.fullmatch(r"\$\{var\.(\w+)\}", str(raw))
    return variables[match.group(1)] if match else raw


def terraform_pipe_parameters(dead_letter_queue_arn: str) -> dict[str, Any]:
    """The module's aws_pipes_pipe, shaped like CreatePipe's DynamoDBStreamParameters and
    TargetParameters (the DLQ ARN is a placeholder: the module's own queue)."""
    variables = _pipeline_variables()
    pipe = _resource("pipeline", "aws_pipes_pipe")
    (source,) = pipe["source_parameters"]
    (stream,) = source["dynamodb_stream_parameters"]
    (dead_letter,) = stream["dead_letter_config"]
    assert dead_letter["arn"] == "${aws_sqs_queue.dlq.arn}"
    (target,) = pipe["target_parameters"]
    (machine,) = target["step_function_state_machine_parameters"]

    def value(name: str, default: Any = None) -> Any:
        return _pipeline_value(stream[name], variables) if name in stream else default

    return {
        "DynamoDBStreamParameters": {
            "StartingPosition": value("starting_position"),
            "BatchSize": value("batch_size"),
            # Not set in the module: the API default, no batching window.
            "MaximumBatchingWindowInSeconds": value("maximum_batching_window_in_seconds", 0),
            "MaximumRetryAttempts": value("maximum_retry_attempts"),
            "MaximumRecordAgeInSeconds": value("maximum_record_age_in_seconds"),
            "OnPartialBatchItemFailure": value("on_partial_batch_item_failure"),
            "DeadLetterConfig": {"Arn": dead_letter_queue_arn},
        },
        "TargetParameters": {
            "StepFunctionStateMachineParameters": {
                "InvocationType": _unquote(machine["invocation_type"])
            }
        },
    }


def test_devstack_pipe_settings_equal_the_terraform_pipe() -> None:
    terraform = terraform_pipe_parameters("arn:dlq")
    assert definitions.pipe_stream_parameters("arn:dlq") == terraform["DynamoDBStreamParameters"]
    assert definitions.pipe_target_parameters() == terraform["TargetParameters"]
    # Spelled out too, so a change on both sides is a visible decision.
    assert terraform["DynamoDBStreamParameters"] | {"DeadLetterConfig": None} == {
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRetryAttempts": 3,
        "MaximumRecordAgeInSeconds": 3600,
        "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
        "DeadLetterConfig": None,
    }
    assert terraform["TargetParameters"]["StepFunctionStateMachineParameters"] == {
        "InvocationType": "FIRE_AND_FORGET"
    }


def test_devstack_dead_letter_queue_equals_the_terraform_queue() -> None:
    queue = _resource("pipeline", "aws_sqs_queue")
    variables = _pipeline_variables()
    assert _unquote(queue["name"]) == "${local.pipe_name}-dlq"
    assert _locals("pipeline")["pipe_name"] == "${var.name_prefix}-files-stream"
    assert definitions.PIPE_DLQ_NAME == f"{definitions.PIPE_NAME}-dlq"  # noqa: SIM300
    assert (
        _pipeline_value(queue["message_retention_seconds"], variables)
        == definitions.PIPE_DLQ_MESSAGE_RETENTION_SECONDS
    )
    assert queue["kms_master_key_id"] == "${var.kms_key_arn}"
    assert (
        queue["kms_data_key_reuse_period_seconds"]
        == definitions.PIPE_DLQ_KMS_DATA_KEY_REUSE_SECONDS
    )


def test_running_stack_pipe_has_the_terraform_settings_and_dlq(stack: RunningStack) -> None:
    sqs = stack.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.state.dead_letter_queue_url, AttributeNames=["All"]
    )["Attributes"]
    assert attributes["QueueArn"].endswith(f":{definitions.PIPE_DLQ_NAME}")
    assert attributes["KmsMasterKeyId"] == stack.state.kms_key_arn
    assert int(attributes["MessageRetentionPeriod"]) == (
        definitions.PIPE_DLQ_MESSAGE_RETENTION_SECONDS
    )
    pipe = stack.client("pipes").describe_pipe(Name=stack.state.pipe_name)
    expected = terraform_pipe_parameters(attributes["QueueArn"])
    assert (
        pipe["SourceParameters"]["DynamoDBStreamParameters"]
        == (expected["DynamoDBStreamParameters"])
    )
    assert pipe["TargetParameters"] == expected["TargetParameters"]


def test_running_stack_uses_the_pipeline_files(stack: RunningStack) -> None:
    sfn = stack.client("stepfunctions")
    deployed = sfn.describe_state_machine(stateMachineArn=stack.state.state_machine_arn)
    expected = definitions.state_machine_definition(
        stack.state.processor_function_arn, stack.state.table
    )
    assert json.loads(deployed["definition"]) == json.loads(expected)
    assert stack.state.processor_function_arn in deployed["definition"]

    pipe = stack.client("pipes").describe_pipe(Name=stack.state.pipe_name)
    (pipe_filter,) = pipe["SourceParameters"]["FilterCriteria"]["Filters"]
    assert json.loads(pipe_filter["Pattern"]) == json.loads(
        definitions.PIPE_FILTER_FILE.read_text(encoding="utf-8")
    )
    assert pipe["Target"] == stack.state.state_machine_arn
    assert pipe["Source"] == stack.state.stream_arn


def test_running_stack_table_agrees_with_terraform(stack: RunningStack) -> None:
    described = stack.client("dynamodb").describe_table(TableName=stack.state.table)["Table"]
    expected = terraform_table_definition()
    assert described["KeySchema"] == expected["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    (index,) = described["GlobalSecondaryIndexes"]
    (expected_index,) = expected["GlobalSecondaryIndexes"]
    assert index["IndexName"] == expected_index["IndexName"]
    assert index["KeySchema"] == expected_index["KeySchema"]
    assert index["Projection"] == expected_index["Projection"]
    assert described["StreamSpecification"] == expected["StreamSpecification"]
    assert described["BillingModeSummary"]["BillingMode"] == expected["BillingMode"]
    assert described["SSEDescription"]["SSEType"] == "KMS"
    assert described["SSEDescription"]["KMSMasterKeyArn"] == stack.state.kms_key_arn


def test_asl_template_uses_exactly_the_terraform_variables() -> None:
    text = definitions.STATE_MACHINE_FILE.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == definitions.TEMPLATE_VARIABLES
    assert text.count("${") == text.count("${processor_function_arn}") + text.count("${table_name}")
    assert "%{" not in text
