"""The client's retries: which answers are sent again, how long it waits, when it gives up.

The API is an httpx MockTransport; S3 is the same kind of fake behind the client's
own S3 connection (its transport's handle_request), each answering from a script.
The Retry under test pauses into a list instead of sleeping.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from upload_client.answers import UploadError
from upload_client.client import upload_json, wait_for_final_status
from upload_client.direct import upload_direct
from upload_client.progress import Progress
from upload_client.retry import Retry

Answer = httpx.Response | Exception
CLIENT_ERRORS = [400, 401, 403, 404, 409, 413, 422]
LOST = [httpx.ConnectError("connection refused"), httpx.ReadTimeout("timed out")]


@dataclass
class Fake:
    """Answers each request with the next scripted answer for its method and path (the last
    one repeats): a response, or an exception raised as a dropped connection would be."""

    answers: dict[str, list[Answer]]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body, even one sent from a generator
        self.requests.append(request)
        script = self.answers[f"{request.method} {request.url.path}"]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sent(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if f"{r.method} {r.url.path}" == route]


@dataclass
class Waits:
    """A Retry whose pauses are recorded, on a clock that only they (and `advance`) move."""

    jitter: float = 0.5
    now: float = 0.0
    pauses: list[float] = field(default_factory=list)

    def retry(self, **bounds: Any) -> Retry:
        return Retry(sleep=self.sleep, clock=lambda: self.now, jitter=lambda: self.jitter, **bounds)

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def error(status: int, code: str = "error", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": "..."}, headers=headers)


def throttled() -> httpx.Response:
    """The upload API's answer when AWS throttles it."""
    return error(503, "throttled", **{"Retry-After": "1"})


def slow_down() -> httpx.Response:
    return httpx.Response(503, text="<Error><Code>SlowDown</Code></Error>")


FILE = {"file_id": "f-1", "status": "UPLOADED"}


class CountedProgress(Progress):
    """Progress that keeps its count after every update."""

    def __init__(self, total: int) -> None:
        super().__init__(total, show=False)
        self.counts: list[int] = []

    def add(self, count: int) -> None:
        super().add(count)
        self.counts.append(self.sent)


@contextmanager
def api_client(fake: Fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://api", transport=httpx.MockTransport(fake)) as api:
        yield api


def post_upload(fake: Fake, retry: Retry, progress: Progress | None = None) -> dict[str, Any]:
    with api_client(fake) as api:
        return upload_json(api, "a.txt", b"hello", progress=progress, retry=retry)


# ------------------------------------------------------------ the policy


@given(
    attempt=st.integers(min_value=0, max_value=60),
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
    retry_after=st.none() | st.floats(min_value=0, max_value=3600),
)
def test_a_pause_is_full_jitter_under_the_capped_exponential_and_at_least_retry_after(
    attempt: int, fraction: float, retry_after: float | None
) -> None:
    retry = Retry(base_seconds=0.5, cap_seconds=20.0, jitter=lambda: fraction)
    ceiling = min(20.0, 0.5 * 2**attempt)

    pause = retry.pause(attempt, retry_after)

    assert pause >= (retry_after or 0.0)
    assert pause <= max(ceiling, retry_after or 0.0)
    if retry_after is None or fraction * ceiling > retry_after:
        assert pause == pytest.approx(fraction * ceiling)  # the jitter itself, uniform
    else:
        assert pause == retry_after


def test_the_default_jitter_spreads_over_the_whole_range() -> None:
    pauses = [Retry().pause(3) for _ in range(1000)]  # min(20, 0.5 * 2**3) = 4 s

    assert all(0 <= pause < 4 for pause in pauses)
    # From 0, not from half the range (1000 draws miss an eighth with chance (7/8)**1000).
    assert min(pauses) < 0.5
    assert max(pauses) > 3.5


# ------------------------------------------------------------ the API


@pytest.mark.parametrize(
    "first", [throttled(), error(429, "Too Many Requests")], ids=["503", "429"]
)
def test_a_throttled_post_upload_is_sent_again_and_succeeds(first: httpx.Response) -> None:
    fake = Fake({"POST /upload": [first, httpx.Response(201, json=FILE)]})
    waits = Waits(jitter=0.5)
    progress = CountedProgress(5)

    assert post_upload(fake, waits.retry(), progress) == FILE

    first_try, second_try = fake.requests
    assert second_try.content == first_try.content  # the whole body again
    # Retry-After: 1 is the minimum; without it, the jitter: 0.5 * min(20, 0.5 * 2**0).
    assert waits.pauses == ([1.0] if first.status_code == 503 else [0.25])
    assert progress.counts == [5, 0, 5]  # the retry sends the body again, from 0


def test_retries_give_up_after_the_attempts_with_the_last_error() -> None:
    fake = Fake({"POST /upload": [throttled()]})
    waits = Waits(jitter=0.99)

    with pytest.raises(UploadError, match=r'^POST /upload: 503 \{"error":"throttled"'):
        post_upload(fake, waits.retry(attempts=5))

    assert len(fake.requests) == 5
    # At least Retry-After, else the jitter under 0.5, 1, 2, 4 s.
    assert waits.pauses == [1.0, 1.0, pytest.approx(1.98), pytest.approx(3.96)]


def test_retries_give_up_when_the_next_try_would_start_after_the_total_time() -> None:
    waits = Waits(jitter=0.5)

    retry = waits.retry(attempts=10, max_seconds=60)

    def slow_try(request: httpx.Request) -> None:
        waits.now += 25

    fake = Fake({"POST /upload": [throttled()]})
    with api_client(fake) as api:
        api.event_hooks["request"].append(slow_try)
        with pytest.raises(UploadError, match=r"^POST /upload: 503 "):
            upload_json(api, "a.txt", b"hello", retry=retry)

    # Tries end at 25, 51 and 77 s (a pause of 1 s before each retry): a fourth would
    # start after 60 s.
    assert len(fake.requests) == 3
    assert waits.pauses == [1.0, 1.0]


def test_a_retry_after_beyond_the_total_time_is_not_waited_for() -> None:
    fake = Fake({"POST /upload": [error(503, "throttled", **{"Retry-After": "3600"})]})
    waits = Waits()

    with pytest.raises(UploadError, match=r"^POST /upload: 503 "):
        post_upload(fake, waits.retry(max_seconds=60))

    assert len(fake.requests) == 1
    assert waits.pauses == []


@pytest.mark.parametrize("status", CLIENT_ERRORS)
def test_a_client_error_is_never_sent_again(status: int) -> None:
    waits = Waits()
    posted = Fake({"POST /upload": [error(status)]})
    with pytest.raises(UploadError, match=rf"^POST /upload: {status} "):
        post_upload(posted, waits.retry())

    read = Fake({"GET /uploads/f-1": [error(status)]})
    with (
        pytest.raises(UploadError, match=rf"^GET /uploads/f-1: {status} "),
        api_client(read) as api,
    ):
        wait_for_final_status(api, "f-1", 0, retry=waits.retry())

    assert len(posted.requests) == len(read.requests) == 1
    assert waits.pauses == []


@pytest.mark.parametrize(
    "first", [error(502), error(504), *LOST], ids=["502", "504", *map(repr, LOST)]
)
def test_post_upload_is_not_sent_again_once_it_may_have_written(first: Answer) -> None:
    fake = Fake({"POST /upload": [first, httpx.Response(201, json=FILE)]})

    with pytest.raises((UploadError, httpx.TransportError)):
        post_upload(fake, Waits().retry())

    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "first",
    [throttled(), error(502), error(504), *LOST],
    ids=["503", "502", "504", *map(repr, LOST)],
)
def test_reading_a_status_is_sent_again_after_a_gateway_error_or_a_lost_answer(
    first: Answer,
) -> None:
    fake = Fake(
        {"GET /uploads/f-1": [first, httpx.Response(200, json=FILE | {"status": "PROCESSED"})]}
    )
    waits = Waits()

    with api_client(fake) as api:
        assert wait_for_final_status(api, "f-1", 60, retry=waits.retry())["status"] == "PROCESSED"

    assert len(fake.requests) == 2
    assert len(waits.pauses) == 1


# ------------------------------------------------------------ direct uploads, S3


@dataclass
class Direct:
    """A direct upload of `data` against a fake API and a fake S3."""

    api: Fake
    s3: Fake
    data: bytes
    progress: Progress

    def run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry: Retry) -> dict[str, Any]:
        path = tmp_path / "big.bin"
        path.write_bytes(self.data)
        # The client's own S3 connection: every request it sends reaches the fake.
        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", lambda _, r: self.s3(r))
        with api_client(self.api) as api:
            return upload_direct(
                api,
                path,
                comment="",
                resume_dir=tmp_path / "state",
                sha256=hashlib.sha256(self.data).hexdigest(),
                progress=self.progress,
                retry=retry,
            )


def single_put(s3: list[Answer], complete: list[Answer] | None = None) -> Direct:
    data = os.urandom(1000)
    headers = {
        "Content-Length": str(len(data)),
        "x-amz-checksum-sha256": "c2lnbmVk",
        "If-None-Match": "*",
    }
    started = {
        "file_id": "f-1",
        "upload": {"method": "PUT", "url": "https://s3.test/object", "headers": headers},
    }
    api = Fake(
        {
            "POST /uploads": [httpx.Response(201, json=started)],
            "POST /uploads/f-1/complete": complete or [httpx.Response(200, json=FILE)],
        }
    )
    return Direct(api, Fake({"PUT /object": s3}), data, Progress(len(data), show=False))


def test_a_single_put_is_sent_again_on_slow_down_and_complete_on_a_gateway_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = single_put(
        [slow_down(), httpx.Response(200)],
        complete=[error(504), httpx.Response(200, json=FILE)],
    )

    assert direct.run(tmp_path, monkeypatch, Waits().retry()) == FILE

    assert [put.content for put in direct.s3.requests] == [direct.data] * 2
    assert len(direct.api.sent("POST /uploads/f-1/complete")) == 2
    assert direct.progress.sent == len(direct.data)


@pytest.mark.parametrize("lost", [slow_down(), *LOST], ids=["503", *map(repr, LOST)])
def test_a_412_after_a_lost_answer_means_the_single_put_landed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lost: Answer
) -> None:
    direct = single_put([lost, httpx.Response(412, text="PreconditionFailed")])

    assert direct.run(tmp_path, monkeypatch, Waits().retry()) == FILE

    assert len(direct.s3.requests) == 2
    assert len(direct.api.sent("POST /uploads/f-1/complete")) == 1
    assert direct.progress.sent == len(direct.data)


def test_a_412_on_the_first_put_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing of ours can have landed: the object is someone else's doing."""
    direct = single_put([httpx.Response(412, text="PreconditionFailed")])

    with pytest.raises(UploadError, match=r"^PUT to S3: 412 PreconditionFailed"):
        direct.run(tmp_path, monkeypatch, Waits().retry())

    assert direct.api.sent("POST /uploads/f-1/complete") == []


@pytest.mark.parametrize("status", CLIENT_ERRORS)
def test_a_put_refused_by_s3_is_never_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    direct = single_put([httpx.Response(status, text="Refused"), httpx.Response(200)])

    with pytest.raises(UploadError, match=rf"^PUT to S3: {status} Refused"):
        direct.run(tmp_path, monkeypatch, Waits().retry())

    assert len(direct.s3.requests) == 1


def test_puts_give_up_after_the_attempts_with_s3s_last_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = single_put([slow_down()])

    with pytest.raises(UploadError, match=r"^PUT to S3: 503 <Error><Code>SlowDown"):
        direct.run(tmp_path, monkeypatch, Waits().retry(attempts=3))

    assert len(direct.s3.requests) == 3
    assert direct.progress.sent == 0  # no refused byte counts


@pytest.mark.parametrize("first", [error(502), *LOST], ids=["502", *map(repr, LOST)])
def test_post_uploads_is_not_sent_again_once_it_may_have_reserved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: Answer
) -> None:
    direct = single_put([httpx.Response(200)])
    direct.api.answers["POST /uploads"].insert(0, first)

    with pytest.raises((UploadError, httpx.TransportError)):
        direct.run(tmp_path, monkeypatch, Waits().retry())

    assert len(direct.api.requests) == 1


def test_a_part_is_sent_again_on_slow_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(10)  # parts of 4, 4 and 2 bytes
    parts = [{"part_number": n, "url": f"https://s3.test/part-{n}"} for n in (1, 2, 3)]
    started = {"file_id": "f-1", "upload": {"method": "MULTIPART", "part_size": 4, "parts": parts}}
    api = Fake(
        {
            "POST /uploads": [throttled(), httpx.Response(201, json=started)],
            "POST /uploads/f-1/complete": [httpx.Response(200, json=FILE)],
        }
    )

    def taken(n: int) -> httpx.Response:
        return httpx.Response(200, headers={"ETag": f'"etag-{n}"'})

    s3 = Fake(
        {
            "PUT /part-1": [taken(1)],
            "PUT /part-2": [slow_down(), slow_down(), taken(2)],
            "PUT /part-3": [taken(3)],
        }
    )
    direct = Direct(api, s3, data, Progress(len(data), show=False))

    assert direct.run(tmp_path, monkeypatch, Waits().retry()) == FILE

    assert [put.content for put in s3.sent("PUT /part-2")] == [data[4:8]] * 3
    (complete,) = api.sent("POST /uploads/f-1/complete")
    assert json.loads(complete.content)["parts"] == [
        {"part_number": n, "etag": f'"etag-{n}"'} for n in (1, 2, 3)
    ]
    assert len(api.sent("POST /uploads")) == 2  # a 503 wrote nothing: sent again
    assert direct.progress.sent == len(data)
    assert list((tmp_path / "state").iterdir()) == []  # completed: nothing to resume
