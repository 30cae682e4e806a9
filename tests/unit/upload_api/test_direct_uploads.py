"""Direct uploads against moto: start, the bytes, completion by either signal, resume, abort.

The bytes go in with boto3 here (decorator-mode moto does not serve the
presigned URLs over HTTP); the end-to-end tests send them to the URLs.
"""

import base64
import hashlib
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from tests.support.api import ALICE, BOB, Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.api import deps
from upload_api.direct_plan import MIB
from upload_api.main import create_app

PART = 5 * MIB


@pytest.fixture
def direct(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    """The app with S3's smallest part size as the multipart threshold, to keep files small."""
    resources = create_upload_resources()
    settings = app_settings(
        resources,
        jwks_server.url,
        single_put_max_bytes=PART,
        multipart_part_bytes=PART,
        max_direct_upload_bytes=64 * MIB,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield Api(client=test_client, resources=resources, issuer=token_issuer)


def start(api: Api, data: bytes, sub: str = ALICE, name: str = "report.pdf") -> dict[str, Any]:
    response = api.client.post(
        "/uploads",
        json={
            "file_name": name,
            "comment": "direct",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=api.auth(sub),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def key_of(started: dict[str, Any]) -> str:
    return str(started["s3_path"].split("/", 3)[3])


def put_bytes(api: Api, started: dict[str, Any], data: bytes) -> None:
    client("s3").put_object(Bucket=api.resources.bucket, Key=key_of(started), Body=data)


def put_parts(
    api: Api, started: dict[str, Any], data: bytes, numbers: list[int]
) -> list[dict[str, Any]]:
    size = started["upload"]["part_size"]
    upload_id = urllib.parse.parse_qs(
        urllib.parse.urlsplit(started["upload"]["parts"][0]["url"]).query
    )["uploadId"][0]
    return [
        {
            "part_number": n,
            "etag": client("s3").upload_part(
                Bucket=api.resources.bucket,
                Key=key_of(started),
                UploadId=upload_id,
                PartNumber=n,
                Body=data[(n - 1) * size : n * size],
            )["ETag"],
        }
        for n in numbers
    ]


def rows(table: str) -> list[dict[str, Any]]:
    return list(client("dynamodb").scan(TableName=table)["Items"])


def event(bucket: str, key: str) -> dict[str, Any]:
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}},
    }


def test_a_single_put_url_binds_its_key_size_checksum_and_key(direct: Api) -> None:
    data = b"%PDF-1.7 direct upload"
    started = start(direct, data)

    assert started["status"] == "PENDING_UPLOAD"
    assert key_of(started) == f"uploads/{ALICE}/{started['file_id']}/report.pdf"
    upload = started["upload"]
    assert upload["method"] == "PUT"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload["url"]).query)
    # The headers listed are exactly the ones the signature covers, with their values.
    signed = set(query["X-Amz-SignedHeaders"][0].split(";")) - {"host"}
    assert {name.lower() for name in upload["headers"]} == signed
    assert upload["headers"]["Content-Length"] == str(len(data))
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert upload["headers"]["x-amz-checksum-sha256"] == digest
    assert upload["headers"]["x-amz-server-side-encryption"] == "aws:kms"
    assert upload["headers"]["x-amz-server-side-encryption-aws-kms-key-id"] == (
        direct.resources.kms_key_arn
    )
    # S3 refuses the PUT once an object exists at the key: the URL can never replace one.
    assert upload["headers"]["If-None-Match"] == "*"
    assert "if-none-match" in signed
    # Minutes, not a quarter of an hour.
    assert int(query["X-Amz-Expires"][0]) == 300
    # Pending, not a file: nothing on the files table's stream.
    assert rows(direct.resources.table) == []
    assert len(rows(direct.resources.pending_table)) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "application/pdf"),
        ("table.csv", "text/csv"),
        ("blob", "application/octet-stream"),
    ],
)
def test_a_direct_upload_s_content_type_comes_from_its_name(
    direct: Api, name: str, expected: str
) -> None:
    # The bytes have not arrived when the URL is signed: PNG bytes named .csv are text/csv.
    started = start(direct, b"\x89PNG\r\n\x1a\n" + bytes(32), name=name)

    assert started["upload"]["headers"]["Content-Type"] == expected


def test_completion_creates_the_file_item_once_whichever_signal_comes_first(
    direct: Api,
) -> None:
    data = b"hello direct"
    started = start(direct, data)
    file_id = started["file_id"]
    early = direct.client.post(f"/uploads/{file_id}/complete", headers=direct.auth())
    assert early.status_code == 409
    assert early.json()["error"] == "upload_incomplete"

    put_bytes(direct, started, data)
    by_event = direct.client.post("/events", json=event(direct.resources.bucket, key_of(started)))
    assert by_event.json() == {"outcome": "completed"}
    again = direct.client.post("/events", json=event(direct.resources.bucket, key_of(started)))
    assert again.json() == {"outcome": "ignored: completed already"}
    by_client = direct.client.post(f"/uploads/{file_id}/complete", headers=direct.auth())

    assert by_client.status_code == 200, by_client.text
    assert by_client.json()["status"] == "UPLOADED"
    assert by_client.json()["size_bytes"] == len(data)
    assert by_client.json()["sha256"] == hashlib.sha256(data).hexdigest()
    [item] = rows(direct.resources.table)
    assert item["file_id"]["S"] == file_id
    [closed] = rows(direct.resources.pending_table)
    assert "closed_at" in closed


def test_events_for_other_keys_change_nothing(direct: Api) -> None:
    data = b"bytes"
    started = start(direct, data)
    put_bytes(direct, started, data)
    bucket = direct.resources.bucket
    wrong_owner = key_of(started).replace(ALICE, BOB)
    renamed = key_of(started).rsplit("/", 1)[0] + "/other.pdf"

    assert direct.client.post("/events", json=event(bucket, wrong_owner)).json()["outcome"] == (
        "ignored: key does not match the pending upload"
    )
    assert direct.client.post("/events", json=event(bucket, renamed)).json()["outcome"] == (
        "ignored: key does not match the pending upload"
    )
    assert direct.client.post("/events", json=event("another-bucket", key_of(started))).json()[
        "outcome"
    ] == ("ignored: not an upload key")
    assert direct.client.post("/events", json={"source": "aws.s3"}).status_code == 400
    assert rows(direct.resources.table) == []


def test_another_users_upload_is_not_found(direct: Api) -> None:
    data = b"alice's"
    started = start(direct, data)
    put_bytes(direct, started, data)
    file_id = started["file_id"]
    bob = direct.auth(BOB)

    assert direct.client.post(f"/uploads/{file_id}/complete", headers=bob).status_code == 404
    assert direct.client.delete(f"/uploads/{file_id}", headers=bob).status_code == 404
    assert rows(direct.resources.table) == []
    assert len(rows(direct.resources.pending_table)) == 1


def test_multipart_upload_resumes_and_completes_with_the_etags(direct: Api) -> None:
    data = bytes(range(256)) * (11 * MIB // 256)
    started = start(direct, data)
    upload = started["upload"]
    assert upload["method"] == "MULTIPART"
    assert upload["part_size"] == PART
    assert [p["part_number"] for p in upload["parts"]] == [1, 2, 3]
    file_id = started["file_id"]

    first = put_parts(direct, started, data, [1])
    resumed = direct.client.get(f"/uploads/{file_id}/parts", headers=direct.auth()).json()
    assert [p["part_number"] for p in resumed["parts_received"]] == [1]
    assert resumed["parts_received"][0]["size_bytes"] == PART
    assert [p["part_number"] for p in resumed["upload"]["parts"]] == [2, 3]
    incomplete = direct.client.post(
        f"/uploads/{file_id}/complete", json={"parts": first}, headers=direct.auth()
    )
    assert incomplete.status_code == 409

    parts = first + put_parts(direct, started, data, [2, 3])
    wrong = [{**parts[0], "etag": '"0000"'}, *parts[1:]]
    refused = direct.client.post(
        f"/uploads/{file_id}/complete", json={"parts": wrong}, headers=direct.auth()
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "parts_mismatch"
    done = direct.client.post(
        f"/uploads/{file_id}/complete", json={"parts": parts}, headers=direct.auth()
    )
    assert done.status_code == 200, done.text
    twice = direct.client.post(
        f"/uploads/{file_id}/complete", json={"parts": parts}, headers=direct.auth()
    )

    assert twice.status_code == 200
    assert twice.json() == done.json()
    stored = client("s3").get_object(Bucket=direct.resources.bucket, Key=key_of(started))
    assert stored["Body"].read() == data
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert len(rows(direct.resources.table)) == 1


def test_abort_removes_the_pending_upload_and_its_bytes(direct: Api) -> None:
    data = b"never mind"
    started = start(direct, data)
    put_bytes(direct, started, data)
    file_id = started["file_id"]

    assert direct.client.delete(f"/uploads/{file_id}", headers=direct.auth()).status_code == 204

    # Closed: no upload details left, kept only until the URLs signed for it expire.
    [closed] = rows(direct.resources.pending_table)
    assert set(closed) == {"file_id", "owner", "closed_at", "expires_at"}
    assert int(closed["expires_at"]["N"]) <= time.time() + 300 + 60
    versions = client("s3").list_object_versions(Bucket=direct.resources.bucket)
    assert versions.get("Versions", []) == []
    assert versions.get("DeleteMarkers", []) == []
    gone = direct.client.post(f"/uploads/{file_id}/complete", headers=direct.auth())
    assert gone.status_code == 404
    parts = direct.client.get(f"/uploads/{file_id}/parts", headers=direct.auth())
    assert parts.status_code == 404


def test_an_object_nobody_may_read_is_still_completed_or_aborted(
    direct: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bucket policy denies reads (HeadObject included) of an object the malware
    scan tagged THREATS_FOUND, which can happen before completion: never read it."""
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def reads_denied(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation in {"HeadObject", "GetObject"}:
            denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
            raise ClientError(denied, operation)  # type: ignore[arg-type]
        return make_api_call(self, operation, params)

    completed, aborted = start(direct, b"completed"), start(direct, b"aborted")
    put_bytes(direct, completed, b"completed")
    put_bytes(direct, aborted, b"aborted")
    monkeypatch.setattr(BaseClient, "_make_api_call", reads_denied)

    done = direct.client.post(f"/uploads/{completed['file_id']}/complete", headers=direct.auth())
    gone = direct.client.delete(f"/uploads/{aborted['file_id']}", headers=direct.auth())

    assert done.status_code == 200, done.text
    assert gone.status_code == 204
    keys = [
        v["Key"]
        for v in client("s3").list_object_versions(Bucket=direct.resources.bucket)["Versions"]
    ]
    assert keys == [key_of(completed)]


def test_deleting_a_completed_upload_deletes_the_file(direct: Api) -> None:
    data = b"kept"
    started = start(direct, data)
    put_bytes(direct, started, data)
    file_id = started["file_id"]
    direct.client.post(f"/uploads/{file_id}/complete", headers=direct.auth())

    response = direct.client.delete(f"/uploads/{file_id}", headers=direct.auth())

    assert response.status_code == 204
    assert rows(direct.resources.table) == []
    assert client("s3").list_object_versions(Bucket=direct.resources.bucket).get("Versions") is None


def test_a_cancel_aborts_a_pending_upload_but_never_deletes_a_completed_one(direct: Api) -> None:
    """`pending_only` is what a client sends to cancel: a complete whose answer it lost (the
    page closed) must not be undone by a later cancel of the same upload."""
    pending, completed = start(direct, b"pending"), start(direct, b"completed")
    put_bytes(direct, pending, b"pending")
    put_bytes(direct, completed, b"completed")
    completed_id = completed["file_id"]
    done = direct.client.post(f"/uploads/{completed_id}/complete", headers=direct.auth())
    assert done.status_code == 200, done.text

    cancel = {"pending_only": "true"}
    aborted = direct.client.delete(
        f"/uploads/{pending['file_id']}", params=cancel, headers=direct.auth()
    )
    kept = direct.client.delete(f"/uploads/{completed_id}", params=cancel, headers=direct.auth())

    assert aborted.status_code == 204
    assert kept.status_code == 404
    assert kept.json()["error"] == "not_found"
    assert direct.client.get(f"/uploads/{completed_id}", headers=direct.auth()).status_code == 200
    assert [r["file_id"]["S"] for r in rows(direct.resources.table)] == [completed_id]
    keys = [
        v["Key"]
        for v in client("s3").list_object_versions(Bucket=direct.resources.bucket)["Versions"]
    ]
    assert keys == [key_of(completed)]


def test_an_expired_pending_upload_is_gone(direct: Api) -> None:
    """DynamoDB deletes expired items within days: expired already counts as gone."""
    data = b"late"
    started = start(direct, data)
    put_bytes(direct, started, data)
    client("dynamodb").update_item(
        TableName=direct.resources.pending_table,
        Key={"file_id": {"S": started["file_id"]}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )

    response = direct.client.post(f"/uploads/{started['file_id']}/complete", headers=direct.auth())

    assert response.status_code == 404
    assert rows(direct.resources.table) == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"size_bytes": 64 * MIB + 1}, 413, "file_too_large"),
        ({"size_bytes": -1}, 422, "validation_error"),
        ({"size_bytes": "12"}, 422, "validation_error"),
        ({"sha256": "f" * 63}, 422, "validation_error"),
        ({"file_name": ""}, 422, "validation_error"),
        ({"extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_start_requests_get_a_json_error_and_store_nothing(
    direct: Api, change: dict[str, Any], status: int, code: str
) -> None:
    request = {"file_name": "a.bin", "size_bytes": 10, "sha256": "a" * 64, **change}
    response = direct.client.post("/uploads", json=request, headers=direct.auth())

    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert rows(direct.resources.pending_table) == []


def test_every_direct_route_needs_a_token(direct: Api) -> None:
    file_id = "33333333-3333-4333-8333-333333333333"
    calls = [
        ("POST", "/uploads"),
        ("GET", f"/uploads/{file_id}/parts"),
        ("POST", f"/uploads/{file_id}/complete"),
        ("DELETE", f"/uploads/{file_id}"),
    ]
    for method, path in calls:
        assert direct.client.request(method, path).status_code == 401, path


# ------------------------------------------------------------------ finding 5 of the review


def versions_under(api: Api, prefix: str) -> list[dict[str, Any]]:
    listing = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=prefix)
    return [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]


def open_uploads_under(api: Api, prefix: str) -> list[dict[str, Any]]:
    listing = client("s3").list_multipart_uploads(Bucket=api.resources.bucket, Prefix=prefix)
    return list(listing.get("Uploads", []))


def prefix_of(started: dict[str, Any]) -> str:
    return key_of(started).rsplit("/", 1)[0] + "/"


def reput(api: Api, started: dict[str, Any], data: bytes) -> None:
    """What the single PUT's URL does, if it is used again: a conditional create."""
    client("s3").put_object(
        Bucket=api.resources.bucket, Key=key_of(started), Body=data, IfNoneMatch="*"
    )


def test_a_put_url_used_again_cannot_replace_the_object(direct: Api) -> None:
    data = b"first and only"
    started = start(direct, data)
    reput(direct, started, data)

    with pytest.raises(ClientError) as refused:
        reput(direct, started, b"second copy, never counted")

    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert len(versions_under(direct, prefix_of(started))) == 1


@pytest.mark.parametrize("then", ["discard", "delete-the-file"])
def test_a_put_url_used_after_its_upload_is_gone_leaves_nothing(direct: Api, then: str) -> None:
    """The demonstrated re-PUT: the URL outlives its upload by minutes at most, and an
    object it writes then is removed by its own object-created event."""
    data = b"x" * 600
    started = start(direct, data)
    file_id = started["file_id"]
    reput(direct, started, data)
    if then == "delete-the-file":
        completed = direct.client.post(
            "/events", json=event(direct.resources.bucket, key_of(started))
        )
        assert completed.json() == {"outcome": "completed"}
    assert direct.client.delete(f"/uploads/{file_id}", headers=direct.auth()).status_code == 204
    assert versions_under(direct, prefix_of(started)) == []

    reput(direct, started, data)  # within the URL's minutes
    outcome = direct.client.post("/events", json=event(direct.resources.bucket, key_of(started)))

    assert outcome.json() == {"outcome": "removed: the upload was closed"}
    assert versions_under(direct, prefix_of(started)) == []
    assert rows(direct.resources.table) == []


def test_discard_removes_every_version_marker_and_multipart_upload_under_the_prefix(
    direct: Api,
) -> None:
    data = bytes(11 * MIB)
    started = start(direct, data)
    put_parts(direct, started, data, [1])
    s3, bucket, prefix = client("s3"), direct.resources.bucket, prefix_of(started)
    # What no record names: another multipart upload, another object and its history.
    stray = s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}stray.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key=f"{prefix}stray.bin", UploadId=stray, PartNumber=1, Body=b"s")
    s3.put_object(Bucket=bucket, Key=f"{prefix}other.bin", Body=b"v1")
    s3.delete_object(Bucket=bucket, Key=f"{prefix}other.bin")
    s3.put_object(Bucket=bucket, Key=f"{prefix}other.bin", Body=b"v2")
    assert len(open_uploads_under(direct, prefix)) == 2

    response = direct.client.delete(f"/uploads/{started['file_id']}", headers=direct.auth())

    assert response.status_code == 204
    assert versions_under(direct, prefix) == []
    assert open_uploads_under(direct, prefix) == []


def test_parts_are_signed_afresh_for_minutes(direct: Api) -> None:
    data = bytes(11 * MIB)
    started = start(direct, data)
    put_parts(direct, started, data, [2])
    first = {p["part_number"]: p["url"] for p in started["upload"]["parts"]}
    time.sleep(1.1)  # a signature carries its second

    resumed = direct.client.get(f"/uploads/{started['file_id']}/parts", headers=direct.auth())

    assert resumed.status_code == 200
    parts = resumed.json()["upload"]["parts"]
    assert [p["part_number"] for p in parts] == [1, 3]
    for part in parts:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(part["url"]).query)
        assert query["X-Amz-Expires"] == ["300"]
        assert part["url"] != first[part["part_number"]]
        before = urllib.parse.parse_qs(urllib.parse.urlsplit(first[part["part_number"]]).query)
        assert query["X-Amz-Date"][0] > before["X-Amz-Date"][0]


def test_the_multipart_completion_is_conditional_on_no_object(direct: Api) -> None:
    data = bytes(6 * MIB)
    started = start(direct, data)
    parts = put_parts(direct, started, data, [1, 2])
    service = deps.get_direct_upload_service(direct.client.app.state.settings)  # type: ignore[attr-defined]
    sent: list[dict[str, str]] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(dict(request.headers))

    service._s3.meta.events.register("before-sign.s3.CompleteMultipartUpload", capture)
    try:
        done = direct.client.post(
            f"/uploads/{started['file_id']}/complete", json={"parts": parts}, headers=direct.auth()
        )
    finally:
        service._s3.meta.events.unregister("before-sign.s3.CompleteMultipartUpload", capture)

    assert done.status_code == 200, done.text
    [headers] = sent
    assert headers["If-None-Match"] == "*"


def test_an_object_of_an_expired_upload_is_removed_by_its_event(direct: Api) -> None:
    data = b"too late"
    started = start(direct, data)
    client("dynamodb").update_item(
        TableName=direct.resources.pending_table,
        Key={"file_id": {"S": started["file_id"]}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    put_bytes(direct, started, data)

    outcome = direct.client.post("/events", json=event(direct.resources.bucket, key_of(started)))

    assert outcome.json() == {"outcome": "removed: the upload expired"}
    assert versions_under(direct, prefix_of(started)) == []
    assert rows(direct.resources.table) == []


def fail_once(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """The next `operation` call fails as S3 or DynamoDB may; every later one goes through."""
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    pending = [operation]

    def flaky(self: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name in pending:
            pending.remove(name)
            error = {"Error": {"Code": "InternalError", "Message": "try again"}}
            raise ClientError(error, name)  # type: ignore[arg-type]
        return make_api_call(self, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)


def usage_of(api: Api, sub: str = ALICE) -> tuple[int, int]:
    item = client("dynamodb").get_item(
        TableName=api.resources.usage_table, Key={"owner": {"S": sub}}, ConsistentRead=True
    )["Item"]
    return int(item["bytes"]["N"]), int(item["files"]["N"])


# DeleteObjects: the purge fails; TransactWriteItems: the item's delete with its release.
@pytest.mark.parametrize("failing", ["DeleteObjects", "TransactWriteItems"])
def test_a_retried_delete_of_a_completed_upload_finishes_it(
    direct: Api, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The first DELETE fails after the item is marked DELETING; the record of the upload
    is closed, with no live file. The retry must delete the file, not only the prefix."""
    data = b"completed, then deleted"
    started = start(direct, data)
    file_id = started["file_id"]
    put_bytes(direct, started, data)
    done = direct.client.post(f"/uploads/{file_id}/complete", headers=direct.auth())
    assert done.status_code == 200, done.text
    assert usage_of(direct) == (len(data), 1)
    fail_once(monkeypatch, failing)

    answers = [
        direct.client.delete(f"/uploads/{file_id}", headers=direct.auth()).status_code
        for _ in range(2)
    ]

    assert answers == [503, 204]
    assert rows(direct.resources.table) == []
    assert usage_of(direct) == (0, 0)
    assert versions_under(direct, prefix_of(started)) == []
    again = direct.client.delete(f"/uploads/{file_id}", headers=direct.auth())
    assert again.status_code == 404


def test_a_retried_abort_removes_the_bytes_then_the_upload_is_gone(
    direct: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"abandoned"
    started = start(direct, data)
    file_id = started["file_id"]
    put_bytes(direct, started, data)
    fail_once(monkeypatch, "DeleteObjects")

    answers = [
        direct.client.delete(f"/uploads/{file_id}", headers=direct.auth()).status_code
        for _ in range(2)
    ]

    assert answers == [503, 204]  # the retry removes what the first one left
    assert versions_under(direct, prefix_of(started)) == []
    assert usage_of(direct) == (0, 0)
    again = direct.client.delete(f"/uploads/{file_id}", headers=direct.auth())
    assert again.status_code == 404  # nothing left to delete
