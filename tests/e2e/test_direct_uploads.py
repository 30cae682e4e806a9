"""Direct uploads on the local stack: the bytes go to the emulator's S3 through presigned URLs.

A single PUT completes by the S3 object-created event (EventBridge rule from
Terraform, delivered by the local stand-in); multipart completes by the
client's `complete`. Either way the files table sees one INSERT, and the
pipeline verifies the declared size and SHA-256 against the bytes.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse
from typing import Any

import httpx
import pytest
from botocore.config import Config

from ops.environment import local_client
from tests.devstack.guide_user import guide_sign_in
from tests.e2e.conftest import RunningStack, executions_for, wait_for
from tests.e2e.test_flow import wait_final

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_http() -> Any:
    """A plain HTTP client for the presigned URLs: no token, no default headers."""
    with httpx.Client(timeout=120) as client:
        yield client


def start(api: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    response = api.post(
        "/uploads",
        json={
            "file_name": name,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def key_of(started: dict[str, Any]) -> str:
    return str(started["s3_path"].split("/", 3)[3])


def object_exists(stack: RunningStack, key: str) -> bool:
    versions = stack.client("s3").list_object_versions(Bucket=stack.state.bucket, Prefix=key)
    return bool(versions.get("Versions"))


def put_parts(
    s3_http: httpx.Client, parts: list[dict[str, Any]], data: bytes, part_size: int
) -> list[dict[str, Any]]:
    sent = []
    for part in parts:
        n = part["part_number"]
        response = s3_http.put(part["url"], content=data[(n - 1) * part_size : n * part_size])
        assert response.status_code == 200, response.text
        sent.append({"part_number": n, "etag": response.headers["ETag"]})
    return sent


def test_a_12_mib_single_put_is_completed_by_the_s3_event_and_processed(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client
) -> None:
    data = os.urandom(12 * MIB)
    started = start(api, "twelve.bin", data)
    upload = started["upload"]
    assert upload["method"] == "PUT"
    assert api.get(f"/uploads/{started['file_id']}").status_code == 404  # pending, not a file

    response = s3_http.put(upload["url"], content=data, headers=upload["headers"])

    assert response.status_code == 200, response.text
    # No complete call: the object-created event alone completes the upload.
    done = wait_final(api, started["file_id"], timeout=60)
    assert done["status"] == "PROCESSED", done
    assert done["size_bytes"] == len(data)
    assert len(executions_for(stack, started["file_id"])) == 1
    # Verified, so downloadable: the URL serves the very bytes.
    detail = api.get(f"/uploads/{started['file_id']}").json()
    assert s3_http.get(detail["download_url"]).content == data


def test_a_200_mib_multipart_upload_resumed_midway_is_processed(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client
) -> None:
    data = os.urandom(200 * MIB)
    started = start(api, "large.bin", data)
    upload = started["upload"]
    assert upload["method"] == "MULTIPART"
    part_size = upload["part_size"]
    file_id = started["file_id"]
    # The connection drops after five parts...
    sent = put_parts(s3_http, upload["parts"][:5], data, part_size)

    # ...and the client resumes: S3 has five, fresh URLs come for the rest.
    resumed = api.get(f"/uploads/{file_id}/parts").json()
    assert [p["part_number"] for p in resumed["parts_received"]] == [1, 2, 3, 4, 5]
    missing = resumed["upload"]["parts"]
    assert [p["part_number"] for p in missing] == list(range(6, len(upload["parts"]) + 1))
    sent += put_parts(s3_http, missing, data, part_size)
    completed = api.post(f"/uploads/{file_id}/complete", json={"parts": sent})

    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "UPLOADED"
    done = wait_final(api, file_id, timeout=120)
    assert done["status"] == "PROCESSED", done
    assert done["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_duplicate_complete_creates_one_file_and_starts_one_execution(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client
) -> None:
    data = os.urandom(5 * MIB)
    started = start(api, "twice.bin", data)
    upload = started["upload"]
    assert s3_http.put(upload["url"], content=data, headers=upload["headers"]).status_code == 200
    file_id = started["file_id"]

    first = api.post(f"/uploads/{file_id}/complete")
    second = api.post(f"/uploads/{file_id}/complete")

    assert first.status_code == second.status_code == 200
    assert first.json()["file_id"] == second.json()["file_id"] == file_id
    assert wait_final(api, file_id, timeout=60)["status"] == "PROCESSED"
    time.sleep(1)  # room for a second execution, were the event to start one
    assert len(executions_for(stack, file_id)) == 1


@pytest.mark.parametrize(
    "tamper",
    ["bytes", "size", "key", "header"],
)
def test_a_url_used_for_anything_else_is_refused_and_nothing_is_stored(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client, tamper: str
) -> None:
    data = os.urandom(256 * 1024)
    started = start(api, "bound.bin", data)
    url, headers = started["upload"]["url"], dict(started["upload"]["headers"])
    body = data
    if tamper == "bytes":  # same size, other bytes: the signed checksum does not match
        body = bytes(reversed(data))
    elif tamper == "size":
        body = data[:-1]
        headers["Content-Length"] = str(len(body))
    elif tamper == "key":  # another user's prefix
        parts = urllib.parse.urlsplit(url)
        url = parts._replace(
            path=parts.path.replace(key_of(started).split("/")[1], "someone-else")
        ).geturl()
    elif tamper == "header":  # another key for the encryption
        headers["x-amz-server-side-encryption-aws-kms-key-id"] = "alias/aws/s3"

    response = s3_http.put(url, content=body, headers=headers)

    assert response.status_code in (400, 403), response.text
    assert not object_exists(stack, key_of(started))
    assert not object_exists(
        stack, key_of(started).replace(key_of(started).split("/")[1], "someone-else")
    )
    assert api.get(f"/uploads/{started['file_id']}").status_code == 404
    assert api.post(f"/uploads/{started['file_id']}/complete").status_code == 409


def test_an_expired_url_is_refused(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client
) -> None:
    data = b"too late"
    started = start(api, "late.txt", data)
    # The API's URLs live 300 s; one signed the same way for 1 s shows S3's refusal.
    s3 = local_client(stack.state, "s3", Config(signature_version="s3v4"))
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": stack.state.bucket, "Key": key_of(started), "ContentLength": len(data)},
        ExpiresIn=1,
    )
    time.sleep(2)

    response = s3_http.put(url, content=data)

    assert response.status_code == 403, response.text
    assert not object_exists(stack, key_of(started))


def test_another_user_cannot_see_complete_or_abort_my_upload(
    stack: RunningStack, api: httpx.Client
) -> None:
    data = b"mine"
    started = start(api, "mine.txt", data)
    file_id = started["file_id"]
    with stack.api(guide_sign_in(stack.state, "other@example.com")) as other:
        assert other.get(f"/uploads/{file_id}/parts").status_code == 404
        assert other.post(f"/uploads/{file_id}/complete").status_code == 404
        assert other.delete(f"/uploads/{file_id}").status_code == 404

    assert api.delete(f"/uploads/{file_id}").status_code == 204
    assert api.post(f"/uploads/{file_id}/complete").status_code == 404


def versions_under(stack: RunningStack, prefix: str) -> list[dict[str, Any]]:
    listing = stack.client("s3").list_object_versions(Bucket=stack.state.bucket, Prefix=prefix)
    return [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]


def test_a_put_url_lives_minutes_and_never_replaces_its_object(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client
) -> None:
    """Finding 5 of the review: the re-PUTs that left 3.0 MB against 600 KB counted."""
    data = os.urandom(600 * 1024)
    started = start(api, "once.bin", data)
    upload = started["upload"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload["url"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert upload["headers"]["If-None-Match"] == "*"
    prefix = key_of(started).rsplit("/", 1)[0] + "/"

    first = s3_http.put(upload["url"], content=data, headers=upload["headers"])
    again = s3_http.put(upload["url"], content=data, headers=upload["headers"])

    assert first.status_code == 200, first.text
    assert again.status_code == 412, again.text
    assert len(versions_under(stack, prefix)) == 1
    assert wait_final(api, started["file_id"], timeout=60)["status"] == "PROCESSED"


@pytest.mark.parametrize("gone", ["discarded", "deleted"])
def test_a_put_url_used_after_its_upload_is_gone_leaves_no_bytes(
    stack: RunningStack, api: httpx.Client, s3_http: httpx.Client, gone: str
) -> None:
    """A URL may still be valid for a few minutes after DELETE: whatever it writes then is
    removed by the object's own event, and nothing stays under the upload's prefix."""
    data = os.urandom(600 * 1024)
    started = start(api, f"{gone}.bin", data)
    upload, file_id = started["upload"], started["file_id"]
    prefix = key_of(started).rsplit("/", 1)[0] + "/"
    if gone == "deleted":
        sent = s3_http.put(upload["url"], content=data, headers=upload["headers"])
        assert sent.status_code == 200, sent.text
        assert wait_final(api, file_id, timeout=60)["status"] == "PROCESSED"
    assert api.delete(f"/uploads/{file_id}").status_code == 204
    assert versions_under(stack, prefix) == []

    late = s3_http.put(upload["url"], content=data, headers=upload["headers"])

    assert late.status_code == 200, late.text  # the key was free: S3 takes it...
    wait_for(  # ...and the object-created event removes it at once
        lambda: versions_under(stack, prefix) == [],
        timeout=20,
        what="the late object to be removed",
    )
    assert api.get(f"/uploads/{file_id}").status_code == 404
    assert api.post(f"/uploads/{file_id}/complete").status_code == 404
