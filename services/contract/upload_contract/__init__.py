"""The data contract both services share with Terraform: one JSON file, read at start-up.

contract.json holds the table's keys and index, the item's attribute names,
the status values, the timestamp format, the SSM parameter names and the
shape of the record the processor receives. Terraform reads the same file
with jsondecode(file()); tests/infra/test_data_contract.py proves no other
literal copy exists.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from importlib.resources import files
from typing import Any, Final

CONTRACT: Final[dict[str, Any]] = json.loads(
    files(__name__).joinpath("contract.json").read_text(encoding="utf-8")
)
VERSION: Final[int] = CONTRACT["version"]

HASH_KEY: Final[str] = CONTRACT["table"]["hash_key"]
OWNER_INDEX: Final[str] = CONTRACT["table"]["owner_index"]["name"]
OWNER_KEY: Final[str] = CONTRACT["table"]["owner_index"]["hash_key"]
CREATED_KEY: Final[str] = CONTRACT["table"]["owner_index"]["range_key"]
ITEM_ATTRIBUTES: Final[tuple[str, ...]] = tuple(CONTRACT["item_attributes"])
TIMESTAMP_FORMAT: Final[str] = CONTRACT["timestamp_format"]
SSM_PARAMETERS: Final[dict[str, str]] = dict(CONTRACT["ssm_parameters"])


class Status(StrEnum):
    """Where a file is in the pipeline (a test keeps the members equal to the contract's)."""

    UPLOADED = CONTRACT["status"]["uploaded"]
    PROCESSED = CONTRACT["status"]["processed"]
    FAILED = CONTRACT["status"]["failed"]


def timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with microseconds: sorts lexically in time order."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(TIMESTAMP_FORMAT)
