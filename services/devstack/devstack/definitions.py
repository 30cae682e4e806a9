"""Names and definitions the local stack shares with Terraform (one source: the JSON files)."""

import json
import re
from pathlib import Path
from typing import Any, Final

PROJECT: Final = "secure-upload"
ENVIRONMENT: Final = "local"
REGION: Final = "us-east-1"
PREFIX: Final = f"{PROJECT}-{ENVIRONMENT}"

TABLE_NAME: Final = f"{PREFIX}-files"
OWNER_INDEX: Final = "owner-created_at-index"
PROCESSOR_FUNCTION: Final = f"{PREFIX}-processor"
STATE_MACHINE: Final = f"{PREFIX}-processing"
PIPE_NAME: Final = f"{PREFIX}-files-stream"
KMS_ALIAS: Final = f"alias/{PREFIX}"
USER_POOL: Final = f"{PREFIX}-users"
APP_CLIENT: Final = f"{PREFIX}-cli"
DEMO_USER: Final = "demo@example.com"
# moto accepts any credentials; this dummy keeps real ones out of the local stack.
MOTO_CREDENTIAL: Final = "testing"

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
PIPELINE_MODULE: Final = REPO_ROOT / "modules" / "pipeline"
PIPE_FILTER_FILE: Final = PIPELINE_MODULE / "pipe-filter.json"
STATE_MACHINE_FILE: Final = PIPELINE_MODULE / "state-machine.asl.json"
# Exactly the variables Terraform's templatefile() passes to the definition.
TEMPLATE_VARIABLES: Final = frozenset({"processor_function_arn", "table_name"})
_TEMPLATE_REFERENCE = re.compile(r"\$\{([^}]*)\}")


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
