"""Finding 2 of the review: an item's stored key and bucket are never authority.

Whoever can write the files table (or the pending-uploads table) can rewrite an
item. The API derives every key from the caller's sub, the file id and the
stored name, uses its configured bucket, and refuses an item that names anything
else as not found: no URL, nothing deleted, a warning naming the file id only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import urllib.parse
from typing import Any

import pytest

from tests.support.api import ALICE, BOB, Api
from tests.support.aws import client
from upload_api.core.logging import logger

OTHER_BUCKET = "someone-elses-bucket"


def upload(api: Api, name: str, data: bytes, sub: str) -> dict[str, Any]:
    payload = {"file_name": name, "file_data": base64.b64encode(data).decode()}
    response = api.client.post("/upload", json=payload, headers=api.auth(sub))
    assert response.status_code == 201, response.text
    return dict(response.json())


def key_of(created: dict[str, Any]) -> str:
    return str(created["s3_path"].split("/", 3)[3])


def rewrite(api: Api, file_id: str, **values: str) -> None:
    """What a principal with write access to the files table can do to an item."""
    names = {f"#n{i}": name for i, name in enumerate(values)}
    client("dynamodb").update_item(
        TableName=api.resources.table,
        Key={"file_id": {"S": file_id}},
        UpdateExpression="SET " + ", ".join(f"#n{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":v{i}": {"S": v} for i, v in enumerate(values.values())},
    )


def versions_of(api: Api, key: str) -> list[tuple[str, str]]:
    listing = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=key)
    entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    return sorted((v["Key"], v["VersionId"]) for v in entries)


@pytest.fixture
def victim(api: Api) -> dict[str, Any]:
    """Bob's file with three versions and a delete marker under its key."""
    created = upload(api, "secret.txt", b"bob's secret v1", BOB)
    s3 = client("s3")
    s3.put_object(Bucket=api.resources.bucket, Key=key_of(created), Body=b"bob's secret v2")
    s3.put_object(Bucket=api.resources.bucket, Key=key_of(created), Body=b"bob's secret v3")
    s3.delete_object(Bucket=api.resources.bucket, Key=key_of(created))
    s3.put_object(Bucket=api.resources.bucket, Key=key_of(created), Body=b"bob's secret v4")
    return created


def forge(api: Api, victim: dict[str, Any], **location: str) -> str:
    """Alice's own file, its item rewritten to point at `location`, marked clean and processed."""
    mine = upload(api, "mine.txt", b"alice's own", ALICE)
    latest = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=key_of(victim))[
        "Versions"
    ][0]["VersionId"]
    rewrite(api, mine["file_id"], status="PROCESSED", scanned_version_id=latest, **location)
    return str(mine["file_id"])


@pytest.mark.parametrize(
    "location",
    [
        pytest.param("victims-key", id="the-victims-key"),
        pytest.param("other-bucket", id="another-bucket"),
        pytest.param("name-and-key", id="name-and-key-both-rewritten"),
    ],
)
def test_a_forged_item_gets_no_url_and_deletes_nothing(
    api: Api, victim: dict[str, Any], location: str
) -> None:
    victim_key = key_of(victim)
    forged = {
        "victims-key": {"s3_key": victim_key},
        "other-bucket": {"bucket": OTHER_BUCKET},
        # A name that is no sanitised name, with the key it would "derive".
        "name-and-key": {
            "file_name": f"../../{BOB}/{victim['file_id']}/secret.txt",
            "s3_key": victim_key,
        },
    }[location]
    file_id = forge(api, victim, **forged)
    before = versions_of(api, victim_key)
    assert len(before) == 5

    shown = api.client.get(f"/uploads/{file_id}", headers=api.auth(ALICE))
    deleted = api.client.delete(f"/uploads/{file_id}", headers=api.auth(ALICE))
    listed = api.client.get("/uploads", headers=api.auth(ALICE))

    assert shown.status_code == 404
    assert shown.json() == {
        "error": "not_found",
        "message": "no such file",
        "request_id": shown.headers["x-request-id"],
    }
    assert "download_url" not in shown.text
    assert deleted.status_code == 404
    assert deleted.json()["error"] == "not_found"
    assert versions_of(api, victim_key) == before
    assert file_id not in [item["file_id"] for item in listed.json()["items"]]
    # Bob's own file is untouched and still his.
    assert api.client.get(f"/uploads/{victim['file_id']}", headers=api.auth(BOB)).status_code == 200


def test_a_forged_item_is_logged_by_file_id_never_by_key(api: Api, victim: dict[str, Any]) -> None:
    file_id = forge(api, victim, s3_key=key_of(victim))
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(handler)
    try:
        assert api.client.get(f"/uploads/{file_id}", headers=api.auth(ALICE)).status_code == 404
    finally:
        std_logger.removeHandler(handler)

    records = [json.loads(line) for line in output.getvalue().splitlines()]
    [warning] = [r for r in records if r["level"] == "WARNING"]
    assert warning["file_id"] == file_id
    assert "refused" in warning["message"]
    assert key_of(victim) not in output.getvalue()


def test_the_download_url_is_the_scanned_version_in_the_configured_bucket(api: Api) -> None:
    created = upload(api, "report.txt", b"scanned bytes", ALICE)
    key = key_of(created)
    [scanned] = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=key)[
        "Versions"
    ]
    # A later version at the key (it cannot come from the API) is never what is served.
    client("s3").put_object(Bucket=api.resources.bucket, Key=key, Body=b"never scanned")
    rewrite(api, created["file_id"], status="PROCESSED", scanned_version_id=scanned["VersionId"])

    detail = api.client.get(f"/uploads/{created['file_id']}", headers=api.auth(ALICE)).json()

    url = urllib.parse.urlsplit(detail["download_url"])
    query = urllib.parse.parse_qs(url.query)
    assert query["versionId"] == [scanned["VersionId"]]
    assert url.path.endswith(f"/{key}")
    assert api.resources.bucket in url.netloc + url.path


def test_a_processed_file_without_a_scanned_version_has_no_url(api: Api) -> None:
    created = upload(api, "report.txt", b"never scanned", ALICE)
    rewrite(api, created["file_id"], status="PROCESSED")

    response = api.client.get(f"/uploads/{created['file_id']}", headers=api.auth(ALICE))

    # Answered as any file that is not ready: its status, and no way to the bytes.
    assert response.status_code == 200
    assert response.json()["status"] == "PROCESSED"
    assert "download_url" not in response.json()
    assert "download_url_expires_in" not in response.json()


# ------------------------------------------------------------------ pending uploads


def start(api: Api, data: bytes, sub: str, name: str = "part.bin") -> dict[str, Any]:
    response = api.client.post(
        "/uploads",
        json={
            "file_name": name,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=api.auth(sub),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_forged_pending_record_signs_nothing_completes_nothing_and_deletes_nothing(
    api: Api, victim: dict[str, Any]
) -> None:
    victim_key = key_of(victim)
    started = start(api, b"alice's pending", ALICE)
    file_id = started["file_id"]
    client("dynamodb").update_item(
        TableName=api.resources.pending_table,
        Key={"file_id": {"S": file_id}},
        UpdateExpression="SET s3_key = :victim",
        ExpressionAttributeValues={":victim": {"S": victim_key}},
    )
    before = versions_of(api, victim_key)
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": api.resources.bucket}, "object": {"key": victim_key}},
    }

    answers = [
        api.client.get(f"/uploads/{file_id}/parts", headers=api.auth(ALICE)),
        api.client.post(f"/uploads/{file_id}/complete", headers=api.auth(ALICE)),
        api.client.delete(f"/uploads/{file_id}", headers=api.auth(ALICE)),
    ]
    outcome = api.client.post("/events", json=event).json()["outcome"]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.json()["error"] for a in answers} == {"not_found"}
    assert outcome == "ignored: no pending upload"
    assert versions_of(api, victim_key) == before
    files = client("dynamodb").scan(TableName=api.resources.table)["Items"]
    assert {f["file_id"]["S"] for f in files} == {victim["file_id"]}
