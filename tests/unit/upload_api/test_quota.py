"""The per-user quota: refused with 403 quota_exceeded, nothing half-written, space given back."""

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.devstack.emulator import install_extensions
from tests.support.api import ALICE, BOB, Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api import direct_uploads, service
from upload_api.api import deps
from upload_api.core.domain import QuotaExceededError
from upload_api.main import create_app
from upload_api.quota import BUCKET_GRACE_SECONDS, BUCKET_SECONDS

LIMIT_BYTES, LIMIT_FILES = 1000, 3


@pytest.fixture
def small_quota(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    resources = create_upload_resources()
    settings = app_settings(
        resources, jwks_server.url, max_user_bytes=LIMIT_BYTES, max_user_files=LIMIT_FILES
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield Api(client=test_client, resources=resources, issuer=token_issuer)


def post(api: Api, data: bytes, sub: str = ALICE) -> Any:
    return api.client.post(
        "/upload",
        json={"file_name": "f.bin", "file_data": base64.b64encode(data).decode()},
        headers=api.auth(sub),
    )


def usage(api: Api, sub: str = ALICE) -> tuple[int, int]:
    item = (
        client("dynamodb")
        .get_item(
            TableName=api.resources.usage_table, Key={"owner": {"S": sub}}, ConsistentRead=True
        )
        .get("Item", {})
    )
    return int(item.get("bytes", {}).get("N", 0)), int(item.get("files", {}).get("N", 0))


def stored_objects(api: Api) -> int:
    return len(client("s3").list_object_versions(Bucket=api.resources.bucket).get("Versions", []))


def test_bytes_over_the_quota_are_refused_and_nothing_stays(small_quota: Api) -> None:
    assert post(small_quota, b"a" * 600).status_code == 201

    refused = post(small_quota, b"b" * 401)

    assert refused.status_code == 403
    assert refused.json()["error"] == "quota_exceeded"
    assert usage(small_quota) == (600, 1)
    assert stored_objects(small_quota) == 1
    assert post(small_quota, b"c" * 400).status_code == 201  # exactly up to the limit
    assert usage(small_quota) == (1000, 2)


def test_a_file_larger_than_the_whole_quota_never_reaches_s3(small_quota: Api) -> None:
    refused = post(small_quota, b"x" * (LIMIT_BYTES + 1))

    assert refused.status_code == 403
    assert stored_objects(small_quota) == 0


def test_the_file_count_is_limited_and_deletion_gives_the_space_back(small_quota: Api) -> None:
    ids = [post(small_quota, b"%d" % n).json()["file_id"] for n in range(LIMIT_FILES)]
    assert post(small_quota, b"one too many").status_code == 403

    assert (
        small_quota.client.delete(f"/uploads/{ids[0]}", headers=small_quota.auth()).status_code
        == 204
    )

    assert usage(small_quota) == (2, 2)
    assert post(small_quota, b"fits again").status_code == 201


def test_quotas_are_per_user(small_quota: Api) -> None:
    for n in range(LIMIT_FILES):
        assert post(small_quota, b"%d" % n).status_code == 201

    assert post(small_quota, b"bob's first", sub=BOB).status_code == 201
    assert usage(small_quota, BOB) == (len(b"bob's first"), 1)


def test_concurrent_uploads_never_exceed_the_quota(small_quota: Api) -> None:
    """DynamoDB checks the counter's condition atomically: exactly LIMIT_FILES win."""
    install_extensions()  # moto's transactions made atomic, as DynamoDB's are (tests/README.md)
    service = deps.get_upload_service(small_quota.client.app.state.settings)  # type: ignore[attr-defined]
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def upload(n: int) -> None:
        start.wait()
        try:
            service.create(ALICE, f"f{n}.bin", "", b"%d" % n)
            outcomes.append("stored")
        except QuotaExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["refused"] * 5 + ["stored"] * LIMIT_FILES
    assert usage(small_quota)[1] == LIMIT_FILES
    assert stored_objects(small_quota) == LIMIT_FILES


def test_a_direct_upload_over_the_quota_is_refused_at_start(small_quota: Api) -> None:
    data = b"z" * (LIMIT_BYTES + 1)
    refused = small_quota.client.post(
        "/uploads",
        json={
            "file_name": "big.bin",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=small_quota.auth(),
    )

    assert refused.status_code == 403
    assert refused.json()["error"] == "quota_exceeded"


def start(api: Api, size: int, sub: str = ALICE) -> Any:
    data = b"s" * size
    return api.client.post(
        "/uploads",
        json={
            "file_name": "direct.bin",
            "size_bytes": size,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=api.auth(sub),
    )


@pytest.fixture
def one_mib_quota(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    resources = create_upload_resources()
    settings = app_settings(resources, jwks_server.url, max_user_bytes=1024 * 1024)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield Api(client=test_client, resources=resources, issuer=token_issuer)


def test_started_direct_uploads_hold_their_room(one_mib_quota: Api) -> None:
    """Finding 5 of the review: with a 1 MiB quota, four 600 KB uploads all started. Now a
    start reserves its bytes and one file: the second is refused."""
    answers = [start(one_mib_quota, 600 * 1000) for _ in range(4)]

    assert [a.status_code for a in answers] == [201, 403, 403, 403]
    assert {a.json()["error"] for a in answers[1:]} == {"quota_exceeded"}
    assert usage(one_mib_quota) == (600 * 1000, 1)
    room = 1024 * 1024 - 600 * 1000
    assert post(one_mib_quota, b"j" * (room + 1)).status_code == 403  # the JSON path sees it
    assert post(one_mib_quota, b"j" * room).status_code == 201


def test_a_reservation_becomes_the_file_and_goes_back_with_abort_or_delete(
    small_quota: Api,
) -> None:
    kept, aborted = start(small_quota, 300).json(), start(small_quota, 200).json()
    assert usage(small_quota) == (500, 2)
    key = kept["s3_path"].split("/", 3)[3]
    client("s3").put_object(Bucket=small_quota.resources.bucket, Key=key, Body=b"s" * 300)

    completed = small_quota.client.post(
        f"/uploads/{kept['file_id']}/complete", headers=small_quota.auth()
    )
    cancelled = small_quota.client.delete(
        f"/uploads/{aborted['file_id']}", headers=small_quota.auth()
    )

    assert (completed.status_code, cancelled.status_code) == (200, 204)
    assert usage(small_quota) == (300, 1)  # counted once, as the file
    again = small_quota.client.delete(f"/uploads/{aborted['file_id']}", headers=small_quota.auth())
    assert again.status_code == 404  # gone, and a repeated abort gives nothing back twice
    assert usage(small_quota) == (300, 1)
    assert (
        small_quota.client.delete(
            f"/uploads/{kept['file_id']}", headers=small_quota.auth()
        ).status_code
        == 204
    )
    assert usage(small_quota) == (0, 0)


class Clock:
    """time.time() for the code under test, moved on by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(direct_uploads, "time", fake)
    monkeypatch.setattr(service, "time", fake)
    return fake


def test_an_expired_reservation_goes_back_at_the_next_start(small_quota: Api, clock: Clock) -> None:
    abandoned = start(small_quota, 900)
    assert abandoned.status_code == 201
    assert start(small_quota, 900).status_code == 403
    # The pending record expires after a day; its hour bucket an hour and a grace later.
    clock.now += 86_400 + BUCKET_SECONDS + BUCKET_GRACE_SECONDS

    again = start(small_quota, 900)

    assert again.status_code == 201, again.text
    assert usage(small_quota) == (900, 1)
    item = client("dynamodb").get_item(
        TableName=small_quota.resources.usage_table, Key={"owner": {"S": ALICE}}
    )["Item"]
    assert len([name for name in item if name.startswith("reserved_bytes_")]) == 1


def test_an_expired_reservation_goes_back_for_a_json_upload(small_quota: Api, clock: Clock) -> None:
    assert start(small_quota, 900).status_code == 201
    assert post(small_quota, b"j" * 500).status_code == 403
    clock.now += 86_400 + BUCKET_SECONDS + BUCKET_GRACE_SECONDS

    assert post(small_quota, b"j" * 500).status_code == 201
    assert usage(small_quota) == (500, 1)
    assert stored_objects(small_quota) == 1


def test_an_abandoned_upload_is_not_given_back_before_its_record_expires(
    small_quota: Api, clock: Clock
) -> None:
    assert start(small_quota, 900).status_code == 201
    clock.now += 86_400 - 60

    assert start(small_quota, 900).status_code == 403
    assert usage(small_quota) == (900, 1)
