"""Line-wrapped Base64, as `base64` and `openssl base64` print it, is accepted; nothing else is.

The original usage guide sends `"file_data": "'"$(base64 -i file)"'"` with curl:
GNU base64 wraps at 76 columns, so the JSON string carries raw line breaks.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from tests.support.api import Api, app_settings
from tests.support.aws import client, create_upload_resources
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.core.domain import InvalidUploadError
from upload_api.core.files import WRAP_WIDTHS, decode_base64_strict, unwrap_base64
from upload_api.main import create_app

files = st.binary(min_size=1, max_size=600)
widths = st.sampled_from(WRAP_WIDTHS)
breaks = st.sampled_from(["\n", "\r\n"])


def wrap(data: bytes, width: int, line_break: str, *, trailing: bool) -> str:
    encoded = base64.b64encode(data).decode()
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)]
    return line_break.join(lines) + (line_break if trailing else "")


@pytest.fixture(scope="module")
def module_api(jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    with mock_aws():
        resources = create_upload_resources()
        app = create_app(app_settings(resources, jwks_server.url))
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield Api(client=test_client, resources=resources, issuer=token_issuer)


def stored_bytes(api: Api, s3_path: str) -> bytes:
    key = s3_path.removeprefix(f"s3://{api.resources.bucket}/")
    body: bytes = client("s3").get_object(Bucket=api.resources.bucket, Key=key)["Body"].read()
    return body


def raw_body(file_data: str) -> bytes:
    """The body exactly as the guide's curl sends it: file_data pasted in, unescaped."""
    return (
        '{\n  "file_name": "my-test-file.txt",\n  "comment": "This is a test file.",\n'
        f'  "file_data": "{file_data}"\n}}'
    ).encode()


@given(data=files, width=widths, line_break=breaks, trailing=st.booleans())
def test_unwrapping_gives_back_the_one_line_form(
    data: bytes, width: int, line_break: str, trailing: bool
) -> None:
    wrapped = wrap(data, width, line_break, trailing=trailing)
    assert unwrap_base64(wrapped) == base64.b64encode(data).decode()


@given(
    data=files,
    form=st.tuples(widths, breaks, st.booleans()),
    raw=st.booleans(),
)
def test_wrapped_and_unwrapped_forms_store_identical_objects(
    module_api: Api, data: bytes, form: tuple[int, str, bool], raw: bool
) -> None:
    headers = {**module_api.auth(), "Content-Type": "application/json"}
    width, line_break, trailing = form
    wrapped = wrap(data, width, line_break, trailing=trailing)
    # raw: line breaks unescaped inside the string (the guide's curl); else JSON-escaped.
    body = raw_body(wrapped) if raw else json.dumps({"file_name": "f.txt", "file_data": wrapped})
    one_line = {"file_name": "f.txt", "file_data": base64.b64encode(data).decode()}
    first = module_api.client.post("/upload", content=body, headers=headers)
    second = module_api.client.post("/upload", json=one_line, headers=module_api.auth())
    assert first.status_code == second.status_code == 201, first.text
    assert first.json()["message"] == "File uploaded successfully."
    assert first.json()["sha256"] == second.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_bytes(module_api, first.json()["s3_path"]) == data
    assert stored_bytes(module_api, second.json()["s3_path"]) == data


@given(
    data=st.binary(min_size=60, max_size=600),
    width=st.integers(min_value=1, max_value=120).filter(lambda w: w not in WRAP_WIDTHS),
    line_break=breaks,
)
def test_other_wrapping_widths_are_refused(data: bytes, width: int, line_break: str) -> None:
    wrapped = wrap(data, width, line_break, trailing=False)
    if line_break not in wrapped:
        return  # one line: nothing was wrapped
    with pytest.raises(InvalidUploadError, match="not Base64 line wrapping"):
        unwrap_base64(wrapped)


@given(
    data=st.binary(min_size=100, max_size=600),
    junk=st.sampled_from([" ", "\t", "\n\n", "\r", "\x0b", "\x0c", "\u2028", "*"]),
    where=st.integers(min_value=1, max_value=50),
)
def test_other_whitespace_or_garbage_is_still_refused(data: bytes, junk: str, where: int) -> None:
    wrapped = wrap(data, 76, "\n", trailing=False)
    spoiled = wrapped[:where] + junk + wrapped[where:]
    with pytest.raises(InvalidUploadError):
        decode_base64_strict(unwrap_base64(spoiled).encode("ascii", errors="replace"), 4096)


def test_the_limit_is_counted_on_decoded_bytes(module_api: Api) -> None:
    settings_limit = 4 * 1024 * 1024
    exactly = b"\0" * settings_limit
    headers = {**module_api.auth(), "Content-Type": "application/json"}
    body = raw_body(wrap(exactly, 64, "\r\n", trailing=True))
    assert module_api.client.post("/upload", content=body, headers=headers).status_code == 201
    one_more = raw_body(wrap(exactly + b"\0", 64, "\r\n", trailing=True))
    answer = module_api.client.post("/upload", content=one_more, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["error"] == "file_too_large"
