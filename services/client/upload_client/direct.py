"""A file larger than a JSON upload, straight to S3: POST /uploads, then one signed PUT or
parts in parallel to the URLs the API hands out, then complete.

The URLs live minutes: when S3 refuses parts with 403 (expired), GET
/uploads/{file_id}/parts signs fresh URLs for the missing parts. Until a multipart
upload completes, its file_id is kept in <resume dir>/<sha256>.json, so a run for
the same content sends only the parts S3 does not hold yet. Every call goes through
a Retry: S3's 5xx (SlowDown) and dropped connections are sent again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from upload_client.answers import UploadError, answer, one_line
from upload_client.progress import CHUNK, Progress
from upload_client.retry import IDEMPOTENT, ONCE_ONLY, PRESIGNED_PUT, Retry

# Parts in flight at once (boto3's upload_file sends 8 MiB parts on 10 threads).
PART_WORKERS = 4
S3_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
# Fresh URLs that S3 refuses this many rounds in a row, no part taken: a 403 that is
# not expiry (a wrong signature, a denying policy), so give up.
MAX_FRUITLESS_REFRESHES = 2
# The header by which a single PUT's URL signs the file's SHA-256.
_CHECKSUM = "x-amz-checksum-sha256"


class _RefusedError(UploadError):
    """S3 answered a PUT with 403: most often its URL expired (they live minutes)."""


def upload_direct(
    api: httpx.Client,
    path: Path,
    *,
    comment: str,
    resume_dir: Path,
    sha256: str,
    progress: Progress,
    retry: Retry,
) -> dict[str, Any]:
    """Upload `path` to S3 through the direct-upload routes, resuming a multipart upload kept
    in `resume_dir`: the completed upload's file metadata (UPLOADED)."""
    size = path.stat().st_size
    saved = resume_dir / f"{sha256}.json"
    with httpx.Client(timeout=S3_TIMEOUT) as s3:  # no Authorization: the URLs are signed
        sender = _Sender(s3, path, size, progress, retry)
        try:
            resumed = _resume(api, saved, size, progress, retry)
        except _AlreadyUploaded as done:
            progress.note(f"Upload {done.file_id} was already complete")
            saved.unlink()
            url = f"/uploads/{done.file_id}"
            return answer(retry.send(lambda: api.get(url), IDEMPOTENT))
        if resumed is None:
            request = {
                "file_name": path.name,
                "comment": comment,
                "size_bytes": size,
                "sha256": sha256,
            }
            started = answer(retry.send(lambda: api.post("/uploads", json=request), ONCE_ONLY))
            file_id, upload = started["file_id"], started["upload"]
            progress.note(f"POST /uploads: {upload['method']} upload {file_id}")
            if upload["method"] == "PUT":
                sender.put(upload["url"], 0, size, upload["headers"])
                return _complete(api, file_id, None, retry)
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
    completed = _complete(api, file_id, {"parts": parts}, retry)
    saved.unlink(missing_ok=True)
    return completed


def _complete(
    api: httpx.Client, file_id: str, body: dict[str, Any] | None, retry: Retry
) -> dict[str, Any]:
    # Idempotent: a second complete answers with the file the first one made.
    url = f"/uploads/{file_id}/complete"
    return answer(retry.send(lambda: api.post(url, json=body), IDEMPOTENT))


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
        listed = sender.retry.send(lambda: api.get(f"/uploads/{file_id}/parts"), IDEMPOTENT)
        upload = answer(listed)["upload"]
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
    api: httpx.Client, saved: Path, size: int, progress: Progress, retry: Retry
) -> tuple[str, dict[str, Any], list[dict[str, Any]]] | None:
    """file_id, URLs for the missing parts and the parts S3 holds of the multipart upload
    `saved` names; None when there is none to resume."""
    if not saved.exists():
        return None
    kept = json.loads(saved.read_text())
    file_id = kept["file_id"]
    if kept["size_bytes"] == size:
        response = retry.send(lambda: api.get(f"/uploads/{file_id}/parts"), IDEMPOTENT)
        if response.status_code == 404:
            file = retry.send(lambda: api.get(f"/uploads/{file_id}"), IDEMPOTENT)
            if file.status_code == 200:
                # Completed, but the client stopped before it could forget the state file.
                raise _AlreadyUploaded(file_id)
        # 404: expired, aborted or completed; 409: S3 no longer has the multipart upload.
        if response.status_code not in (404, 409):
            listed = answer(response)
            received, upload = listed["parts_received"], listed["upload"]
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
    retry: Retry

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
        """S3's 200 (or, for a single PUT, its 412 after a retry: see below); any other
        answer, once the retries are spent, raises."""
        tries = 0

        def put_once() -> httpx.Response:
            nonlocal tries
            tries += 1
            return self._put_once(url, offset, length, headers)

        response = self.retry.send(put_once, PRESIGNED_PUT)
        if response.status_code == 412 and tries > 1 and _CHECKSUM in httpx.Headers(headers):
            # If-None-Match refused to replace the object an earlier try created, its
            # answer lost (a dropped connection, a 5xx after the write). The URL signs
            # the file's SHA-256, so S3 took only these bytes under it: the file is there.
            self.progress.add(length)
            return response
        if response.status_code != 200:
            message = f"PUT to S3: {response.status_code} {one_line(response.text)}"
            raise (_RefusedError if response.status_code == 403 else UploadError)(message)
        return response

    def _put_once(
        self, url: str, offset: int, length: int, headers: dict[str, str]
    ) -> httpx.Response:
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

        response: httpx.Response | None = None
        try:
            with self.path.open("rb") as source:
                response = self.s3.put(url, content=chunks(source), headers=headers)
            return response
        finally:
            if response is None or response.status_code != 200:
                self.progress.add(-counted)  # S3 kept none of those bytes (or a retry sends them)
