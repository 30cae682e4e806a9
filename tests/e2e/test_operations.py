"""Operator commands against the local stack."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import httpx
import pytest

from ops import erase_user
from ops.environment import local_environment
from ops.runbook import pipeline, redrive, reprocess, rerun_failed, sweep_orphans
from tests.devstack.guide_user import guide_sign_in
from tests.e2e.conftest import FAULT_PREFIX, RunningStack, executions_for
from tests.e2e.test_flow import upload, wait_executions_done, wait_final


def test_erase_user_removes_every_file_upload_and_byte_of_that_user_only(
    stack: RunningStack, api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 5 of the review: erasure worked from the items, and 4 versions (1.8 MB)
    stayed under the user's prefix. Now it works on the prefix and says what it removed."""
    keep = upload(api, "keep.txt", b"someone else's")
    with stack.api(guide_sign_in(stack.state, "erase-me@example.com")) as user:
        files = [upload(user, f"mine-{n}.txt", b"mine %d" % n) for n in range(3)]
        for created in files:
            wait_final(user, created["file_id"])
        data = b"never finished"
        pending = user.post(
            "/uploads",
            json={
                "file_name": "pending.bin",
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        ).json()
        sub = files[0]["s3_path"].split("/")[4]
        prefix = f"uploads/{sub}/"
        s3, bucket = stack.client("s3"), stack.state.bucket
        # What no item names: an older version, a stray object, an open multipart upload.
        s3.put_object(Bucket=bucket, Key=files[0]["s3_path"].split("/", 3)[3], Body=b"v2")
        stray = f"{prefix}{uuid.uuid4()}/stray.bin"
        s3.put_object(Bucket=bucket, Key=stray, Body=b"stray bytes")
        s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}{uuid.uuid4()}/open.bin")
        capsys.readouterr()

        with patch.object(erase_user, "environment", lambda _: local_environment(stack.state)):
            assert erase_user.main(["local", sub]) == 0

        printed = capsys.readouterr().out
        for created in files:
            assert f"removed file {created['file_id']}" in printed
            assert user.get(f"/uploads/{created['file_id']}").status_code == 404
        assert f"removed upload {pending['file_id']}" in printed
        assert user.get(f"/uploads/{pending['file_id']}/parts").status_code == 404
    sizes = sum(len(b"mine %d" % n) for n in range(3)) + len(b"v2") + len(b"stray bytes")
    assert (
        f"erased {sub}: 3 file(s), 1 upload record(s), 5 object version(s) ({sizes} bytes), "
        "0 delete marker(s), 1 multipart upload(s) aborted, usage counters removed in local"
    ) in printed
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    assert listing.get("Versions", []) == []
    assert listing.get("DeleteMarkers", []) == []
    assert s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []) == []
    assert api.get(f"/uploads/{keep['file_id']}").status_code == 200


def _stuck_upload(stack: RunningStack, api: httpx.Client, name: str) -> dict[str, Any]:
    """An upload whose first processing hits a configuration error: its item stays UPLOADED."""
    created = upload(api, f"{FAULT_PREFIX}c1-{name}", b"needs a second run")
    (execution,) = wait_executions_done(stack, created["file_id"])
    assert execution["status"] == "FAILED"
    assert api.get(f"/uploads/{created['file_id']}").json()["status"] == "UPLOADED"
    return created


def test_rerun_failed_finishes_what_a_configuration_error_left_uploaded(
    stack: RunningStack, api: httpx.Client
) -> None:
    began = datetime.now(UTC)
    created = _stuck_upload(stack, api, "rerun.txt")
    (execution,) = executions_for(stack, created["file_id"])

    # A minute of slack: the emulator's start dates are coarser than our clock.
    done = rerun_failed(
        local_environment(stack.state), datetime.now(UTC) - began + timedelta(minutes=1)
    )

    assert any(line.startswith(f"reran {execution['name']} ") for line in done)
    assert wait_final(api, created["file_id"])["status"] == "PROCESSED"


def test_reprocess_finds_items_stuck_in_uploaded(stack: RunningStack, api: httpx.Client) -> None:
    created = _stuck_upload(stack, api, "stuck.txt")

    done = reprocess(local_environment(stack.state), timedelta(0))

    assert any(created["file_id"] in line for line in done)
    assert wait_final(api, created["file_id"])["status"] == "PROCESSED"


def test_redrive_starts_a_dead_lettered_batch_again(stack: RunningStack, api: httpx.Client) -> None:
    created = _stuck_upload(stack, api, "dead-lettered.txt")
    env = local_environment(stack.state)
    stream_arn, dlq_arn, _ = pipeline(env)
    streams = stack.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        records += page["Records"]
        iterator = page.get("NextShardIterator")
    (insert,) = [
        r
        for r in records
        if r["eventName"] == "INSERT"
        and r["dynamodb"]["Keys"]["file_id"]["S"] == created["file_id"]
    ]
    sequence = insert["dynamodb"]["SequenceNumber"]
    sqs = stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
    # What the Pipe writes for a batch it gave up on: where it is, not what it holds.
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(
            {
                "DDBStreamBatchInfo": {
                    "shardId": shard["ShardId"],
                    "startSequenceNumber": sequence,
                    "endSequenceNumber": sequence,
                    "batchSize": 1,
                    "streamArn": stream_arn,
                }
            }
        ),
    )

    done = redrive(env)

    assert len(done) == 1
    assert done[0].startswith("redrove 1 record(s)")
    assert wait_final(api, created["file_id"])["status"] == "PROCESSED"
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_sweep_removes_every_prefix_no_file_owns_and_keeps_the_rest(
    stack: RunningStack, api: httpx.Client
) -> None:
    kept = upload(api, "owned.txt", b"a file with an item")
    orphan_prefix = f"uploads/{uuid.uuid4()}/{uuid.uuid4()}/"
    s3, bucket = stack.client("s3"), stack.state.bucket
    first, second = b"left by a killed function", b"and again"
    s3.put_object(Bucket=bucket, Key=f"{orphan_prefix}orphan.txt", Body=first)
    s3.delete_object(Bucket=bucket, Key=f"{orphan_prefix}orphan.txt")
    s3.put_object(Bucket=bucket, Key=f"{orphan_prefix}orphan.txt", Body=second)
    s3.create_multipart_upload(Bucket=bucket, Key=f"{orphan_prefix}parts.bin")

    done = sweep_orphans(local_environment(stack.state), timedelta(0))

    assert (
        f"swept s3://{bucket}/{orphan_prefix}: 2 object version(s) "
        f"({len(first) + len(second)} bytes), "
        "1 delete marker(s), 1 multipart upload(s) aborted"
    ) in done
    assert not any(kept["file_id"] in line for line in done)
    listing = s3.list_object_versions(Bucket=bucket, Prefix=orphan_prefix)
    assert listing.get("Versions", []) == listing.get("DeleteMarkers", []) == []
    assert s3.list_multipart_uploads(Bucket=bucket, Prefix=orphan_prefix).get("Uploads", []) == []
    key = kept["s3_path"].split("/", 3)[3]
    assert s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
