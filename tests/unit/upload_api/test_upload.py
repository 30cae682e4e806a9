"""POST /upload against moto: the happy path, every 4xx, and both compensations."""

import base64
import hashlib
import io
import json
import logging
from typing import Any

import pytest

from tests.support.api import ALICE, Api
from tests.support.aws import client
from upload_api.api import deps
from upload_api.api.routes.uploads import body_limit
from upload_api.core.files import encoded_length
from upload_api.core.logging import logger
from upload_api.models import MAX_COMMENT_CHARS, MAX_FILE_NAME_CHARS

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def body(
    data: bytes = b"hello world", name: str = "hello.txt", comment: str = "hi"
) -> dict[str, Any]:
    return {"file_name": name, "comment": comment, "file_data": base64.b64encode(data).decode()}


def items(api: Api) -> list[dict[str, Any]]:
    table = client("dynamodb").scan(TableName=api.resources.table)
    return list(table["Items"])


def object_versions(api: Api) -> list[dict[str, Any]]:
    listing = client("s3").list_object_versions(Bucket=api.resources.bucket)
    return list(listing.get("Versions", [])) + list(listing.get("DeleteMarkers", []))


def test_upload_stores_encrypted_object_and_metadata(api: Api) -> None:
    data = b"hello world"
    response = api.client.post("/upload", json=body(data), headers=api.auth())

    assert response.status_code == 201, response.text
    result = response.json()
    file_id = result["file_id"]
    key = f"uploads/{ALICE}/{file_id}/hello.txt"
    assert result == {
        "message": "File uploaded successfully.",
        "s3_path": f"s3://{api.resources.bucket}/{key}",
        "file_id": file_id,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_type": "text/plain",
    }
    head = client("s3").head_object(Bucket=api.resources.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == api.resources.kms_key_arn
    assert head["ContentType"] == "text/plain"
    stored = client("s3").get_object(Bucket=api.resources.bucket, Key=key)["Body"].read()
    assert stored == data
    [item] = items(api)
    assert item["file_id"] == {"S": file_id}
    assert item["owner"] == {"S": ALICE}
    assert item["s3_key"] == {"S": key}
    assert item["size_bytes"] == {"N": str(len(data))}
    assert item["sha256"] == {"S": hashlib.sha256(data).hexdigest()}
    assert item["comment"] == {"S": "hi"}
    assert item["status"] == {"S": "UPLOADED"}
    assert item["created_at"] == item["updated_at"]


def test_bearer_prefix_is_accepted(api: Api) -> None:
    token = api.auth()["Authorization"]
    response = api.client.post("/upload", json=body(), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_comment_is_optional(api: Api) -> None:
    payload = body()
    del payload["comment"]
    response = api.client.post("/upload", json=payload, headers=api.auth())
    assert response.status_code == 201
    assert items(api)[0]["comment"] == {"S": ""}


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG, "not-really.txt", "image/png"),
        (b"%PDF-1.7\n" + b"x" * 32, "report.bin", "application/pdf"),
        (b"a,b\n1,2\n", "table.csv", "text/csv"),
        (b"\x00\x01\x02\x03", "blob", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_bytes_then_extension(
    api: Api, data: bytes, name: str, expected: str
) -> None:
    response = api.client.post("/upload", json=body(data, name), headers=api.auth())
    assert response.status_code == 201
    assert response.json()["content_type"] == expected


def test_path_in_file_name_cannot_escape_the_prefix(api: Api) -> None:
    response = api.client.post(
        "/upload", json=body(name="../../other-user/x/.bashrc"), headers=api.auth()
    )
    assert response.status_code == 201
    key = response.json()["s3_path"].split("/", 3)[3]
    assert key == f"uploads/{ALICE}/{response.json()['file_id']}/bashrc"


def error_of(response: Any) -> str:
    payload = response.json()
    assert set(payload) >= {"error", "message", "request_id"}
    return str(payload["error"])


@pytest.mark.parametrize(
    ("file_data", "code"),
    [
        ("aGVsbG8=\n\n", "invalid_base64"),  # two line breaks: no tool wraps like that
        ("aGVs\nbG8=", "invalid_base64"),  # wrapped at 4, not 64 or 76
        ("aGVs bG8=", "invalid_base64"),
        ("aGVsbG8", "invalid_base64"),  # missing padding
        ("aGVsbG9=", "invalid_base64"),  # non-canonical: stray bits before the padding
        ("aGk=aGk=", "invalid_base64"),  # padding before the end
        ("aGVsbA====", "invalid_base64"),  # padding beyond the last quantum
        ("aGVsbG8-", "invalid_base64"),  # URL-safe alphabet
        ("héllo===", "invalid_base64"),
        ("", "empty_file"),
    ],
)
def test_bad_base64_is_a_400(api: Api, file_data: str, code: str) -> None:
    payload = {"file_name": "a.txt", "file_data": file_data}
    response = api.client.post("/upload", json=payload, headers=api.auth())
    assert response.status_code == 400
    assert error_of(response) == code
    assert items(api) == []
    assert object_versions(api) == []


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b'{"file_name": "a.txt"}', 422, "validation_error"),
        (b'{"file_data": "aGk="}', 422, "validation_error"),
        (b'{"file_name": "", "file_data": "aGk="}', 422, "validation_error"),
        (b'{"file_name": "a", "file_data": "aGk=", "owner": "x"}', 422, "validation_error"),
        (b'{"file_name": 7, "file_data": "aGk="}', 422, "validation_error"),
        (b"[]", 422, "validation_error"),
    ],
)
def test_malformed_body_is_a_4xx(api: Api, payload: bytes, status: int, code: str) -> None:
    headers = {**api.auth(), "Content-Type": "application/json"}
    response = api.client.post("/upload", content=payload, headers=headers)
    assert response.status_code == status
    assert error_of(response) == code
    assert items(api) == []


def test_comment_over_1000_characters_is_refused(api: Api) -> None:
    response = api.client.post("/upload", json=body(comment="x" * 1001), headers=api.auth())
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "comment"


def test_file_name_without_usable_characters_is_a_400(api: Api) -> None:
    response = api.client.post("/upload", json=body(name="../.."), headers=api.auth())
    assert response.status_code == 400
    assert error_of(response) == "invalid_file_name"


def test_non_json_content_type_is_a_415(api: Api) -> None:
    response = api.client.post(
        "/upload", content=b"file_name=a", headers={**api.auth(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_file_over_the_limit_is_a_413_naming_the_limit(api_small_limit: Api) -> None:
    response = api_small_limit.client.post(
        "/upload", json=body(b"x" * 1025), headers=api_small_limit.auth()
    )
    assert response.status_code == 413
    assert "1024" in response.json()["message"]
    assert object_versions(api_small_limit) == []


def test_file_at_the_limit_is_accepted(api_small_limit: Api) -> None:
    response = api_small_limit.client.post(
        "/upload", json=body(b"x" * 1024), headers=api_small_limit.auth()
    )
    assert response.status_code == 201


# Outside the Basic Multilingual Plane: json.dumps (ensure_ascii=True) writes each as a
# surrogate pair of \u escapes, 12 bytes. U+20000 is a CJK letter, kept by the sanitiser.
NON_BMP_LETTER = "\U00020000"
NON_BMP_SYMBOL = "\U0001f600"


@pytest.mark.parametrize(
    "wrap",
    [None, "\n", "\r\n"],
    ids=["one-line", "wrapped-lf", "wrapped-crlf"],
)
def test_largest_body_with_escaped_non_bmp_name_and_comment_is_accepted(
    api_small_limit: Api, wrap: str | None
) -> None:
    """A maximum-size file, the longest name and comment, every character escaped to 12 bytes."""
    settings = api_small_limit.client.app.state.settings  # type: ignore[attr-defined]
    data = bytes(range(256)) * (settings.max_upload_bytes // 256)
    assert len(data) == settings.max_upload_bytes == 1024
    encoded = base64.b64encode(data).decode()
    if wrap is not None:  # base64's 76 is wider; 64 (openssl) means the most line breaks
        encoded = wrap.join(encoded[i : i + 64] for i in range(0, len(encoded), 64)) + wrap
    payload = {
        "file_name": NON_BMP_LETTER * MAX_FILE_NAME_CHARS,
        "comment": (NON_BMP_LETTER + NON_BMP_SYMBOL) * (MAX_COMMENT_CHARS // 2),
        "file_data": encoded,
    }
    content = json.dumps(payload).encode()  # ensure_ascii=True: the default
    assert json.dumps(NON_BMP_LETTER) == '"\\ud840\\udc00"'  # 12 bytes inside the quotes
    assert len(content) > 12 * (MAX_FILE_NAME_CHARS + MAX_COMMENT_CHARS)

    response = api_small_limit.client.post(
        "/upload",
        content=content,
        headers={**api_small_limit.auth(), "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    result = response.json()
    assert result["size_bytes"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    [item] = items(api_small_limit)
    # Sanitised: the name is cut to 200 bytes of UTF-8 (50 four-byte letters).
    assert item["file_name"] == {"S": NON_BMP_LETTER * 50}
    assert item["comment"] == {"S": payload["comment"]}


@pytest.mark.parametrize("max_upload_bytes", [1, 1024, 4 * 1024 * 1024])
def test_body_limit_holds_the_largest_escaped_body_for_any_limit(max_upload_bytes: int) -> None:
    # Everything but the Base64: the longest name and comment, every character 12 bytes.
    envelope = json.dumps(
        {
            "file_name": NON_BMP_LETTER * MAX_FILE_NAME_CHARS,
            "comment": NON_BMP_SYMBOL * MAX_COMMENT_CHARS,
            "file_data": "",
        }
    )
    encoded = encoded_length(max_upload_bytes)
    escaped_crlf_breaks = -(-encoded // 64) * len(json.dumps("\r\n").strip('"'))
    assert body_limit(max_upload_bytes) >= len(envelope) + encoded + escaped_crlf_breaks


def test_oversized_body_is_refused_before_reading(api_small_limit: Api) -> None:
    headers = {**api_small_limit.auth(), "Content-Type": "application/json"}
    response = api_small_limit.client.post(
        "/upload", content=b"{" + b" " * 40_000 + b"}", headers=headers
    )
    assert response.status_code == 413
    assert error_of(response) == "payload_too_large"


def test_object_write_failure_leaves_nothing_behind(api: Api) -> None:
    client("s3").delete_bucket(Bucket=api.resources.bucket)

    response = api.client.post("/upload", json=body(), headers=api.auth())

    assert response.status_code == 503
    assert error_of(response) == "service_unavailable"
    assert items(api) == []


def test_metadata_write_failure_removes_the_object(api: Api) -> None:
    client("dynamodb").delete_table(TableName=api.resources.table)

    response = api.client.post("/upload", json=body(), headers=api.auth())

    assert response.status_code == 503
    assert error_of(response) == "service_unavailable"
    # The exact version is deleted, so not even a delete marker or old version remains.
    assert object_versions(api) == []


def test_unauthenticated_upload_is_a_401(api: Api) -> None:
    response = api.client.post("/upload", json=body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert items(api) == []


def test_logs_carry_the_request_id_but_never_the_token_or_the_file(api: Api) -> None:
    # Capture exactly what Lambda would ship: the Powertools JSON formatter at emit time.
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(handler)
    logger.setLevel("INFO")
    try:
        secret_content = b"top secret file content 0123456789"
        headers = api.auth()
        response = api.client.post("/upload", json=body(secret_content), headers=headers)
        assert response.status_code == 201
        api.client.get("/uploads", headers={"Authorization": "Bearer x.y.z"})
    finally:
        logger.setLevel("WARNING")
        std_logger.removeHandler(handler)

    logs = output.getvalue()
    records = [json.loads(line) for line in logs.splitlines()]
    assert any(record.get("message") == "file stored" for record in records)
    assert any(record.get("request_id") == response.headers["x-request-id"] for record in records)
    assert headers["Authorization"] not in logs
    assert headers["Authorization"].split(".")[1] not in logs
    assert base64.b64encode(secret_content).decode() not in logs
    assert secret_content.decode() not in logs


class LostAnswerDynamoDB:
    """Commits the transaction, then answers as the SDK's retry would: condition failed.

    Between the two, the pipeline has already processed the item.
    """

    def __init__(self, real: Any) -> None:
        self._real = real

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._real.transact_write_items(**kwargs)
        put = kwargs["TransactItems"][0]["Put"]
        self._real.update_item(
            TableName=put["TableName"],
            Key={"file_id": put["Item"]["file_id"]},
            UpdateExpression="SET #status = :processed, updated_at = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":processed": {"S": "PROCESSED"},
                ":now": {"S": "2099-01-01T00:00:00.000000Z"},
            },
        )
        kwargs.pop("ClientRequestToken")  # moto would not honour it anyway: a plain retry
        return self._real.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_retried_metadata_write_that_had_committed_is_a_success(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = deps.get_upload_service(api.client.app.state.settings)  # type: ignore[attr-defined]
    monkeypatch.setattr(service, "_dynamodb", LostAnswerDynamoDB(service._dynamodb))

    response = api.client.post("/upload", json=body(), headers=api.auth())

    assert response.status_code == 201
    [item] = items(api)
    assert item["file_id"] == {"S": response.json()["file_id"]}
    assert len(object_versions(api)) == 1
