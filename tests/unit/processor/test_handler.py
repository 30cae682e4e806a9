"""The Lambda handler: parses one Pipe record with the Powertools models and delegates."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import ValidationError

from processor import handler as handler_module
from tests.support.aws import UploadResources, client, create_upload_resources, tag_scanned
from upload_contract import ScanVerdict, object_key


@pytest.fixture
def resources(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[UploadResources]:
    created = create_upload_resources()
    monkeypatch.setenv("FILES_TABLE", created.table)
    monkeypatch.setenv("UPLOAD_BUCKET", created.bucket)
    handler_module._processor.cache_clear()
    yield created
    handler_module._processor.cache_clear()


def stream_record(
    resources: UploadResources,
    data: bytes,
    event_name: str = "INSERT",
    verdict: str = ScanVerdict.CLEAN,
) -> dict[str, Any]:
    """A record as the Pipe hands it over: DynamoDB JSON, epoch creation time."""
    file_id = str(uuid.uuid4())
    key = object_key("user-1", file_id, "note.txt")
    client("s3").put_object(Bucket=resources.bucket, Key=key, Body=data, ContentType="text/plain")
    tag_scanned(resources.bucket, key, verdict)
    image = {
        "file_id": {"S": file_id},
        "owner": {"S": "user-1"},
        "bucket": {"S": resources.bucket},
        "s3_key": {"S": key},
        "file_name": {"S": "note.txt"},
        "size_bytes": {"N": str(len(data))},
        "sha256": {"S": hashlib.sha256(data).hexdigest()},
        "content_type": {"S": "text/plain"},
        "comment": {"S": ""},
        "status": {"S": "UPLOADED"},
        "created_at": {"S": "2026-11-26T19:00:00.000000Z"},
        "updated_at": {"S": "2026-11-26T19:00:00.000000Z"},
    }
    client("dynamodb").put_item(TableName=resources.table, Item=image)
    return {
        "eventID": "1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795000000.0,
            "Keys": {"file_id": {"S": file_id}},
            "NewImage": image,
            "SequenceNumber": "1100000000017454423009",
            "SizeBytes": 300,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def test_an_insert_is_processed(resources: UploadResources, lambda_context: Any) -> None:
    record = stream_record(resources, b"hello")

    result = handler_module.handler(record, lambda_context)

    file_id = record["dynamodb"]["Keys"]["file_id"]["S"]
    assert result["file_id"] == file_id
    assert result["status"] == "PROCESSED"
    assert result["duplicate"] is False
    stored = client("dynamodb").get_item(
        TableName=resources.table, Key={"file_id": {"S": file_id}}
    )["Item"]
    assert stored["status"]["S"] == "PROCESSED"


@pytest.mark.parametrize(
    ("verdict", "status", "metric"),
    [
        (ScanVerdict.CLEAN, "PROCESSED", "FilesProcessed"),
        (ScanVerdict.THREATS_FOUND, "QUARANTINED", "FilesQuarantined"),
        ("UNSUPPORTED", "FAILED", "FilesFailed"),
    ],
)
def test_each_outcome_is_counted(
    resources: UploadResources,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    *,
    verdict: str,
    status: str,
    metric: str,
) -> None:
    record = stream_record(resources, b"hello", verdict=verdict)

    assert handler_module.handler(record, lambda_context)["status"] == status

    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    (metrics,) = [m for m in emitted if "CloudWatchMetrics" in m["_aws"]]
    assert metrics[metric] == [1.0]


def test_a_record_pointing_at_another_users_object_is_failed_and_counted(
    resources: UploadResources,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    victim = stream_record(resources, b"the victim's bytes")
    record = stream_record(resources, b"hello")
    image = record["dynamodb"]["NewImage"]
    image["s3_key"] = victim["dynamodb"]["NewImage"]["s3_key"]
    client("dynamodb").put_item(TableName=resources.table, Item=image)

    result = handler_module.handler(record, lambda_context)

    assert result["status"] == "FAILED"
    assert result["failure_reason"].startswith("stored location refused")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (metrics,) = [m for m in emitted if "CloudWatchMetrics" in m.get("_aws", {})]
    assert metrics["StoredLocationsRefused"] == [1.0]
    (refusal,) = [r for r in caplog.records if r.getMessage().startswith("Refusing a file")]
    assert refusal.levelname == "ERROR"
    assert refusal.__dict__["stored_s3_key"] == image["s3_key"]["S"]


def test_the_bucket_comes_from_the_environment(
    resources: UploadResources, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stream_record(resources, b"hello")
    monkeypatch.setenv("UPLOAD_BUCKET", "another-bucket")
    handler_module._processor.cache_clear()

    result = handler_module.handler(record, lambda_context)

    # The item names the real bucket, which is not the configured one: refused.
    assert result["status"] == "FAILED"
    assert result["failure_reason"].startswith("stored location refused")


def test_a_redelivery_is_reported_as_duplicate(
    resources: UploadResources, lambda_context: Any
) -> None:
    record = stream_record(resources, b"hello")
    first = handler_module.handler(record, lambda_context)

    second = handler_module.handler(record, lambda_context)

    assert second["duplicate"] is True
    assert second["processed_at"] == first["processed_at"]


@pytest.mark.parametrize("event_name", ["MODIFY", "REMOVE"])
def test_other_events_are_ignored(
    resources: UploadResources, lambda_context: Any, event_name: str
) -> None:
    record = stream_record(resources, b"hello", event_name)

    assert handler_module.handler(record, lambda_context)["status"] == "IGNORED"


def test_a_malformed_record_is_rejected(resources: UploadResources, lambda_context: Any) -> None:
    record = stream_record(resources, b"hello")
    del record["dynamodb"]["NewImage"]["sha256"]

    # No metric is emitted for a record that never parses; Powertools warns about that.
    with pytest.raises(ValidationError), pytest.warns(UserWarning, match="No application metrics"):
        handler_module.handler(record, lambda_context)
