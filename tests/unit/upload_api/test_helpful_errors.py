"""Bodies a person can fix are refused with what was wrong and where."""

from __future__ import annotations

import base64

import pytest

from tests.support.api import Api

GOOD = base64.b64encode(b"hello world").decode()


def post_raw(api: Api, body: str) -> tuple[int, dict[str, str]]:
    headers = {**api.auth(), "Content-Type": "application/json"}
    response = api.client.post("/upload", content=body.encode(), headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("file_data", "code", "says"),
    [
        (f"data:text/plain;base64,{GOOD}", "invalid_base64", "data URL prefix"),
        (GOOD.replace("d", "-", 1), "invalid_base64", "'-' at position"),
        (GOOD.replace("d", "-", 1), "invalid_base64", "URL-safe"),
        (GOOD.rstrip("="), "invalid_base64", "must be padded with '='"),
        ("aGVs=G8=", "invalid_base64", "'=' before its end"),
        (GOOD[:8] + " " + GOOD[8:], "invalid_base64", "a space at position 8"),
    ],
)
def test_base64_mistakes_are_named(api: Api, file_data: str, code: str, says: str) -> None:
    status, body = post_raw(api, f'{{"file_name": "a.txt", "file_data": "{file_data}"}}')
    assert status == 400
    assert body["error"] == code
    assert says in body["message"]
    assert "file_data" in body["message"]


@pytest.mark.parametrize("field", ["file_name", "comment"])
def test_a_raw_control_character_is_named_with_its_field(api: Api, field: str) -> None:
    values = {"file_name": "a.txt", "comment": "ok", field: "line one\nline two"}
    body = (
        f'{{"file_name": "{values["file_name"]}", "comment": "{values["comment"]}", '
        f'"file_data": "{GOOD}"}}'
    )
    status, answer = post_raw(api, body)
    assert status == 400
    assert answer["error"] == "invalid_json"
    assert answer["message"].startswith(f"{field} contains the raw control character U+000A")


def test_broken_json_is_still_invalid_json(api: Api) -> None:
    status, answer = post_raw(api, '{"file_name": "a.txt", "file_data": "unterminated')
    assert (status, answer["error"]) == (400, "invalid_json")


def test_wrapping_that_no_tool_produces_is_explained(api: Api) -> None:
    text = base64.b64encode(bytes(range(200))).decode()
    wrapped = "\n".join(text[i : i + 50] for i in range(0, len(text), 50))
    status, answer = post_raw(api, f'{{"file_name": "a.bin", "file_data": "{wrapped}"}}')
    assert (status, answer["error"]) == (400, "invalid_base64")
    assert "lines must all be 64 or 76 characters" in answer["message"]


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        # Refused on its Content-Length, before a byte is read.
        ("{" + " " * 40_000 + "}", "payload_too_large", "request body exceeds "),
        # Within the body limit, but more Base64 than the limit can decode from.
        (
            f'{{"file_name": "a.bin", "file_data": "{base64.b64encode(bytes(2000)).decode()}"}}',
            "file_too_large",
            "file_data decodes to more than the 1024-byte limit",
        ),
        # Base64 of just the right length that decodes to one byte too many.
        (
            f'{{"file_name": "a.bin", "file_data": "{base64.b64encode(bytes(1025)).decode()}"}}',
            "file_too_large",
            "file is 1025 bytes; the limit is 1024 bytes",
        ),
    ],
)
def test_a_file_too_large_for_post_upload_is_pointed_to_the_direct_upload(
    api_small_limit: Api, body: str, code: str, says: str
) -> None:
    status, answer = post_raw(api_small_limit, body)
    assert (status, answer["error"]) == (413, code)
    assert set(answer) == {"error", "message", "request_id"}
    assert answer["message"].startswith(says)
    # The direct upload's own limit (5 GiB by default), and the command that picks the path.
    assert f"POST /uploads, a direct upload to S3 of up to {5 * 1024**3} bytes" in answer["message"]
    assert "`make upload` (python -m upload_client) picks the path by size" in answer["message"]
