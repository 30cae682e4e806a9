"""The pipeline's definition files as tests load them: the same files Terraform loads.

state_machine_definition() renders modules/pipeline/state-machine.asl.json the
way the pipeline module's templatefile() does, with the data contract's values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from upload_contract import CONTRACT

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINE_MODULE = REPO_ROOT / "modules" / "pipeline"
PIPE_FILTER_FILE = PIPELINE_MODULE / "pipe-filter.json"
STATE_MACHINE_FILE = PIPELINE_MODULE / "state-machine.asl.json"
_TEMPLATE_REFERENCE = re.compile(r"\$\{([^}]*)\}")

# A Pipe shaped like modules/pipeline's (its defaults), for the pipe runner's unit tests.
PIPE_BATCH_SIZE = 10
PIPE_STARTING_POSITION = "TRIM_HORIZON"
PIPE_MAXIMUM_RETRY_ATTEMPTS = 3
PIPE_MAXIMUM_RECORD_AGE_SECONDS = 3600


# environments/local's malware_scan_wait, as the template's variables.
SCAN_WAIT = {
    "scan_wait_interval_seconds": "1",
    "scan_wait_backoff_rate": "1",
    "scan_wait_max_attempts": "5",
    "scan_wait_max_delay_seconds": "1",
    "map_concurrency": "5",
}

# The bus the pipeline module creates, as named in the tests.
FILE_EVENTS_BUS = "secure-upload-test-file-events"


def template_variables(processor_function_arn: str, table_name: str) -> dict[str, str]:
    """Exactly what modules/pipeline/main.tf passes to templatefile()."""
    return {
        "processor_function_arn": processor_function_arn,
        "table_name": table_name,
        "hash_key": CONTRACT["table"]["hash_key"],
        "key_path": CONTRACT["processor_record"]["key_path"],
        "status_uploaded": CONTRACT["status"]["uploaded"],
        "status_processed": CONTRACT["status"]["processed"],
        "status_failed": CONTRACT["status"]["failed"],
        "status_quarantined": CONTRACT["status"]["quarantined"],
        "image_path": CONTRACT["processor_record"]["image_path"],
        "event_bus_name": FILE_EVENTS_BUS,
        "event_source": CONTRACT["outcome_event"]["source"],
        "event_detail_type": CONTRACT["outcome_event"]["detail_type"],
        # environments/local's malware_scan_wait: short, the stand-in scanner is quick.
        **SCAN_WAIT,
    }


def render_template(text: str, variables: dict[str, str]) -> str:
    """Substitute `${name}` like Terraform's templatefile(); unknown names are an error."""
    missing = {m.group(1) for m in _TEMPLATE_REFERENCE.finditer(text)} - variables.keys()
    if missing:
        raise KeyError(f"template references undefined variables: {sorted(missing)}")
    if "%{" in text:
        raise ValueError("template directives (%{...}) are not supported here")
    return _TEMPLATE_REFERENCE.sub(lambda m: variables[m.group(1)], text)


def state_machine_definition(processor_function_arn: str, table_name: str) -> str:
    rendered = render_template(
        STATE_MACHINE_FILE.read_text(encoding="utf-8"),
        template_variables(processor_function_arn, table_name),
    )
    json.loads(rendered)  # fail here, not inside an execution
    return rendered


def pipe_filter_pattern() -> dict[str, Any]:
    pattern: dict[str, Any] = json.loads(PIPE_FILTER_FILE.read_text(encoding="utf-8"))
    return pattern


def pipe_stream_parameters(dead_letter_queue_arn: str) -> dict[str, Any]:
    """DynamoDBStreamParameters (CreatePipe shape) with the pipeline module's defaults."""
    return {
        "StartingPosition": PIPE_STARTING_POSITION,
        "BatchSize": PIPE_BATCH_SIZE,
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRetryAttempts": PIPE_MAXIMUM_RETRY_ATTEMPTS,
        "MaximumRecordAgeInSeconds": PIPE_MAXIMUM_RECORD_AGE_SECONDS,
        "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
        "DeadLetterConfig": {"Arn": dead_letter_queue_arn},
    }


def pipe_target_parameters() -> dict[str, Any]:
    """A STANDARD state machine target takes FIRE_AND_FORGET only."""
    return {"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}}


def table_definition() -> dict[str, Any]:
    """CreateTable arguments (without TableName) for the contract's keys, index and stream."""
    table = CONTRACT["table"]
    index = table["owner_index"]
    keys = [table["hash_key"], index["hash_key"], index["range_key"]]
    return {
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
        "KeySchema": [{"AttributeName": table["hash_key"], "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": index["hash_key"], "KeyType": "HASH"},
                    {"AttributeName": index["range_key"], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": table["stream_view_type"]},
    }
