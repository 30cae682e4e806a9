"""Throttled AWS calls: a 503 `throttled` with Retry-After and the error shape, never a 500,
and nothing half-written, whichever call of an upload, a completion or a delete AWS refuses."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import ALICE, Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.aws_throttling import (
    SLOW_DOWN,
    THROTTLES,
    THROUGHPUT_EXCEEDED,
    Stored,
    Throttle,
    operation_calls,
    stored,
    throttling,
)
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.direct_plan import MIB
from upload_api.main import RETRY_AFTER_SECONDS, create_app
from upload_api.storage import is_throttled

PART = 5 * MIB
TRANSACTION_THROTTLED = Throttle("TransactionCanceledException", reason="ThrottlingError")


@pytest.fixture
def direct(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    """S3's smallest part size as the multipart threshold, to keep files small."""
    resources = create_upload_resources()
    settings = app_settings(
        resources, jwks_server.url, single_put_max_bytes=PART, multipart_part_bytes=PART
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield Api(client=test_client, resources=resources, issuer=token_issuer)


def assert_throttled(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["error"] == "throttled"
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]


def post_upload(api: Api, data: bytes = b"throttled bytes") -> Any:
    payload = {"file_name": "f.txt", "file_data": base64.b64encode(data).decode()}
    return api.client.post("/upload", json=payload, headers=api.auth())


def start(api: Api, data: bytes) -> Any:
    return api.client.post(
        "/uploads",
        json={
            "file_name": "big.bin",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=api.auth(),
    )


def key_of(started: dict[str, Any]) -> str:
    return str(started["s3_path"].split("/", 3)[3])


def send_parts(api: Api, started: dict[str, Any], data: bytes) -> None:
    """The parts' bytes, as the client's PUTs to the presigned URLs would send them."""
    s3, key = client("s3"), key_of(started)
    [upload] = s3.list_multipart_uploads(Bucket=api.resources.bucket, Prefix=key)["Uploads"]
    for part in started["upload"]["parts"]:
        n = part["part_number"]
        s3.upload_part(
            Bucket=api.resources.bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=n,
            Body=data[(n - 1) * PART : n * PART],
        )


def check(api: Api) -> None:
    stored(client, api.resources, ALICE).check()


# ------------------------------------------------------------ which errors are throttling


@pytest.mark.parametrize("throttle", THROTTLES, ids=lambda t: t.reason or t.code)
def test_every_services_throttling_answer_is_throttling(throttle: Throttle) -> None:
    assert is_throttled(throttle.error("AnyOperation"))


def test_an_unknown_code_with_http_429_is_throttling() -> None:
    assert is_throttled(Throttle("SomethingNew", 429).error("AnyOperation"))


@pytest.mark.parametrize(
    "code", ["AccessDenied", "InternalError", "ConditionalCheckFailedException", "NoSuchKey"]
)
def test_other_failures_are_not_throttling(code: str) -> None:
    assert not is_throttled(Throttle(code, 500).error("AnyOperation"))
    conflict = Throttle("TransactionCanceledException", reason="ConditionalCheckFailed")
    assert not is_throttled(conflict.error("TransactWriteItems"))
    assert not is_throttled(ValueError("not from AWS"))


# ------------------------------------------------------------ POST /upload


@pytest.mark.parametrize(
    ("operation", "throttle"),
    [
        ("PutObject", SLOW_DOWN),
        ("TransactWriteItems", THROUGHPUT_EXCEEDED),
        ("TransactWriteItems", TRANSACTION_THROTTLED),
    ],
)
def test_a_throttled_upload_is_a_503_and_leaves_nothing(
    api: Api, operation: str, throttle: Throttle
) -> None:
    with throttling(operation_calls(operation, throttle)) as seen:
        response = post_upload(api)

    assert seen.refused == [operation]
    assert_throttled(response)
    check(api)
    assert stored(client, api.resources, ALICE).objects == frozenset()


def test_a_throttled_compensating_delete_is_tried_again(api: Api) -> None:
    """The item's write and the first delete of its object are both throttled."""
    refused = [operation_calls("TransactWriteItems", THROUGHPUT_EXCEEDED)]
    refused.append(operation_calls("DeleteObject", SLOW_DOWN, times=2))

    with throttling(lambda i, op: refused[0](i, op) or refused[1](i, op)) as seen:
        response = post_upload(api)

    assert seen.refused == ["TransactWriteItems", "DeleteObject", "DeleteObject"]
    assert_throttled(response)
    check(api)
    assert stored(client, api.resources, ALICE).objects == frozenset()


def test_an_unavailable_service_is_a_503_with_retry_after_too(api: Api) -> None:
    client("s3").delete_bucket(Bucket=api.resources.bucket)

    response = post_upload(api)

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


# ------------------------------------------------------------ direct uploads


@pytest.mark.parametrize(
    ("operation", "throttle"),
    [
        ("GetItem", THROUGHPUT_EXCEEDED),  # the usage read that makes room
        ("CreateMultipartUpload", SLOW_DOWN),
        ("TransactWriteItems", TRANSACTION_THROTTLED),  # the record and its reservation
    ],
)
def test_a_throttled_start_reserves_nothing_and_leaves_no_multipart_upload(
    direct: Api, operation: str, throttle: Throttle
) -> None:
    with throttling(operation_calls(operation, throttle)) as seen:
        response = start(direct, b"x" * (PART + 1))

    assert seen.refused == [operation]
    assert_throttled(response)
    check(direct)
    after = stored(client, direct.resources, ALICE)
    assert after.pending == {}
    assert after.multipart == frozenset()


MULTIPART, SINGLE_PUT = PART + 1, 100


@pytest.mark.parametrize(
    ("operation", "throttle", "size"),
    [
        ("GetItem", THROUGHPUT_EXCEEDED, MULTIPART),  # the pending record
        ("ListParts", SLOW_DOWN, MULTIPART),
        ("CompleteMultipartUpload", SLOW_DOWN, MULTIPART),
        ("TransactWriteItems", TRANSACTION_THROTTLED, MULTIPART),  # record -> file item
        ("ListObjectVersions", SLOW_DOWN, SINGLE_PUT),  # have the bytes arrived?
        ("TransactWriteItems", THROUGHPUT_EXCEEDED, SINGLE_PUT),
    ],
)
def test_a_throttled_completion_is_a_503_and_its_retry_completes(
    direct: Api, operation: str, throttle: Throttle, size: int
) -> None:
    data = b"y" * size
    started = start(direct, data).json()
    if size == MULTIPART:
        send_parts(direct, started, data)
    else:
        client("s3").put_object(Bucket=direct.resources.bucket, Key=key_of(started), Body=data)
    complete = f"/uploads/{started['file_id']}/complete"

    with throttling(operation_calls(operation, throttle)) as seen:
        response = direct.client.post(complete, headers=direct.auth())

    assert seen.refused == [operation]
    assert_throttled(response)
    check(direct)
    retried = direct.client.post(complete, headers=direct.auth())
    assert retried.status_code == 200, retried.text
    after = stored(client, direct.resources, ALICE)
    assert after.items == {started["file_id"]: len(data)}
    assert after.usage == (len(data), 1)
    after.check()


# ------------------------------------------------------------ DELETE


@pytest.mark.parametrize(
    ("operation", "throttle"),
    [
        ("GetItem", THROUGHPUT_EXCEEDED),
        ("UpdateItem", THROUGHPUT_EXCEEDED),  # marking it DELETING
        ("ListObjectVersions", SLOW_DOWN),  # the purge
        ("DeleteObjects", SLOW_DOWN),
        ("TransactWriteItems", TRANSACTION_THROTTLED),  # the item and its quota
    ],
)
def test_a_throttled_delete_is_a_503_and_its_retry_leaves_nothing(
    api: Api, operation: str, throttle: Throttle
) -> None:
    file_id = post_upload(api).json()["file_id"]

    with throttling(operation_calls(operation, throttle)) as seen:
        response = api.client.delete(f"/uploads/{file_id}", headers=api.auth())

    assert seen.refused == [operation]
    assert_throttled(response)
    assert api.client.delete(f"/uploads/{file_id}", headers=api.auth()).status_code == 204
    nothing = Stored(objects=frozenset(), items={}, pending={}, multipart=frozenset(), usage=(0, 0))
    assert stored(client, api.resources, ALICE) == nothing


# ------------------------------------------------------------ OpenAPI


def test_every_503_in_the_openapi_document_has_retry_after(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    answers = [
        operation["responses"]["503"]
        for methods in document["paths"].values()
        for operation in methods.values()
        if "503" in operation["responses"]
    ]
    assert len(answers) == 7  # every route but /health
    for answer in answers:
        assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"
        assert "throttled" in answer["description"]
