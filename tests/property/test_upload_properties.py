"""Properties of the upload path that must hold for every input."""

import base64
import binascii
import contextlib
import hashlib
import json
import unicodedata
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import event, example, given
from hypothesis import strategies as st
from moto import mock_aws

from tests.support.api import ALICE, BOB, Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.strategies import (
    OWN,
    OWN_PREFIX,
    cursors,
    file_bytes,
    file_data_texts,
    file_names,
    forged_locations,
    header_values,
    json_values,
    limits,
    path_segments,
    query_texts,
)
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.core.domain import FileTooLargeError, InvalidUploadError
from upload_api.core.files import MAX_NAME_BYTES, decode_base64_strict, sanitise_file_name
from upload_api.main import create_app
from upload_contract import object_key

FILE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture(scope="module")
def module_api(jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    # One moto world for the module: hypothesis runs many examples per test.
    with mock_aws():
        resources = create_upload_resources()
        app = create_app(app_settings(resources, jwks_server.url))
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield Api(client=test_client, resources=resources, issuer=token_issuer)


@given(file_names)
@example(". 0")  # found by the fuzz profile: a dot, then a blank, must not lead the name
def test_any_name_stays_inside_the_callers_prefix(raw: str) -> None:
    try:
        name = sanitise_file_name(raw)
    except InvalidUploadError:
        return
    key = object_key(ALICE, FILE_ID, name)
    prefix = f"uploads/{ALICE}/{FILE_ID}/"
    assert key.startswith(prefix)
    assert "/" not in name
    assert "\\" not in name
    assert ".." not in name
    assert not name.startswith((".", " "))
    assert not any(unicodedata.category(char)[0] == "C" for char in name)
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert len(key.encode()) <= 1024  # S3's key limit
    assert name == unicodedata.normalize("NFC", name)


@given(file_names)
# Format characters between a letter and its combining mark: removing them
# once left a name that was no longer NFC, and so not its own sanitised form.
@example("e\u200b\u0301.txt")
@example("x\ufeff\u0308")
@example("A\u0000\u030a")
@example("\u1100\u200b\u1161")
def test_sanitising_is_idempotent(raw: str) -> None:
    """A stored name sanitises to itself: the API re-derives keys from stored names."""
    try:
        name = sanitise_file_name(raw)
    except InvalidUploadError:
        return
    assert sanitise_file_name(name) == name


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=40))
def test_letters_and_digits_survive_sanitising(word: str) -> None:
    assert sanitise_file_name(f"{word}.txt") == unicodedata.normalize("NFC", f"{word}.txt")


@given(file_bytes)
def test_base64_round_trip_is_exact(data: bytes) -> None:
    assert decode_base64_strict(base64.b64encode(data), 4096) == data


@given(st.text(max_size=64))
def test_decoder_never_crashes(text: str) -> None:
    # A refusal the edge turns into a 4xx is fine; any other exception fails the test.
    with contextlib.suppress(InvalidUploadError, FileTooLargeError):
        decode_base64_strict(text.encode("ascii", errors="replace"), 4096)


@given(data=file_bytes, name=file_names)
def test_any_bytes_reach_s3_with_the_same_sha256(module_api: Api, data: bytes, name: str) -> None:
    payload = {"file_name": name, "file_data": base64.b64encode(data).decode()}
    response = module_api.client.post("/upload", json=payload, headers=module_api.auth())
    if response.status_code == 400:
        assert response.json()["error"] == "invalid_file_name"
        return
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    key = result["s3_path"].removeprefix(f"s3://{module_api.resources.bucket}/")
    stored = client("s3").get_object(Bucket=module_api.resources.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == result["sha256"]


@given(body=json_values)
def test_any_json_body_is_answered_without_a_5xx(module_api: Api, body: Any) -> None:
    response = module_api.client.post(
        "/upload",
        content=json.dumps(body).encode(),
        headers={**module_api.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code < 500
    assert "error" in response.json() or response.status_code == 201


@given(
    headers=st.dictionaries(
        st.sampled_from(
            ["Authorization", "Content-Type", "Content-Length", "X-Amzn-Request-Context", "Cookie"]
        ),
        header_values,
        max_size=4,
    ),
    body=st.binary(max_size=256),
)
def test_any_header_set_is_answered_without_a_5xx(
    module_api: Api, headers: dict[str, str], body: bytes
) -> None:
    for method, path in (("POST", "/upload"), ("GET", "/uploads"), ("GET", f"/uploads/{FILE_ID}")):
        response = module_api.client.request(method, path, content=body, headers=headers)
        assert response.status_code < 500, (method, path, headers)
        assert "error" in response.json()


BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@given(data=st.binary(min_size=1, max_size=64), last=st.sampled_from(BASE64_ALPHABET))
def test_only_canonical_base64_is_accepted(data: bytes, last: str) -> None:
    # Swap the last data character: with padding present this often sets stray bits.
    encoded = base64.b64encode(data).decode()
    stem = encoded.rstrip("=")
    text = stem[:-1] + last + encoded[len(stem) :]
    try:
        decoded = decode_base64_strict(text.encode("ascii", errors="replace"), 4096)
    except InvalidUploadError:
        return
    assert base64.b64encode(decoded).decode() == text


def strict_reference(text: str) -> bytes | None:
    """What the standard library accepts as canonical padded Base64, or None."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        return None
    return data if data and base64.b64encode(data).decode() == text else None


@given(st.text(alphabet=BASE64_ALPHABET + "=-_ \n\u00e9", max_size=24))
@example("aGk=aGk=")
@example("aGVsbG8=====")
@example("QR==")
def test_the_fast_decoder_accepts_exactly_the_canonical_base64_the_stdlib_does(
    text: str,
) -> None:
    expected = strict_reference(text)
    for form in (text, text.encode("ascii", errors="replace")):
        try:
            decoded: bytes | None = decode_base64_strict(form, 4096)
        except InvalidUploadError:
            decoded = None
        assert decoded == expected, form


def assert_answered_in_the_error_shape(response: Any) -> None:
    """No input earns a 5xx; every refusal is JSON with an `error` code."""
    assert response.status_code < 500, (response.status_code, response.text)
    if not 200 <= response.status_code < 300:
        body = response.json()
        assert isinstance(body, dict), body
        assert isinstance(body.get("error"), str), body


DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 1530).decode()


@given(cursor=cursors(ALICE), limit=st.none() | st.integers(min_value=1, max_value=100))
@example(cursor=DEEP_CURSOR, limit=None)  # RecursionError in json.loads was a 500
@example(cursor=base64.urlsafe_b64encode(b'{"a":' + b"[" * 1500).decode(), limit=5)
@example(cursor="A" * 2049, limit=None)
def test_any_cursor_is_a_page_or_a_400_invalid_cursor(
    module_api: Api, cursor: str, limit: int | None
) -> None:
    params: dict[str, Any] = {"cursor": cursor} | ({"limit": limit} if limit else {})
    response = module_api.client.get("/uploads", params=params, headers=module_api.auth())
    assert_answered_in_the_error_shape(response)
    assert response.status_code in {200, 400}, response.text
    if response.status_code == 400:
        assert response.json()["error"] == "invalid_cursor"


@given(limit=limits, cursor=st.none() | query_texts)
def test_any_listing_query_is_answered_without_a_5xx(
    module_api: Api, limit: str, cursor: str | None
) -> None:
    params = {"limit": limit} | ({"cursor": cursor} if cursor is not None else {})
    response = module_api.client.get("/uploads", params=params, headers=module_api.auth())
    assert_answered_in_the_error_shape(response)


@given(segment=path_segments, query=st.none() | query_texts)
@example(segment="%00", query=None)
@example(segment="%2e%2e", query=None)
@example(segment="%ED%A0%80", query=None)  # a lone surrogate, UTF-8 encoded
def test_any_file_id_segment_is_answered_without_a_5xx(
    module_api: Api, segment: str, query: str | None
) -> None:
    params = {"junk": query} if query is not None else None
    response = module_api.client.get(
        f"/uploads/{segment}", params=params, headers=module_api.auth()
    )
    assert_answered_in_the_error_shape(response)


@given(
    file_name=st.one_of(file_names, st.text(max_size=1100)),
    comment=st.one_of(st.none(), st.text(max_size=1100)),
    file_data=file_data_texts,
    query=st.none() | query_texts,
)
def test_any_upload_fields_are_answered_without_a_5xx(
    module_api: Api, file_name: str, comment: str | None, file_data: str, query: str | None
) -> None:
    payload = {"file_name": file_name, "file_data": file_data} | (
        {"comment": comment} if comment is not None else {}
    )
    response = module_api.client.post(
        "/upload",
        json=payload,
        params={"junk": query} if query is not None else None,
        headers=module_api.auth(),
    )
    assert_answered_in_the_error_shape(response)


HEX = "0123456789abcdefABCDEF"
_valid_starts = st.fixed_dictionaries(
    {
        "file_name": file_names,
        # Around the 5 GiB limit on both sides.
        "size_bytes": st.integers(0, 6 * 2**30),
        "sha256": st.text(HEX, min_size=64, max_size=64),
    },
    optional={"comment": st.text(max_size=1100)},
)
_fields = st.sampled_from(["file_name", "size_bytes", "sha256", "comment", "extra"])
# A start as a client would send it, or with one field replaced by any JSON, or missing.
start_requests = (
    _valid_starts
    | st.tuples(_valid_starts, _fields, json_values).map(lambda t: {**t[0], t[1]: t[2]})
    | st.tuples(_valid_starts, _fields).map(lambda t: {k: v for k, v in t[0].items() if k != t[1]})
    | json_values
)


def _count(table: str) -> int:
    return int(client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


@given(body=start_requests)
def test_any_direct_upload_start_is_a_pending_upload_or_a_json_4xx(
    module_api: Api, body: Any
) -> None:
    pending, files = module_api.resources.pending_table, module_api.resources.table
    before = (_count(pending), _count(files))
    response = module_api.client.post(
        "/uploads",
        content=json.dumps(body).encode(),
        headers={**module_api.auth(), "Content-Type": "application/json"},
    )

    event(f"HTTP {response.status_code}")
    if response.status_code == 201:
        assert response.json()["status"] == "PENDING_UPLOAD"
        assert (_count(pending), _count(files)) == (before[0] + 1, before[1])
    else:
        assert 400 <= response.status_code < 500, response.text
        assert "error" in response.json()
        assert (_count(pending), _count(files)) == before  # nothing half-written


quota_steps = st.lists(
    st.one_of(
        st.tuples(st.just("upload"), st.integers(1, 400)),
        st.tuples(st.just("delete"), st.integers(0, 10)),
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def quota_api(module_api: Api, jwks_server: JwksServer) -> Iterator[Api]:
    """The module's moto world, with a small quota (each example uses a user of its own)."""
    resources = module_api.resources
    settings = app_settings(resources, jwks_server.url, max_user_bytes=1000, max_user_files=4)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield Api(client=test_client, resources=resources, issuer=module_api.issuer)


@given(steps=quota_steps)
def test_the_usage_counter_is_the_sum_of_the_files_kept_and_stays_within_the_quota(
    quota_api: Api, steps: list[tuple[str, int]]
) -> None:
    sub = str(uuid.uuid4())
    kept: list[tuple[str, int]] = []
    for action, value in steps:
        if action == "upload":
            data = b"q" * value
            response = quota_api.client.post(
                "/upload",
                json={"file_name": "q.bin", "file_data": base64.b64encode(data).decode()},
                headers=quota_api.auth(sub),
            )
            fits = sum(s for _, s in kept) + value <= 1000 and len(kept) < 4
            assert response.status_code == (201 if fits else 403), response.text
            if fits:
                kept.append((response.json()["file_id"], value))
        elif kept:
            file_id, _ = kept.pop(value % len(kept))
            deleted = quota_api.client.delete(f"/uploads/{file_id}", headers=quota_api.auth(sub))
            assert deleted.status_code == 204
    item = (
        client("dynamodb")
        .get_item(TableName=quota_api.resources.usage_table, Key={"owner": {"S": sub}})
        .get("Item", {})
    )
    assert int(item.get("bytes", {}).get("N", 0)) == sum(s for _, s in kept)
    assert int(item.get("files", {}).get("N", 0)) == len(kept)


# ------------------------------------------------------------------ finding 2 of the review


def _versions(api: Api, prefix: str) -> list[tuple[str, str]]:
    listing = client("s3").list_object_versions(Bucket=api.resources.bucket, Prefix=prefix)
    entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    return sorted((v["Key"], v["VersionId"]) for v in entries)


@pytest.fixture(scope="module")
def victim(module_api: Api) -> tuple[str, list[tuple[str, str]]]:
    """Bob's file (two versions and a delete marker): its key and every version under it."""
    payload = {"file_name": "secret.txt", "file_data": base64.b64encode(b"bob's").decode()}
    created = module_api.client.post("/upload", json=payload, headers=module_api.auth(BOB))
    key = created.json()["s3_path"].split("/", 3)[3]
    client("s3").put_object(Bucket=module_api.resources.bucket, Key=key, Body=b"v2")
    client("s3").delete_object(Bucket=module_api.resources.bucket, Key=key)
    return key, _versions(module_api, key.rsplit("/", 1)[0] + "/")


@given(data=st.data())
def test_no_forged_location_leads_to_another_users_bytes(
    module_api: Api, victim: tuple[str, list[tuple[str, str]]], data: st.DataObject
) -> None:
    """Any rewrite of an item's bucket, key or name: the item is refused (no URL, nothing
    deleted), unless it still names exactly the location the API derives itself."""
    victim_key, victim_versions = victim
    bucket = module_api.resources.bucket
    payload = {"file_name": "mine.txt", "file_data": base64.b64encode(b"alice's").decode()}
    mine = module_api.client.post("/upload", json=payload, headers=module_api.auth()).json()
    file_id = mine["file_id"]
    own_key = object_key(ALICE, file_id, "mine.txt")
    forged = {
        name: value.replace(OWN, own_key).replace(OWN_PREFIX, f"uploads/{ALICE}/{file_id}/")
        for name, value in data.draw(forged_locations(victim_key, bucket)).items()
    }
    item = {"bucket": bucket, "s3_key": own_key, "file_name": "mine.txt", **forged}
    names = {f"#n{i}": name for i, name in enumerate(item)}
    values = {f":v{i}": {"S": value} for i, value in enumerate(item.values())}
    client("dynamodb").update_item(
        TableName=module_api.resources.table,
        Key={"file_id": {"S": file_id}},
        UpdateExpression="SET #s = :processed, scanned_version_id = :version, "
        + ", ".join(f"#n{i} = :v{i}" for i in range(len(item))),
        ExpressionAttributeNames={"#s": "status", **names},
        ExpressionAttributeValues={
            ":processed": {"S": "PROCESSED"},
            ":version": {"S": victim_versions[0][1]},
            **values,
        },
    )
    try:
        derived = object_key(ALICE, file_id, item["file_name"])
    except ValueError:
        derived = None
    honest = (
        item["bucket"] == bucket
        and item["s3_key"] == derived
        and sanitise_file_name(item["file_name"]) == item["file_name"]
    )
    event("honest" if honest else "forged")

    shown = module_api.client.get(f"/uploads/{file_id}", headers=module_api.auth())
    deleted = module_api.client.delete(f"/uploads/{file_id}", headers=module_api.auth())

    if honest:
        assert shown.status_code == 200, shown.text
        url = shown.json()["download_url"]
        assert f"/uploads/{ALICE}/{file_id}/" in urllib.parse.unquote(url)
        assert deleted.status_code == 204
    else:
        assert (shown.status_code, shown.json()["error"]) == (404, "not_found")
        assert (deleted.status_code, deleted.json()["error"]) == (404, "not_found")
    assert _versions(module_api, victim_key.rsplit("/", 1)[0] + "/") == victim_versions


# ------------------------------------------------------------------ finding 5 of the review

direct_steps = st.lists(
    st.one_of(
        st.tuples(st.just("upload"), st.integers(1, 400)),
        st.tuples(st.just("start"), st.integers(0, 400)),
        st.tuples(st.sampled_from(["complete", "abort", "delete"]), st.integers(0, 10)),
    ),
    max_size=12,
)


@given(steps=direct_steps)
def test_the_usage_counter_is_the_files_kept_plus_the_uploads_pending(
    quota_api: Api, steps: list[tuple[str, int]]
) -> None:
    """Whatever the mix of uploads, direct starts, completions, aborts and deletes, the
    counter is exactly the files kept plus the direct uploads still pending, and never
    more than the quota: started uploads cannot hold more than the quota."""
    sub = str(uuid.uuid4())
    auth = quota_api.auth(sub)
    kept: list[tuple[str, int]] = []
    pending: list[tuple[dict[str, Any], int]] = []
    for action, value in steps:
        room = sum(s for _, s in kept) + sum(s for _, s in pending) + value <= 1000
        fits = room and len(kept) + len(pending) < 4
        if action == "upload":
            data = b"q" * value
            response = quota_api.client.post(
                "/upload",
                json={"file_name": "q.bin", "file_data": base64.b64encode(data).decode()},
                headers=auth,
            )
            assert response.status_code == (201 if fits else 403), response.text
            if fits:
                kept.append((response.json()["file_id"], value))
        elif action == "start":
            data = b"d" * value
            response = quota_api.client.post(
                "/uploads",
                json={
                    "file_name": "d.bin",
                    "size_bytes": value,
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
                headers=auth,
            )
            assert response.status_code == (201 if fits else 403), response.text
            if fits:
                pending.append((response.json(), value))
        elif action in {"complete", "abort"} and pending:
            started, size = pending.pop(value % len(pending))
            file_id = started["file_id"]
            if action == "complete":
                key = started["s3_path"].split("/", 3)[3]
                client("s3").put_object(
                    Bucket=quota_api.resources.bucket, Key=key, Body=b"d" * size
                )
                done = quota_api.client.post(f"/uploads/{file_id}/complete", headers=auth)
                assert done.status_code == 200, done.text
                kept.append((file_id, size))
            else:
                gone = quota_api.client.delete(f"/uploads/{file_id}", headers=auth)
                assert gone.status_code == 204
        elif action == "delete" and kept:
            file_id, _ = kept.pop(value % len(kept))
            assert quota_api.client.delete(f"/uploads/{file_id}", headers=auth).status_code == 204
    item = (
        client("dynamodb")
        .get_item(TableName=quota_api.resources.usage_table, Key={"owner": {"S": sub}})
        .get("Item", {})
    )
    counted = int(item.get("bytes", {}).get("N", 0)), int(item.get("files", {}).get("N", 0))
    expected = sum(s for _, s in kept) + sum(s for _, s in pending), len(kept) + len(pending)
    assert counted == expected
    assert counted[0] <= 1000
    reserved = sum(int(v["N"]) for k, v in item.items() if k.startswith("reserved_bytes_"))
    assert reserved == sum(s for _, s in pending)
