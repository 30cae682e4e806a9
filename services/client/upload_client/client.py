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
command then waits for the processing outcome.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from upload_contract import Status

MIB = 1024 * 1024
# The API's default MAX_UPLOAD_BYTES: larger files go to S3 directly.
JSON_UPLOAD_MAX_BYTES = 4 * MIB
# Parts in flight at once (boto3's upload_file sends 8 MiB parts on 10 threads).
PART_WORKERS = 4
# Bytes read from the file (or the JSON body) per write, and per progress update.
CHUNK = 256 * 1024
# Waiting for processing: at least 10 s, longer for files the pipeline reads slowly.
MIN_WAIT_SECONDS = 10.0
PROCESSING_BYTES_PER_SECOND = 20e6
S3_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
# Fresh URLs that S3 refuses this many rounds in a row, no part taken: a 403 that is
# not expiry (a wrong signature, a denying policy), so give up.
MAX_FRUITLESS_REFRESHES = 2


class UploadError(Exception):
    """An error answer from the API or S3, in one line."""


class _RefusedError(UploadError):
    """S3 answered a PUT with 403: most often its URL expired (they live minutes)."""


class Progress:
    """The file's bytes sent so far, as one line on stderr (parts in threads add to it too),
    and the client's notes between. `show=False` keeps stderr quiet."""

    def __init__(self, total: int, *, show: bool = True) -> None:
        self.total, self.sent, self.show = total, 0, show
        self._line_open = False
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.sent += count
            if self.show:
                filled = 30 * self.sent // self.total if self.total else 30
                bar = "#" * filled + "." * (30 - filled)
                sys.stderr.write(f"\r  [{bar}] {self.sent:>13,}/{self.total:,} bytes")
                sys.stderr.flush()
                self._line_open = True

    def note(self, message: str) -> None:
        with self._lock:
            if self.show:
                sys.stderr.write(("\n" if self._line_open else "") + message + "\n")
                self._line_open = False

    def end(self) -> None:
        with self._lock:
            if self._line_open:
                sys.stderr.write("\n")
                self._line_open = False


def upload_file(
    api: httpx.Client,
    path: Path,
    *,
    comment: str = "",
    resume_dir: Path,
    progress: bool = True,
    sha256: str | None = None,
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
            return _upload_json(api, path, comment, shown)
        digest = sha256 or file_sha256(path)
        return _upload_direct(
            api, path, comment=comment, resume_dir=resume_dir, sha256=digest, progress=shown
        )
    finally:
        shown.end()


def file_sha256(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def wait_for_outcome(api: httpx.Client, file_id: str, timeout: float) -> dict[str, Any]:
    """The file's metadata once it is no longer UPLOADED, or as it is at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        current = _answer(api.get(f"/uploads/{file_id}"))
        if current["status"] != Status.UPLOADED or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


# ------------------------------------------------------------ POST /upload


def _upload_json(api: httpx.Client, path: Path, comment: str, progress: Progress) -> dict[str, Any]:
    data = path.read_bytes()  # at most JSON_UPLOAD_MAX_BYTES
    body = json.dumps(
        {
            "file_name": path.name,
            "comment": comment,
            "file_data": base64.b64encode(data).decode("ascii"),
        }
    ).encode()

    def chunks() -> Iterator[bytes]:
        # The body's bytes sent, scaled to the file's: the last chunk shows size/size.
        shown = 0
        for start in range(0, len(body), CHUNK):
            chunk = body[start : start + CHUNK]
            yield chunk
            now = (start + len(chunk)) * len(data) // len(body)
            progress.add(now - shown)
            shown = now

    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    return _answer(api.post("/upload", content=chunks(), headers=headers))


# ------------------------------------------------------------ direct to S3


def _upload_direct(
    api: httpx.Client,
    path: Path,
    *,
    comment: str,
    resume_dir: Path,
    sha256: str,
    progress: Progress,
) -> dict[str, Any]:
    size = path.stat().st_size
    saved = resume_dir / f"{sha256}.json"
    with httpx.Client(timeout=S3_TIMEOUT) as s3:  # no Authorization: the URLs are signed
        sender = _Sender(s3, path, size, progress)
        try:
            resumed = _resume(api, saved, size, progress)
        except _AlreadyUploaded as done:
            progress.note(f"Upload {done.file_id} was already complete")
            saved.unlink()
            return _answer(api.get(f"/uploads/{done.file_id}"))
        if resumed is None:
            request = {"file_name": path.name, "comment": comment, "size_bytes": size}
            started = _answer(api.post("/uploads", json={**request, "sha256": sha256}))
            file_id, upload = started["file_id"], started["upload"]
            progress.note(f"POST /uploads: {upload['method']} upload {file_id}")
            if upload["method"] == "PUT":
                sender.put(upload["url"], 0, size, upload["headers"])
                return _answer(api.post(f"/uploads/{file_id}/complete"))
            sent: list[dict[str, Any]] = []
            saved.parent.mkdir(parents=True, exist_ok=True)
            kept = {"file_id": file_id, "path": str(path.resolve()), "size_bytes": size}
            saved.write_text(json.dumps(kept))
        else:
            file_id, upload, sent = resumed
        try:
            sent += _send_parts(api, sender, file_id, upload)
        except BaseException:
            progress.note(f"Stopped: run the same command again to resume (state: {saved})")
            raise
    parts = sorted(sent, key=lambda part: int(part["part_number"]))
    completed = _answer(api.post(f"/uploads/{file_id}/complete", json={"parts": parts}))
    saved.unlink(missing_ok=True)
    return completed


def _send_parts(
    api: httpx.Client, sender: _Sender, file_id: str, upload: dict[str, Any]
) -> list[dict[str, Any]]:
    """The numbers and ETags of every part `upload` lists, sent; while S3 refuses URLs
    with 403, those of the parts it lacks are signed afresh by GET .../parts."""
    sent, refused = sender.put_parts(upload)
    fruitless = 0
    while refused is not None:
        if fruitless == MAX_FRUITLESS_REFRESHES:
            raise UploadError(f"{refused}; fresh URLs were refused too, {fruitless} times in a row")
        upload = _answer(api.get(f"/uploads/{file_id}/parts"))["upload"]
        sender.progress.note(
            f"S3 refused a part with 403 (its URL expired?): "
            f"fresh URLs for the {len(upload['parts'])} parts it lacks"
        )
        done, refused = sender.put_parts(upload)
        sent += done
        fruitless = 0 if done else fruitless + 1
    return sent


class _AlreadyUploaded(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, file_id: str) -> None:
        super().__init__(file_id)
        self.file_id = file_id


def _resume(
    api: httpx.Client, saved: Path, size: int, progress: Progress
) -> tuple[str, dict[str, Any], list[dict[str, Any]]] | None:
    """file_id, URLs for the missing parts and the parts S3 holds of the multipart upload
    `saved` names; None when there is none to resume."""
    if not saved.exists():
        return None
    kept = json.loads(saved.read_text())
    file_id = kept["file_id"]
    if kept["size_bytes"] == size:
        response = api.get(f"/uploads/{file_id}/parts")
        if response.status_code == 404 and api.get(f"/uploads/{file_id}").status_code == 200:
            # Completed, but the client stopped before it could forget the state file.
            raise _AlreadyUploaded(file_id)
        # 404: expired, aborted or completed; 409: S3 no longer has the multipart upload.
        if response.status_code not in (404, 409):
            answer = _answer(response)
            received, upload = answer["parts_received"], answer["upload"]
            total = len(received) + len(upload["parts"])
            progress.note(f"Resuming upload {file_id}: {len(received)} of {total} parts uploaded")
            progress.add(sum(part["size_bytes"] for part in received))
            done = [{"part_number": p["part_number"], "etag": p["etag"]} for p in received]
            return file_id, upload, done
    progress.note(f"Upload {file_id} can no longer be resumed; starting over")
    saved.unlink()
    return None


@dataclass(frozen=True)
class _Sender:
    """PUTs byte ranges of one file to presigned URLs, each read from disk as it is sent."""

    s3: httpx.Client
    path: Path
    size: int
    progress: Progress

    def put_parts(
        self, upload: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], _RefusedError | None]:
        """Every part `upload` lists, PART_WORKERS at a time: the numbers and ETags of those
        S3 took, and its first 403 if it refused any (parts not started by then are not sent)."""
        pool = ThreadPoolExecutor(PART_WORKERS, thread_name_prefix="part")
        done: list[dict[str, Any]] = []
        refused: _RefusedError | None = None
        try:
            futures = [
                pool.submit(self.put_part, part, upload["part_size"]) for part in upload["parts"]
            ]
            for future in futures:
                if future.cancelled():
                    continue
                try:
                    done.append(future.result())
                except _RefusedError as error:
                    refused = refused or error
                    # The URLs were signed together: the unused ones have expired too.
                    for waiting in futures:
                        waiting.cancel()
            return done, refused
        finally:
            # After an error or Ctrl-C: parts not started are dropped, those in flight finish.
            pool.shutdown(wait=True, cancel_futures=True)

    def put_part(self, part: dict[str, Any], part_size: int) -> dict[str, Any]:
        offset = (part["part_number"] - 1) * part_size
        length = min(part_size, self.size - offset)
        response = self.put(part["url"], offset, length, {"Content-Length": str(length)})
        return {"part_number": part["part_number"], "etag": response.headers["ETag"]}

    def put(self, url: str, offset: int, length: int, headers: dict[str, str]) -> httpx.Response:
        counted = 0

        def chunks(source: BinaryIO) -> Iterator[bytes]:
            nonlocal counted
            source.seek(offset)
            left = length
            while left:
                chunk = source.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{self.path} shrank during the upload")
                yield chunk
                self.progress.add(len(chunk))
                counted += len(chunk)
                left -= len(chunk)

        with self.path.open("rb") as source:
            response = self.s3.put(url, content=chunks(source), headers=headers)
        if response.status_code != 200:
            self.progress.add(-counted)  # S3 kept none of those bytes
            message = f"PUT to S3: {response.status_code} {_one_line(response.text)}"
            raise (_RefusedError if response.status_code == 403 else UploadError)(message)
        return response


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        request = response.request
        raise UploadError(
            f"{request.method} {request.url.path}: {response.status_code} "
            f"{_one_line(response.text)}"
        )
    return dict(response.json())


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
            print(json.dumps(result, indent=2))
            wait = args.wait
            if wait is None:
                wait = max(MIN_WAIT_SECONDS, size / PROCESSING_BYTES_PER_SECOND)
            outcome = wait_for_outcome(api, result["file_id"], wait)
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
