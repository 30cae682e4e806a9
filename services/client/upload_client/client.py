"""`python -m upload_client FILE --api-url URL` (make upload): upload a file with progress.

The ID token comes from $UPLOAD_TOKEN (a command line would show it in `ps`).

A file up to 4 MiB goes as the README's curl example sends it: POST /upload, the
file in Base64 inside JSON. A larger one goes straight to S3: POST /uploads, then
one signed PUT or parts in parallel to the URLs the API hands out, then
complete. The URLs live minutes: when S3 refuses parts with 403 (expired), the
client asks GET /uploads/{file_id}/parts for fresh URLs of the missing parts and
carries on. A multipart upload can be resumed: until it completes, its file_id is
kept in <resume dir>/<sha256>.json, and running the command again for
the same content sends only the parts S3 does not hold yet. Either way the
command then waits for the processing outcome. Throttled or unavailable answers
(429, 503, S3's SlowDown) are retried with backoff and jitter (upload_client.retry).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from upload_client.answers import UploadError, answer
from upload_client.direct import upload_direct
from upload_client.progress import CHUNK, Progress
from upload_client.retry import IDEMPOTENT, ONCE_ONLY, RETRY, Retry
from upload_contract import Status

MIB = 1024 * 1024
# The API's default MAX_UPLOAD_BYTES: larger files go to S3 directly.
JSON_UPLOAD_MAX_BYTES = 4 * MIB
# Waiting for processing: at least 10 s, longer for files the pipeline reads slowly.
MIN_WAIT_SECONDS = 10.0
PROCESSING_BYTES_PER_SECOND = 20e6
# The pipeline's verdicts: a file in any other status is not done yet.
FINAL_STATUSES = frozenset({Status.PROCESSED, Status.FAILED, Status.QUARANTINED})


def upload_file(
    api: httpx.Client,
    path: Path,
    *,
    comment: str = "",
    resume_dir: Path,
    progress: bool = True,
    sha256: str | None = None,
    retry: Retry = RETRY,
) -> dict[str, Any]:
    """Upload `path` as `api`'s user (its Authorization header) and return the API's answer:
    POST /upload's 201 body, or the completed direct upload's file metadata (UPLOADED).

    `sha256` (hex) spares hashing the file when the caller knows it already.
    """
    size = path.stat().st_size
    shown = Progress(size, show=progress)
    try:
        if size <= JSON_UPLOAD_MAX_BYTES:
            shown.note("POST /upload (the file in Base64 in JSON)")
            data = path.read_bytes()  # at most JSON_UPLOAD_MAX_BYTES
            return upload_json(api, path.name, data, comment=comment, progress=shown, retry=retry)
        digest = sha256 or file_sha256(path)
        return upload_direct(
            api,
            path,
            comment=comment,
            resume_dir=resume_dir,
            sha256=digest,
            progress=shown,
            retry=retry,
        )
    finally:
        shown.end()


def file_sha256(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def upload_json(
    api: httpx.Client,
    file_name: str,
    data: bytes,
    *,
    comment: str = "",
    progress: Progress | None = None,
    retry: Retry = RETRY,
) -> dict[str, Any]:
    """POST /upload, `data` in Base64 inside JSON (at most JSON_UPLOAD_MAX_BYTES): its 201 body."""
    progress = progress or Progress(len(data), show=False)
    body = json.dumps(
        {
            "file_name": file_name,
            "comment": comment,
            "file_data": base64.b64encode(data).decode("ascii"),
        }
    ).encode()
    shown = 0  # the body's bytes sent, scaled to the file's: the last chunk shows size/size

    def chunks() -> Iterator[bytes]:
        nonlocal shown
        for start in range(0, len(body), CHUNK):
            chunk = body[start : start + CHUNK]
            yield chunk
            now = (start + len(chunk)) * len(data) // len(body)
            progress.add(now - shown)
            shown = now

    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}

    def post() -> httpx.Response:
        nonlocal shown
        if shown:  # a retry sends the whole body again: count it from zero
            progress.add(-shown)
            shown = 0
        return api.post("/upload", content=chunks(), headers=headers)

    # Sent again only after a 429 or 503, which prove nothing was stored; after a 502,
    # a 504 or a lost answer the file may be stored, and a second POST would store it twice.
    return answer(retry.send(post, ONCE_ONLY))


def wait_for_final_status(
    api: httpx.Client,
    file_id: str,
    timeout: float,
    *,
    interval: float = 0.2,
    max_interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retry: Retry = RETRY,
) -> dict[str, Any]:
    """GET /uploads/{file_id} until its status is one of FINAL_STATUSES: the file's metadata
    then, or as it is once `timeout` seconds have passed (the caller checks the status).

    A 404 means not a file yet: a direct upload becomes one when S3's object-created event
    completes it. At the deadline a 404 is raised, as any error answer is at once.
    The pause between requests is `interval`; with `max_interval` it doubles up to that.
    A throttled or failed request is retried by `retry` before it counts as an answer.
    """
    deadline = time.monotonic() + timeout
    pause = interval
    while True:
        response = retry.send(lambda: api.get(f"/uploads/{file_id}"), IDEMPOTENT)
        late = time.monotonic() >= deadline
        if response.status_code != 404 or late:
            current = answer(response)
            if current["status"] in FINAL_STATUSES or late:
                return current
        sleep(pause)
        pause = min(pause * 2, max_interval) if max_interval else interval


# ------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m upload_client", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--api-url", required=True, help="the environment's API, e.g. https://...")
    parser.add_argument("--comment", default="")
    parser.add_argument(
        "--resume-dir",
        type=Path,
        default=Path.home() / ".cache" / "upload-client",
        help="where unfinished multipart uploads are remembered (default: %(default)s)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        help="seconds to wait for processing (default: 10, or 1 s per 20 MB if longer)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("UPLOAD_TOKEN", "")
    if not token:
        parser.error("set UPLOAD_TOKEN to an ID token of the environment's user pool")
    try:
        size = args.file.stat().st_size
        print(f"Uploading {args.file} ({size:,} bytes) to {args.api_url}", file=sys.stderr)
        with httpx.Client(
            base_url=args.api_url, headers={"Authorization": token}, timeout=60
        ) as api:
            result = upload_file(api, args.file, comment=args.comment, resume_dir=args.resume_dir)
            # Names as text: `café.txt`, not `caf\u00e9.txt`.
            print(json.dumps(result, indent=2, ensure_ascii=False))
            wait = args.wait
            if wait is None:
                wait = max(MIN_WAIT_SECONDS, size / PROCESSING_BYTES_PER_SECOND)
            outcome = wait_for_final_status(api, result["file_id"], wait)
    except (OSError, UploadError, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    reason = outcome.get("failure_reason")
    print(f"status: {outcome['status']}{f' ({reason})' if reason else ''}", file=sys.stderr)
    return 0 if outcome["status"] == Status.PROCESSED else 1


if __name__ == "__main__":
    sys.exit(main())
