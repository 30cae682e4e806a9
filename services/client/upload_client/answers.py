"""The API's and S3's answers: a success's JSON body, or an UploadError in one line."""

from __future__ import annotations

from typing import Any

import httpx


class UploadError(Exception):
    """An error answer from the API or S3, in one line."""


def answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a success; an error answer raises UploadError with its body."""
    if response.is_error:
        request = response.request
        raise UploadError(
            f"{request.method} {request.url.path}: {response.status_code} {one_line(response.text)}"
        )
    return dict(response.json())


def one_line(text: str) -> str:
    return " ".join(text.split())
