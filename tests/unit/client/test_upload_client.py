"""`make upload` (upload_client) against the real app and a real moto server.

The app runs in this process under uvicorn on a free loopback port, its AWS
clients pointed at moto in server mode with the emulator's extensions (which
check presigned URLs' signatures and SHA-256 headers), so the client's PUTs go
to the URLs the API signs, with the headers it lists, as on the local stack.
The thresholds are lowered: one PUT up to 8 MiB, 5 MiB parts above.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from botocore.config import Config
from fastapi import FastAPI

from tests.devstack.ports import free_port
from tests.support.api import ALICE, app_settings
from tests.support.aws import REGION, UploadResources, create_upload_resources
from tests.support.tokens import JwksServer, TokenIssuer
from upload_api.main import create_app
from upload_client import client as upload_client
from upload_client import direct
from upload_client.answers import UploadError
from upload_client.client import upload_file, wait_for_final_status

MIB = 1024 * 1024
PART = 5 * MIB
MULTIPART_SIZE = 11 * MIB  # parts of 5, 5 and 1 MiB


def aws(endpoint: str, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint, region_name=REGION, config=Config(signature_version="s3v4")
    )


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the app exited"
        assert time.monotonic() < deadline, "the app did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Stack:
    api: httpx.Client
    resources: UploadResources
    endpoint: str
    resume_dir: Path


@pytest.fixture
def stack(
    endpoint: str, jwks_server: JwksServer, token_issuer: TokenIssuer, tmp_path: Path
) -> Iterator[Stack]:
    # Names of their own: the module's moto server is shared by every test.
    resources = create_upload_resources(
        lambda service: aws(endpoint, service), suffix=f"-{uuid.uuid4().hex[:8]}"
    )
    settings = app_settings(
        resources,
        jwks_server.url,
        aws_endpoint_url=endpoint,
        single_put_max_bytes=8 * MIB,
        multipart_part_bytes=PART,
        max_direct_upload_bytes=32 * MIB,
    )
    token = token_issuer.token(token_issuer.claims(sub=ALICE))
    with (
        serving(create_app(settings)) as url,
        httpx.Client(base_url=url, headers={"Authorization": token}, timeout=30) as api,
    ):
        yield Stack(api, resources, endpoint, tmp_path / "state" / "uploads")


def random_file(directory: Path, size: int) -> Path:
    path = directory / f"file-{size}.bin"
    path.write_bytes(os.urandom(size))
    return path


def stored(stack: Stack, answer: dict[str, Any]) -> bytes:
    bucket, key = answer["s3_path"].removeprefix("s3://").split("/", 1)
    body: bytes = aws(stack.endpoint, "s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def progress_counts(stderr: str) -> list[tuple[int, int]]:
    """(sent, total) of every progress update written to stderr."""
    return [
        (int(sent.replace(",", "")), int(total.replace(",", "")))
        for sent, total in re.findall(r"([\d,]+)/([\d,]+) bytes", stderr)
    ]


def record_puts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The part numbers (1 for a single PUT) of the PUTs the client sends to S3 from now on."""
    sent: list[int] = []
    put = direct._Sender.put

    def recorded(
        self: direct._Sender, url: str, offset: int, length: int, headers: dict[str, str]
    ) -> httpx.Response:
        sent.append(offset // PART + 1)
        return put(self, url, offset, length, headers)

    monkeypatch.setattr(direct._Sender, "put", recorded)
    return sent


def signed_long_ago(url: str) -> str:
    """`url` as if the API had signed it 10 minutes ago: S3 refuses it, 403 Request has expired."""
    signed = re.search(r"X-Amz-Date=(\d{8}T\d{6}Z)", url)
    assert signed is not None
    earlier = datetime.strptime(signed[1], "%Y%m%dT%H%M%SZ") - timedelta(minutes=10)
    return url.replace(signed[0], f"X-Amz-Date={earlier:%Y%m%dT%H%M%SZ}")


def forged(url: str) -> str:
    """`url` with a signature that is not the API's: S3 refuses it, 403, however often."""
    return re.sub(r"X-Amz-Signature=\w+", "X-Amz-Signature=" + "0" * 64, url)


@dataclass
class PartPut:
    part_number: int
    status: int
    etag: str | None


def s3_puts(monkeypatch: pytest.MonkeyPatch, alter: Callable[[str, int], str]) -> list[PartPut]:
    """Every PUT the client sends to S3 from now on, to the URL `alter(url, part_number)`."""
    puts: list[PartPut] = []
    put = direct._Sender.put

    def altered(
        self: direct._Sender, url: str, offset: int, length: int, headers: dict[str, str]
    ) -> httpx.Response:
        part_number = offset // PART + 1
        try:
            response = put(self, alter(url, part_number), offset, length, headers)
        except UploadError as error:
            refused = re.match(r"PUT to S3: (\d+) ", str(error))
            assert refused is not None
            puts.append(PartPut(part_number, int(refused[1]), None))
            raise
        puts.append(PartPut(part_number, response.status_code, response.headers["ETag"]))
        return response

    monkeypatch.setattr(direct._Sender, "put", altered)
    return puts


def api_requests(stack: Stack) -> list[httpx.Request]:
    """Every request the client sends to the API from now on."""
    sent: list[httpx.Request] = []
    stack.api.event_hooks["request"].append(sent.append)
    return sent


def interrupted_after_part_1(stack: Stack, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Start a multipart upload of `path` and press Ctrl-C once part 1 is in S3: its file_id."""
    put_part = direct._Sender.put_part

    def ctrl_c_after_part_1(
        self: direct._Sender, part: dict[str, Any], part_size: int
    ) -> dict[str, Any]:
        if part["part_number"] > 1:
            raise KeyboardInterrupt
        return put_part(self, part, part_size)

    with monkeypatch.context() as patch:
        patch.setattr(direct._Sender, "put_part", ctrl_c_after_part_1)
        with pytest.raises(KeyboardInterrupt):
            upload_file(stack.api, path, resume_dir=stack.resume_dir)
    received = stack.api.get(f"/uploads/{kept(stack, path)['file_id']}/parts").json()
    assert [part["part_number"] for part in received["parts_received"]] == [1]
    return str(kept(stack, path)["file_id"])


def kept(stack: Stack, path: Path) -> dict[str, Any]:
    """The resume state the client keeps for `path`'s content."""
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    state: dict[str, Any] = json.loads((stack.resume_dir / f"{sha256}.json").read_text())
    return state


def state_files(stack: Stack) -> list[Path]:
    return sorted(stack.resume_dir.glob("*")) if stack.resume_dir.exists() else []


# ------------------------------------------------------------ tests


@pytest.mark.parametrize(
    "size", [300_000, 6 * MIB, MULTIPART_SIZE], ids=["json", "single-put", "multipart"]
)
def test_the_progress_counts_the_files_bytes_up_to_exactly_its_size(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int
) -> None:
    path = random_file(tmp_path, size)

    answer = upload_file(stack.api, path, resume_dir=stack.resume_dir)

    counts = progress_counts(capsys.readouterr().err)
    assert {total for _, total in counts} == {size}
    sent = [n for n, _ in counts]
    assert sent == sorted(sent)
    assert sent[-1] == size
    assert stored(stack, answer) == path.read_bytes()


def test_a_file_above_4_mib_goes_in_one_signed_put_and_completes(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = random_file(tmp_path, 6 * MIB)
    puts = record_puts(monkeypatch)

    answer = upload_file(
        stack.api, path, comment="six", resume_dir=stack.resume_dir, progress=False
    )

    assert puts == [1]
    assert answer["status"] == "UPLOADED"
    assert answer["size_bytes"] == 6 * MIB
    assert answer["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert answer["comment"] == "six"
    assert stored(stack, answer) == path.read_bytes()
    assert state_files(stack) == []  # nothing to resume for a single PUT


def test_an_interrupted_multipart_upload_resumes_with_only_the_missing_parts(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = random_file(tmp_path, MULTIPART_SIZE)
    file_id = interrupted_after_part_1(stack, path, monkeypatch)
    assert kept(stack, path)["size_bytes"] == MULTIPART_SIZE
    assert "run the same command again to resume" in capsys.readouterr().err
    puts = record_puts(monkeypatch)

    answer = upload_file(stack.api, path, resume_dir=stack.resume_dir)

    assert sorted(puts) == [2, 3]
    stderr = capsys.readouterr().err
    assert f"Resuming upload {file_id}: 1 of 3 parts uploaded" in stderr
    counts = progress_counts(stderr)
    assert counts[0] == (PART, MULTIPART_SIZE)  # part 1 counts as sent from the start
    assert counts[-1] == (MULTIPART_SIZE, MULTIPART_SIZE)
    assert answer["file_id"] == file_id
    assert answer["status"] == "UPLOADED"
    assert stored(stack, answer) == path.read_bytes()
    assert state_files(stack) == []


@pytest.mark.parametrize("gone", ["aborted through the API", "aborted in S3"])
def test_a_state_file_whose_upload_is_gone_starts_over(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gone: str,
) -> None:
    path = random_file(tmp_path, MULTIPART_SIZE)
    file_id = interrupted_after_part_1(stack, path, monkeypatch)
    if gone == "aborted through the API":  # GET .../parts: 404
        assert stack.api.delete(f"/uploads/{file_id}").status_code == 204
    else:  # the bucket's lifecycle rule, say; GET .../parts: 409 upload_gone
        s3 = aws(stack.endpoint, "s3")
        bucket = stack.resources.bucket
        for upload in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]:
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    capsys.readouterr()
    puts = record_puts(monkeypatch)

    answer = upload_file(stack.api, path, resume_dir=stack.resume_dir)

    assert f"Upload {file_id} can no longer be resumed; starting over" in capsys.readouterr().err
    assert sorted(puts) == [1, 2, 3]
    assert answer["file_id"] != file_id
    assert answer["status"] == "UPLOADED"
    assert stored(stack, answer) == path.read_bytes()
    assert state_files(stack) == []


def test_a_state_file_of_a_completed_upload_does_not_upload_again(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The client stopped after complete, before it removed its state file."""
    path = random_file(tmp_path, MULTIPART_SIZE)
    first = upload_file(stack.api, path, resume_dir=stack.resume_dir, progress=False)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    state = stack.resume_dir / f"{sha256}.json"
    state.write_text(
        json.dumps({"file_id": first["file_id"], "path": str(path), "size_bytes": MULTIPART_SIZE})
    )
    capsys.readouterr()
    puts = record_puts(monkeypatch)

    again = upload_file(stack.api, path, resume_dir=stack.resume_dir)

    assert f"Upload {first['file_id']} was already complete" in capsys.readouterr().err
    assert puts == []
    assert again["file_id"] == first["file_id"]
    assert state_files(stack) == []


def test_an_error_answer_is_one_line_with_the_json_body(stack: Stack, tmp_path: Path) -> None:
    path = random_file(tmp_path, 6 * MIB)
    with (
        httpx.Client(base_url=stack.api.base_url) as anonymous,
        pytest.raises(UploadError) as raised,
    ):
        upload_file(anonymous, path, resume_dir=stack.resume_dir, progress=False)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("POST /uploads: 401 ")
    assert json.loads(message.removeprefix("POST /uploads: 401 "))["error"]


def test_main_exits_1_with_one_line_on_an_error_answer(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The app runs in this process here: its metric lines must not mix with the client's output.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("UPLOAD_TOKEN", "not-a-token")
    file = random_file(tmp_path, 1000)

    assert upload_client.main([str(file), "--api-url", str(stack.api.base_url)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: POST /upload: 401 {")


def test_main_prints_the_answer_and_exits_0_once_processed(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The app runs in this process here: its metric lines must not mix with the client's output.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    token = stack.api.headers["Authorization"]
    monkeypatch.setenv("UPLOAD_TOKEN", token)
    upload = upload_client.upload_file

    def upload_then_process(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = upload(*args, **kwargs)
        # What the pipeline would do; this test has none.
        aws(stack.endpoint, "dynamodb").update_item(
            TableName=stack.resources.table,
            Key={"file_id": {"S": answer["file_id"]}},
            UpdateExpression="SET #status = :processed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":processed": {"S": "PROCESSED"}},
        )
        return answer

    monkeypatch.setattr(upload_client, "upload_file", upload_then_process)

    file = random_file(tmp_path, 6 * MIB)
    api_url = str(stack.api.base_url)
    resume_dir = str(stack.resume_dir)
    arguments = [str(file), "--api-url", api_url, "--resume-dir", resume_dir, "--wait", "5"]
    assert upload_client.main(arguments) == 0

    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "UPLOADED"
    assert captured.err.splitlines()[-1] == "status: PROCESSED"


def test_main_prints_a_non_ascii_name_as_text(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("UPLOAD_TOKEN", stack.api.headers["Authorization"])
    file = tmp_path / "café.txt"
    file.write_bytes(b"hello")
    arguments = [str(file), "--api-url", str(stack.api.base_url), "--wait", "0"]

    upload_client.main(arguments)  # nothing processes it here: exit 1, beside the point

    out = capsys.readouterr().out
    assert json.loads(out)["s3_path"].endswith("/café.txt")
    assert "/café.txt" in out  # not caf\u00e9.txt


def test_the_wait_ends_at_a_final_status_or_at_the_deadline() -> None:
    # None: 404, a direct upload that S3's event has not made a file yet.
    answers = iter([None, "UPLOADED", "UPLOADED", "QUARANTINED", "UPLOADED", None])
    polled: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        polled.append(request.url.path)
        status = next(answers)
        if status is None:
            return httpx.Response(404, json={"error": "not_found"})
        return httpx.Response(200, json={"file_id": "f-1", "status": status})

    pauses: list[float] = []
    with httpx.Client(base_url="http://api", transport=httpx.MockTransport(answer)) as api:
        final = wait_for_final_status(
            api, "f-1", 60, interval=0.5, max_interval=1.5, sleep=pauses.append
        )
        assert final["status"] == "QUARANTINED"
        assert polled == ["/uploads/f-1"] * 4
        assert pauses == [0.5, 1.0, 1.5]  # doubling up to max_interval
        # Past the deadline: the file as it is, not final; the caller decides.
        assert wait_for_final_status(api, "f-1", 0, sleep=pauses.append)["status"] == "UPLOADED"
        # ...and a file that never appeared is an error.
        with pytest.raises(UploadError, match=r"^GET /uploads/f-1: 404 "):
            wait_for_final_status(api, "f-1", 0, sleep=pauses.append)
        assert len(pauses) == 3


def test_a_multipart_upload_whose_urls_expire_carries_on_with_fresh_ones(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Part 1 goes through; the URLs of parts 2 and 3 expired before their PUTs began."""
    path = random_file(tmp_path, MULTIPART_SIZE)
    expired: set[str] = set()

    def expire_first_urls_of_parts_2_and_3(url: str, part_number: int) -> str:
        if part_number == 1 or (url not in expired and len(expired) == 2):
            return url  # part 1's URL, or a fresh one
        if url not in expired:
            expired.add(url)
            # The refresh then signs in a later second (X-Amz-Date): its URLs differ
            # from these, so a client that reused one would be refused again.
            time.sleep(1.1)
        return signed_long_ago(url)

    puts = s3_puts(monkeypatch, expire_first_urls_of_parts_2_and_3)
    requests = api_requests(stack)

    answer = upload_file(stack.api, path, resume_dir=stack.resume_dir)

    taken = {put.part_number: put.etag for put in puts if put.status == 200}
    assert sorted(put.part_number for put in puts if put.status == 200) == [1, 2, 3]
    assert sorted(put.part_number for put in puts if put.status == 403) == [2, 3]
    assert [request.url.path for request in requests if request.method == "GET"] == [
        f"/uploads/{answer['file_id']}/parts"
    ]
    (complete,) = [r for r in requests if r.url.path.endswith("/complete")]
    assert json.loads(complete.content)["parts"] == [
        {"part_number": n, "etag": taken[n]} for n in (1, 2, 3)
    ]
    assert answer["status"] == "UPLOADED"
    assert stored(stack, answer) == path.read_bytes()
    assert state_files(stack) == []
    stderr = capsys.readouterr().err
    assert stderr.count("S3 refused a part with 403") == 1
    assert "fresh URLs for the 2 parts it lacks" in stderr
    counts = progress_counts(stderr)
    assert max(sent for sent, _ in counts) <= MULTIPART_SIZE  # refused bytes taken back
    assert counts[-1] == (MULTIPART_SIZE, MULTIPART_SIZE)


def test_a_403_that_fresh_urls_do_not_cure_stops_after_two_refreshes(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = random_file(tmp_path, MULTIPART_SIZE)
    puts = s3_puts(monkeypatch, lambda url, part_number: forged(url))
    requests = api_requests(stack)

    with pytest.raises(UploadError) as raised:
        upload_file(stack.api, path, resume_dir=stack.resume_dir)

    message = str(raised.value)
    assert message.startswith("PUT to S3: 403 ")
    assert "SignatureDoesNotMatch" in message
    assert "\n" not in message
    file_id = kept(stack, path)["file_id"]  # the upload can still be resumed
    refreshes = [r for r in requests if r.method == "GET"]
    assert [r.url.path for r in refreshes] == [f"/uploads/{file_id}/parts"] * 2
    # Three rounds (the first URLs, then two fresh sets), each part at most once in each.
    assert 3 <= len(puts) <= 3 * 3
    assert {put.status for put in puts} == {403}
    stderr = capsys.readouterr().err
    assert stderr.count("S3 refused a part with 403") == 2
    assert progress_counts(stderr)[-1] == (0, MULTIPART_SIZE)  # no refused byte counts


def test_a_single_put_whose_answer_was_lost_completes_on_s3s_412(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first PUT lands but its answer is lost (a 500 instead); the retry is refused
    412 PreconditionFailed (If-None-Match): the object holds the file, so it completes."""
    path = random_file(tmp_path, 6 * MIB)
    answered: list[int] = []
    put = httpx.Client.put

    def first_answer_lost(self: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
        response = put(self, url, **kwargs)
        answered.append(response.status_code)
        if len(answered) == 1:
            return httpx.Response(500, text="InternalError", request=response.request)
        return response

    monkeypatch.setattr(httpx.Client, "put", first_answer_lost)

    answer = upload_file(stack.api, path, resume_dir=stack.resume_dir, progress=False)

    assert answered == [200, 412]
    assert answer["status"] == "UPLOADED"
    assert stored(stack, answer) == path.read_bytes()
