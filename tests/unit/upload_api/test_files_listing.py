"""GET /uploads and GET /uploads/{file_id}: own files only, newest first, paginated."""

import base64
import json
import urllib.parse

import pytest

from tests.support.api import ALICE, BOB, Api
from tests.support.aws import client


def upload(api: Api, name: str, sub: str = ALICE) -> str:
    payload = {"file_name": name, "file_data": base64.b64encode(name.encode()).decode()}
    response = api.client.post("/upload", json=payload, headers=api.auth(sub))
    assert response.status_code == 201
    return str(response.json()["file_id"])


def test_listing_is_newest_first_and_paginates(api: Api) -> None:
    ids = [upload(api, f"file-{n}.txt") for n in range(5)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = api.client.get("/uploads", params=params, headers=api.auth())
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["file_id"] for item in page["items"]]
        pages += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert pages >= 3


def test_users_see_only_their_own_files(api: Api) -> None:
    alice_file = upload(api, "alice.txt", ALICE)
    bob_file = upload(api, "bob.txt", BOB)

    alice = api.client.get("/uploads", headers=api.auth(ALICE)).json()
    bob = api.client.get("/uploads", headers=api.auth(BOB)).json()
    assert [item["file_id"] for item in alice["items"]] == [alice_file]
    assert [item["file_id"] for item in bob["items"]] == [bob_file]

    assert api.client.get(f"/uploads/{alice_file}", headers=api.auth(BOB)).status_code == 404
    assert api.client.get(f"/uploads/{bob_file}", headers=api.auth(ALICE)).status_code == 404


def test_another_users_cursor_is_refused(api: Api) -> None:
    upload(api, "a1.txt")
    upload(api, "a2.txt")
    cursor = api.client.get("/uploads", params={"limit": 1}, headers=api.auth(ALICE)).json()[
        "next_cursor"
    ]
    assert cursor

    response = api.client.get("/uploads", params={"cursor": cursor}, headers=api.auth(BOB))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_cursor"


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"file_id": "x"}).encode()).decode(),
        base64.urlsafe_b64encode(
            json.dumps({"file_id": "x", "owner": ALICE, "created_at": 5}).encode()
        ).decode(),
        # Well-formed JSON whose values DynamoDB would reject: still a 400, not a 5xx.
        base64.urlsafe_b64encode(
            json.dumps({"file_id": "", "owner": ALICE, "created_at": ""}).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps(
                {"file_id": "x", "owner": ALICE, "created_at": "2026-11-26T19:12:24.123456Z"}
            ).encode()
        ).decode(),
    ],
)
def test_malformed_cursor_is_a_400(api: Api, cursor: str) -> None:
    response = api.client.get("/uploads", params={"cursor": cursor}, headers=api.auth())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_cursor"


@pytest.mark.parametrize(
    "decoded",
    [
        b"[" * 1530,  # json.loads raised RecursionError: a 500
        b'{"a":' + b"[" * 1500,
        b'{"file_id": ' + b"[" * 1500,
        b"\xef\xbb\xbf" + b"[" * 1500,  # with a UTF-8 BOM, which json.loads skips
    ],
)
def test_deeply_nested_cursor_is_a_400_invalid_cursor(api: Api, decoded: bytes) -> None:
    cursor = base64.urlsafe_b64encode(decoded).decode()
    assert len(cursor) <= 2048  # within the length a cursor may have

    response = api.client.get("/uploads", params={"cursor": cursor}, headers=api.auth())

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_cursor",
        "message": "cursor is not valid for this listing",
        "request_id": response.headers["x-request-id"],
    }


def test_overlong_cursor_is_a_400_invalid_cursor(api: Api) -> None:
    response = api.client.get("/uploads", params={"cursor": "A" * 2049}, headers=api.auth())

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_out_of_range_is_a_422(api: Api, limit: int) -> None:
    response = api.client.get("/uploads", params={"limit": limit}, headers=api.auth())
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def mark(api: Api, file_id: str, status: str) -> None:
    """Set the status the pipeline would have recorded."""
    client("dynamodb").update_item(
        TableName=api.resources.table,
        Key={"file_id": {"S": file_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def scanned(api: Api, file_id: str) -> str:
    """Record the version the malware scan cleared, as the processor does with PROCESSED."""
    key = f"uploads/{ALICE}/{file_id}/report.txt"
    [version] = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=key)[
        "Versions"
    ]
    client("dynamodb").update_item(
        TableName=api.resources.table,
        Key={"file_id": {"S": file_id}},
        UpdateExpression="SET scanned_version_id = :v",
        ExpressionAttributeValues={":v": {"S": version["VersionId"]}},
    )
    return str(version["VersionId"])


def test_a_processed_file_comes_with_a_short_lived_download_url(api: Api) -> None:
    file_id = upload(api, "report.txt")
    version_id = scanned(api, file_id)
    mark(api, file_id, "PROCESSED")

    response = api.client.get(f"/uploads/{file_id}", headers=api.auth())

    assert response.status_code == 200
    detail = response.json()
    assert detail["file_id"] == file_id
    assert detail["status"] == "PROCESSED"
    assert detail["file_name"] == "report.txt"
    assert detail["download_url_expires_in"] == 300
    url = urllib.parse.urlparse(detail["download_url"])
    query = urllib.parse.parse_qs(url.query)
    assert url.path.endswith(f"/uploads/{ALICE}/{file_id}/report.txt")
    assert query["X-Amz-Expires"] == ["300"]
    assert query["versionId"] == [version_id]
    assert "X-Amz-Signature" in query
    # Served as a download, never rendered inline in the browser.
    assert query["response-content-disposition"][0].startswith('attachment; filename="report.txt"')


@pytest.mark.parametrize("status", ["UPLOADED", "FAILED"])
def test_a_file_not_verified_comes_without_a_download_url(api: Api, status: str) -> None:
    file_id = upload(api, "report.txt")
    mark(api, file_id, status)

    detail = api.client.get(f"/uploads/{file_id}", headers=api.auth()).json()

    assert detail["status"] == status
    assert "download_url" not in detail
    assert "download_url_expires_in" not in detail


@pytest.mark.parametrize(
    "file_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "x" * 300]
)
def test_unknown_file_is_a_404(api: Api, file_id: str) -> None:
    response = api.client.get(f"/uploads/{file_id}", headers=api.auth())
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unknown_route_uses_the_error_shape(api: Api) -> None:
    response = api.client.get("/nope")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "message", "request_id"}
    assert response.headers["x-request-id"] == response.json()["request_id"]


def test_api_gateway_request_id_is_reused(api: Api) -> None:
    context = json.dumps({"requestId": "Ab3dEf-GhIJkLM="})
    response = api.client.get("/health", headers={"x-amzn-request-context": context})
    assert response.headers["x-request-id"] == "Ab3dEf-GhIJkLM="


@pytest.mark.parametrize("request_id", ["x" * 65, "a b", "a\\nb", "<script>", ""])
def test_unsafe_request_ids_are_replaced(api: Api, request_id: str) -> None:
    context = json.dumps({"requestId": request_id})
    response = api.client.get("/health", headers={"x-amzn-request-context": context})
    assert response.headers["x-request-id"] != request_id
    assert len(response.headers["x-request-id"]) == 36


def test_delete_removes_every_version_and_the_item_and_then_it_is_gone(api: Api) -> None:
    file_id = upload(api, "report.txt")
    key = f"uploads/{ALICE}/{file_id}/report.txt"
    # A second version and a delete marker: every one must go.
    client("s3").put_object(Bucket=api.resources.bucket, Key=key, Body=b"v2")
    client("s3").delete_object(Bucket=api.resources.bucket, Key=key)

    first = api.client.delete(f"/uploads/{file_id}", headers=api.auth())
    second = api.client.delete(f"/uploads/{file_id}", headers=api.auth())

    assert first.status_code == 204
    assert second.status_code == 404  # idempotent in effect: nothing left to delete
    listing = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=key)
    assert "Versions" not in listing
    assert "DeleteMarkers" not in listing
    assert api.client.get(f"/uploads/{file_id}", headers=api.auth()).status_code == 404


def test_delete_removes_everything_under_the_files_prefix(api: Api) -> None:
    """Not only what the item names: every key, version, marker and open multipart
    upload under uploads/<sub>/<file_id>/."""
    file_id = upload(api, "report.txt")
    prefix = f"uploads/{ALICE}/{file_id}/"
    s3, bucket = client("s3"), api.resources.bucket
    s3.put_object(Bucket=bucket, Key=f"{prefix}stray.bin", Body=b"no item names it")
    s3.delete_object(Bucket=bucket, Key=f"{prefix}stray.bin")
    s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}report.txt")
    neighbour = upload(api, "neighbour.txt")

    assert api.client.delete(f"/uploads/{file_id}", headers=api.auth()).status_code == 204

    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    assert listing.get("Versions", []) == listing.get("DeleteMarkers", []) == []
    assert s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []) == []
    assert api.client.get(f"/uploads/{neighbour}", headers=api.auth()).status_code == 200


def test_another_users_file_cannot_be_deleted(api: Api) -> None:
    file_id = upload(api, "report.txt")

    response = api.client.delete(f"/uploads/{file_id}", headers=api.auth(BOB))

    assert response.status_code == 404
    assert api.client.get(f"/uploads/{file_id}", headers=api.auth()).status_code == 200
    versions = client("s3").list_object_versions(Bucket=api.resources.bucket)["Versions"]
    assert len(versions) == 1


def test_a_file_deleted_while_processing_is_not_written_back(api: Api) -> None:
    """The pipeline records only over UPLOADED: a deleted file's outcome finds no item."""
    file_id = upload(api, "report.txt")

    assert api.client.delete(f"/uploads/{file_id}", headers=api.auth()).status_code == 204
    with pytest.raises(client("dynamodb").exceptions.ConditionalCheckFailedException):
        client("dynamodb").update_item(
            TableName=api.resources.table,
            Key={"file_id": {"S": file_id}},
            UpdateExpression="SET #s = :processed",
            ConditionExpression="#s = :uploaded",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":processed": {"S": "PROCESSED"},
                ":uploaded": {"S": "UPLOADED"},
            },
        )
    assert client("dynamodb").scan(TableName=api.resources.table)["Items"] == []
