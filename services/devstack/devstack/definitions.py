"""Names and definitions the local stack shares with Terraform (one source: the JSON files)."""

import json
import re
from pathlib import Path
from typing import Any, Final

PROJECT: Final = "secure-upload"
ENVIRONMENT: Final = "local"
REGION: Final = "us-east-1"
# moto's default account; environments/local pins it in allowed_account_ids.
ACCOUNT_ID: Final = "123456789012"
PREFIX: Final = f"{PROJECT}-{ENVIRONMENT}"
PARAMETER_PATH: Final = f"/{PROJECT}/{ENVIRONMENT}/"

TABLE_NAME: Final = f"{PREFIX}-files"
OWNER_INDEX: Final = "owner-created_at-index"
PROCESSOR_FUNCTION: Final = f"{PREFIX}-processor"
STATE_MACHINE: Final = f"{PREFIX}-processing"
PIPE_NAME: Final = f"{PREFIX}-files-stream"
KMS_ALIAS: Final = f"alias/{PREFIX}"
USER_POOL: Final = f"{PREFIX}-users"
APP_CLIENT: Final = f"{PREFIX}-cli"
DEMO_USER: Final = "demo@example.com"
PIPE_DLQ_NAME: Final = f"{PIPE_NAME}-dlq"
# moto accepts any credentials; this dummy keeps real ones out of the local stack.
MOTO_CREDENTIAL: Final = "testing"

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
# Process settings the upload API's image sets with ENV (services/upload_api/Dockerfile);
# the local stack sets the same, and a test keeps the two equal.
UPLOAD_API_IMAGE_ENV: Final = {"MALLOC_MMAP_THRESHOLD_": "131072"}
LOCAL_ROOT: Final = REPO_ROOT / "environments" / "local"
PIPELINE_MODULE: Final = REPO_ROOT / "modules" / "pipeline"
PIPE_FILTER_FILE: Final = PIPELINE_MODULE / "pipe-filter.json"
STATE_MACHINE_FILE: Final = PIPELINE_MODULE / "state-machine.asl.json"
# Exactly the variables Terraform's templatefile() passes to the definition.
TEMPLATE_VARIABLES: Final = frozenset({"processor_function_arn", "table_name"})
_TEMPLATE_REFERENCE = re.compile(r"\$\{([^}]*)\}")

# The Pipe's delivery settings as modules/pipeline deploys them (variables.tf
# defaults, main.tf literals). The local stack creates its Pipe from these and
# the pipe runner reads them back from the Pipe, like the real one;
# tests/e2e/test_same_definitions_as_terraform.py compares them with the module.
PIPE_STARTING_POSITION: Final = "TRIM_HORIZON"
PIPE_BATCH_SIZE: Final = 10
PIPE_MAXIMUM_BATCHING_WINDOW_SECONDS: Final = 0  # not set in Terraform: the API default
PIPE_MAXIMUM_RETRY_ATTEMPTS: Final = 3
PIPE_MAXIMUM_RECORD_AGE_SECONDS: Final = 3600
PIPE_ON_PARTIAL_BATCH_ITEM_FAILURE: Final = "AUTOMATIC_BISECT"
PIPE_INVOCATION_TYPE: Final = "FIRE_AND_FORGET"
PIPE_DLQ_MESSAGE_RETENTION_SECONDS: Final = 1209600
PIPE_DLQ_KMS_DATA_KEY_REUSE_SECONDS: Final = 300


def bucket_name(account_id: str) -> str:
    return f"{PREFIX}-uploads-{account_id}"


def table_definition() -> dict[str, Any]:
    """The metadata table's key schema, GSI and stream, as in the metadata-table module.

    Shaped like DynamoDB's CreateTable arguments (without TableName); a test
    compares it with the Terraform module so the two cannot drift.
    """
    return {
        "AttributeDefinitions": [
            {"AttributeName": "file_id", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "file_id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": OWNER_INDEX,
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def pipe_filter_pattern() -> dict[str, Any]:
    pattern: dict[str, Any] = json.loads(PIPE_FILTER_FILE.read_text(encoding="utf-8"))
    return pattern


def pipe_stream_parameters(dead_letter_queue_arn: str) -> dict[str, Any]:
    """The Pipe's DynamoDBStreamParameters (CreatePipe shape), as modules/pipeline sets them."""
    return {
        "StartingPosition": PIPE_STARTING_POSITION,
        "BatchSize": PIPE_BATCH_SIZE,
        "MaximumBatchingWindowInSeconds": PIPE_MAXIMUM_BATCHING_WINDOW_SECONDS,
        "MaximumRetryAttempts": PIPE_MAXIMUM_RETRY_ATTEMPTS,
        "MaximumRecordAgeInSeconds": PIPE_MAXIMUM_RECORD_AGE_SECONDS,
        "OnPartialBatchItemFailure": PIPE_ON_PARTIAL_BATCH_ITEM_FAILURE,
        "DeadLetterConfig": {"Arn": dead_letter_queue_arn},
    }


def pipe_target_parameters() -> dict[str, Any]:
    """The Pipe's TargetParameters: a STANDARD state machine takes FIRE_AND_FORGET only."""
    return {"StepFunctionStateMachineParameters": {"InvocationType": PIPE_INVOCATION_TYPE}}


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
        {"processor_function_arn": processor_function_arn, "table_name": table_name},
    )
    json.loads(rendered)  # fail here, not inside an execution
    return rendered
