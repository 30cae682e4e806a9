"""erase-user and sweep-orphans (the operator commands) work on prefixes, with the API's purge.

Finding 5 of the review: erasure worked from the items and left four versions
(1.8 MB) under the user's prefix. These run the commands against moto; the
end-to-end tests run them against the local stack.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from ops import erase_user as erase_command
from ops import runbook
from ops.environment import Environment
from ops.erase_user import erase_user
from ops.runbook import sweep_orphans
from tests.support.api import ALICE, BOB, Api
from tests.support.aws import REGION, client
from upload_api.quota import BUCKET_GRACE_SECONDS, BUCKET_SECONDS


@pytest.fixture
def env(api: Api) -> Environment:
    resources = api.resources
    parameters = {
        "upload_bucket_name": resources.bucket,
        "files_table_name": resources.table,
        "pending_uploads_table_name": resources.pending_table,
        "user_usage_table_name": resources.usage_table,
        "kms_key_arn": resources.kms_key_arn,
    }
    return Environment(client, parameters, REGION)


def upload(api: Api, sub: str, data: bytes) -> dict[str, Any]:
    payload = {"file_name": "f.txt", "file_data": base64.b64encode(data).decode()}
    response = api.client.post("/upload", json=payload, headers=api.auth(sub))
    assert response.status_code == 201, response.text
    return dict(response.json())


def start(api: Api, sub: str, size: int) -> dict[str, Any]:
    response = api.client.post(
        "/uploads",
        json={
            "file_name": "p.bin",
            "size_bytes": size,
            "sha256": hashlib.sha256(b"p" * size).hexdigest(),
        },
        headers=api.auth(sub),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def everything_under(api: Api, prefix: str) -> tuple[list[Any], list[Any], list[Any]]:
    s3, bucket = client("s3"), api.resources.bucket
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return listing.get("Versions", []), listing.get("DeleteMarkers", []), uploads


def usage(api: Api, sub: str) -> dict[str, Any]:
    return dict(
        client("dynamodb")
        .get_item(TableName=api.resources.usage_table, Key={"owner": {"S": sub}})
        .get("Item", {})
    )


def test_erasure_leaves_nothing_under_the_users_prefix_and_prints_the_totals(
    api: Api, env: Environment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, bucket, prefix = client("s3"), api.resources.bucket, f"uploads/{ALICE}/"
    files = [upload(api, ALICE, b"alice %d" % n) for n in range(2)]
    pending = start(api, ALICE, 600)
    # The demonstrated leftovers: re-PUT versions no item counts, a marker, an open upload.
    key = files[0]["s3_path"].split("/", 3)[3]
    s3.put_object(Bucket=bucket, Key=key, Body=b"v2")
    s3.delete_object(Bucket=bucket, Key=key)
    s3.put_object(Bucket=bucket, Key=pending["s3_path"].split("/", 3)[3], Body=b"p" * 600)
    s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}{uuid.uuid4()}/open.bin")
    bobs = upload(api, BOB, b"bob's")
    monkeypatch.setattr(erase_command, "environment", lambda _: env)

    assert erase_command.main(["local", ALICE]) == 0

    printed = capsys.readouterr().out
    sizes = len(b"alice 0") + len(b"alice 1") + len(b"v2") + 600
    assert printed.splitlines()[-1] == (
        f"erased {ALICE}: 2 file(s), 1 upload record(s), 4 object version(s) ({sizes} bytes), "
        "1 delete marker(s), 1 multipart upload(s) aborted, usage counters removed in local"
    )
    for created in files:
        assert f"removed file {created['file_id']}" in printed
    assert f"removed upload {pending['file_id']}" in printed
    assert everything_under(api, prefix) == ([], [], [])
    assert usage(api, ALICE) == {}
    assert client("dynamodb").scan(TableName=api.resources.pending_table)["Items"] == []
    assert api.client.get(f"/uploads/{bobs['file_id']}", headers=api.auth(BOB)).status_code == 200
    assert len(everything_under(api, f"uploads/{BOB}/")[0]) == 1


def test_erasure_ignores_where_an_item_says_its_bytes_are(api: Api, env: Environment) -> None:
    """An item of the erased user rewritten to name Bob's key takes none of Bob's bytes."""
    bobs = upload(api, BOB, b"bob's")
    mine = upload(api, ALICE, b"alice's")
    client("dynamodb").update_item(
        TableName=api.resources.table,
        Key={"file_id": {"S": mine["file_id"]}},
        UpdateExpression="SET s3_key = :bob",
        ExpressionAttributeValues={":bob": {"S": bobs["s3_path"].split("/", 3)[3]}},
    )

    erased = erase_user(ALICE, env)

    assert erased.files == [mine["file_id"]]
    assert len(everything_under(api, f"uploads/{BOB}/")[0]) == 1
    assert everything_under(api, f"uploads/{ALICE}/") == ([], [], [])


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_the_sweep_purges_prefixes_nobody_owns_and_gives_expired_reservations_back(
    api: Api, env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, bucket = client("s3"), api.resources.bucket
    kept = upload(api, ALICE, b"a file")
    abandoned = start(api, ALICE, 700)
    s3.put_object(Bucket=bucket, Key=abandoned["s3_path"].split("/", 3)[3], Body=b"p" * 700)
    orphan = f"uploads/{BOB}/{uuid.uuid4()}/"
    s3.put_object(Bucket=bucket, Key=f"{orphan}left.bin", Body=b"left behind")
    s3.delete_object(Bucket=bucket, Key=f"{orphan}left.bin")
    s3.create_multipart_upload(Bucket=bucket, Key=f"{orphan}open.bin")
    assert int(usage(api, ALICE)["bytes"]["N"]) == len(b"a file") + 700
    # A day and an hour on: the abandoned upload's record and its hour bucket expired.
    later = time.time() + 86_400 + BUCKET_SECONDS + BUCKET_GRACE_SECONDS
    monkeypatch.setattr(runbook, "time", Clock(later))

    done = sweep_orphans(env, timedelta(0))

    assert f"expired upload {abandoned['file_id']}: 1 object version(s) (700 bytes)," in " ".join(
        done
    )
    assert f"gave back the expired reservations of {ALICE}" in done
    assert any(
        line.startswith(f"swept s3://{bucket}/{orphan}: 1 object version(s)") for line in done
    )
    assert not any(kept["file_id"] in line for line in done)
    assert everything_under(api, orphan) == ([], [], [])
    assert everything_under(api, f"uploads/{ALICE}/{abandoned['file_id']}/") == ([], [], [])
    assert len(everything_under(api, kept["s3_path"].split("/", 3)[3])[0]) == 1
    assert (int(usage(api, ALICE)["bytes"]["N"]), int(usage(api, ALICE)["files"]["N"])) == (
        len(b"a file"),
        1,
    )


def test_the_sweep_keeps_a_live_upload_and_a_recent_orphan(api: Api, env: Environment) -> None:
    s3, bucket = client("s3"), api.resources.bucket
    live = start(api, ALICE, 10)
    s3.put_object(Bucket=bucket, Key=live["s3_path"].split("/", 3)[3], Body=b"p" * 10)
    recent = f"uploads/{BOB}/{uuid.uuid4()}/"
    s3.put_object(Bucket=bucket, Key=f"{recent}new.bin", Body=b"in flight")

    done = sweep_orphans(env, timedelta(hours=1))

    assert done == []
    assert len(everything_under(api, recent)[0]) == 1
    assert len(everything_under(api, f"uploads/{ALICE}/{live['file_id']}/")[0]) == 1
