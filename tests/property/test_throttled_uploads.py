"""Whichever AWS call of an upload, a direct upload or a delete is throttled, and however:
the answer is the request's success or a 503 `throttled` with Retry-After (never a 500),
and nothing is half-written. A retry of the refused request then succeeds."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from tests.support.api import Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.aws_throttling import THROTTLES, Throttle, nth_call, stored, throttling
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.main import RETRY_AFTER_SECONDS, create_app

# More than any of these requests makes: some examples throttle nothing.
calls = st.integers(min_value=0, max_value=12)
throttles = st.sampled_from(THROTTLES)


@pytest.fixture(scope="module")
def module_api(jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    # One moto world for the module; each example is a user of its own.
    with mock_aws():
        resources = create_upload_resources()
        app = create_app(app_settings(resources, jwks_server.url))
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield Api(client=test_client, resources=resources, issuer=token_issuer)


def answered(response: Any, success: int) -> bool:
    """True for the success; a refusal must be the throttled 503."""
    if response.status_code == success:
        return True
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "throttled"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    return False


def check(api: Api, owner: str) -> None:
    stored(client, api.resources, owner).check()


@given(n=calls, throttle=throttles)
def test_a_throttled_post_upload_stores_all_or_nothing(
    module_api: Api, n: int, throttle: Throttle
) -> None:
    owner = str(uuid.uuid4())
    payload = {"file_name": "f.txt", "file_data": base64.b64encode(b"bytes").decode()}

    with throttling(nth_call(n, throttle)):
        response = module_api.client.post("/upload", json=payload, headers=module_api.auth(owner))

    stored_now = stored(client, module_api.resources, owner)
    stored_now.check()
    if answered(response, 201):
        assert set(stored_now.items) == {response.json()["file_id"]}
    else:
        assert stored_now.items == {}


@given(n=calls, throttle=throttles)
def test_a_throttled_direct_upload_can_always_be_retried_to_completion(
    module_api: Api, n: int, throttle: Throttle
) -> None:
    owner, data = str(uuid.uuid4()), b"direct bytes"
    request = {
        "file_name": "d.bin",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    auth = module_api.auth(owner)

    with throttling(nth_call(n, throttle)):
        started = module_api.client.post("/uploads", json=request, headers=auth)
    check(module_api, owner)
    if not answered(started, 201):
        assert stored(client, module_api.resources, owner).pending == {}
        started = module_api.client.post("/uploads", json=request, headers=auth)
    file_id, key = started.json()["file_id"], started.json()["s3_path"].split("/", 3)[3]
    client("s3").put_object(Bucket=module_api.resources.bucket, Key=key, Body=data)
    complete = f"/uploads/{file_id}/complete"

    with throttling(nth_call(n, throttle)):
        completed = module_api.client.post(complete, headers=auth)
    check(module_api, owner)
    if not answered(completed, 200):
        assert module_api.client.post(complete, headers=auth).status_code == 200

    after = stored(client, module_api.resources, owner)
    assert after.items == {file_id: len(data)}
    after.check()


@given(n=calls, throttle=throttles)
def test_a_throttled_delete_is_finished_by_its_retry(
    module_api: Api, n: int, throttle: Throttle
) -> None:
    owner = str(uuid.uuid4())
    payload = {"file_name": "f.txt", "file_data": base64.b64encode(b"doomed").decode()}
    auth = module_api.auth(owner)
    file_id = module_api.client.post("/upload", json=payload, headers=auth).json()["file_id"]

    with throttling(nth_call(n, throttle)):
        deleted = module_api.client.delete(f"/uploads/{file_id}", headers=auth)
    if not answered(deleted, 204):
        assert module_api.client.delete(f"/uploads/{file_id}", headers=auth).status_code == 204

    after = stored(client, module_api.resources, owner)
    assert (after.objects, after.items, after.usage) == (frozenset(), {}, (0, 0))
