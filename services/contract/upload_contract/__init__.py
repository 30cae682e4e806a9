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
from typing import Any, Final, NotRequired, TypedDict

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
PENDING_HASH_KEY: Final[str] = CONTRACT["pending_table"]["hash_key"]
PENDING_TTL_ATTRIBUTE: Final[str] = CONTRACT["pending_table"]["ttl_attribute"]
USAGE_HASH_KEY: Final[str] = CONTRACT["usage_table"]["hash_key"]


class Status(StrEnum):
    """Where a file is in the pipeline (a test keeps the members equal to the contract's)."""

    # A direct upload whose bytes have not arrived: a record in the pending table,
    # never a file item, so it never starts the pipeline.
    PENDING_UPLOAD = CONTRACT["status"]["pending_upload"]
    UPLOADED = CONTRACT["status"]["uploaded"]
    PROCESSED = CONTRACT["status"]["processed"]
    FAILED = CONTRACT["status"]["failed"]
    # Being deleted: the pipeline's conditional writes no longer apply to it.
    DELETING = CONTRACT["status"]["deleting"]
    # The malware scan found a threat: never downloadable (the bucket policy denies reads).
    QUARANTINED = CONTRACT["status"]["quarantined"]


class ScanVerdict:
    """The tag GuardDuty Malware Protection for S3 puts on each object it scans."""

    TAG_KEY: Final[str] = CONTRACT["malware_scan"]["tag_key"]
    CLEAN: Final[str] = CONTRACT["malware_scan"]["clean"]
    THREATS_FOUND: Final[str] = CONTRACT["malware_scan"]["threats_found"]


UPLOAD_PREFIX: Final[str] = "uploads/"


def user_prefix(owner: str) -> str:
    """Every object of one user lives under this prefix (erasure and sweeps work on it)."""
    _check_segment(owner, "owner")
    return f"{UPLOAD_PREFIX}{owner}/"


def object_key(owner: str, file_id: str, safe_name: str) -> str:
    """The one place an object's key comes from: the caller's sub, the file id and the name.

    Nothing reads, signs or deletes bytes at a key it was handed: the services derive
    the key with this function and refuse an item whose stored key differs.
    """
    _check_segment(file_id, "file_id")
    _check_segment(safe_name, "file name")
    return f"{user_prefix(owner)}{file_id}/{safe_name}"


def _check_segment(value: str, what: str) -> None:
    # One path segment each, so no value can climb into another user's prefix.
    if not value or "/" in value or value in {".", ".."}:
        raise ValueError(f"{what} is not a single key segment")


def timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with microseconds: sorts lexically in time order."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(TIMESTAMP_FORMAT)


class FileItem(TypedDict):
    """The metadata item, as the upload API writes it and the processor reads and completes it.

    A test keeps its keys equal to the contract's item_attributes.
    """

    file_id: str
    owner: str
    bucket: str
    s3_key: str
    file_name: str
    size_bytes: int
    sha256: str
    content_type: str
    comment: str
    status: str
    created_at: str
    updated_at: str
    # Set by the processor (or the state machine's failure branch).
    processed_at: NotRequired[str]
    detected_content_type: NotRequired[str]
    failure_reason: NotRequired[str]
    # The object version the malware scan cleared: downloads and the processor pin it.
    scanned_version_id: NotRequired[str]


def to_pipe_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB stream record as the Pipe delivers it: plus eventSourceARN, epoch seconds."""
    out = dict(record)
    out.setdefault("eventSourceARN", stream_arn)
    dynamodb = dict(out.get("dynamodb", {}))
    # The streams API returns datetimes; the Pipe sends epoch seconds.
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = float(created.timestamp())
    out["dynamodb"] = dynamodb
    return out
