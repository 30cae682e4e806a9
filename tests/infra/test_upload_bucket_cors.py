"""The upload bucket's CORS rule (modules/storage) admits what a browser sends to the
direct-upload protocol's presigned URLs, as the API signs them, and nothing more."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.api import Api

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "modules" / "storage" / "main.tf"
MIB = 1024 * 1024
# Set by the browser itself: a page can neither send them nor needs them allowed.
BROWSER_OWN = {"content-length", "host"}


def _rule(name: str) -> list[str]:
    """One list of the rule in modules/storage/main.tf, e.g. allowed_headers."""
    match = re.search(rf"\b{name}\s*=\s*\[([^\]]*)\]", STORAGE.read_text())
    assert match, f"modules/storage/main.tf sets no {name}"
    return re.findall(r'"([^"]+)"', match.group(1))


def _start(api: Api, size: int) -> dict[str, Any]:
    request = {
        "file_name": "report.pdf",
        "comment": "",
        "size_bytes": size,
        "sha256": hashlib.sha256(b"any").hexdigest(),
    }
    response = api.client.post("/uploads", json=request, headers=api.auth())
    assert response.status_code == 201, response.text
    upload: dict[str, Any] = response.json()["upload"]
    return upload


def test_a_single_put_may_send_every_header_its_url_signs(api: Api) -> None:
    upload = _start(api, 1024)
    assert upload["method"] == "PUT"
    sent = {name.lower() for name in upload["headers"]}
    assert sent - BROWSER_OWN == set(_rule("allowed_headers"))


def test_a_part_url_signs_no_header_beyond_them(api: Api) -> None:
    upload = _start(api, 100 * MIB)
    assert upload["method"] == "MULTIPART"
    for part in upload["parts"]:
        signed = parse_qs(urlsplit(part["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
        assert set(signed) - BROWSER_OWN <= set(_rule("allowed_headers"))


def test_only_parts_go_up_and_the_etag_is_readable() -> None:
    # A download is a navigation to its URL: no script of any page reads a file from S3.
    assert _rule("allowed_methods") == ["PUT"]
    # Completing a multipart upload names each part's ETag, read from the PUT's answer.
    assert _rule("expose_headers") == ["ETag"]
