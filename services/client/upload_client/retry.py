"""Sending a call again when its answer says "try again": exponential backoff with full jitter.

One policy for every call the client makes, to the API and to S3's presigned URLs.
Which answers may be retried depends on the call: an answer that proves nothing
happened can always be; a lost answer only for a call that can safely happen twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Retryable:
    """The answers after which a call is sent again."""

    statuses: frozenset[int]
    # A dropped connection or a timeout: the call may or may not have taken effect.
    transport_errors: bool


# 429: API Gateway throttled the caller, the request never reached the app. 503: the
# API guarantees it wrote nothing (no object, no item, no quota held). So even a call
# that must not happen twice (POST /upload, POST /uploads) is safe to send again; after
# a 502, a 504 or a lost answer it is not: the write may have happened.
ONCE_ONLY = Retryable(frozenset({429, 503}), transport_errors=False)
# Reads, and `complete` (which answers with the file if it completed before).
IDEMPOTENT = Retryable(frozenset({429, 502, 503, 504}), transport_errors=True)
# S3's server errors, SlowDown (503) among them. A PUT to a presigned URL can be
# repeated: a part replaces itself, and a single PUT's second landing is refused (412).
PRESIGNED_PUT = Retryable(frozenset({500, 502, 503, 504}), transport_errors=True)

# Connection trouble worth another try (not, say, a URL the client cannot send to).
_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Retry:
    """At most `attempts` tries, none started once `max_seconds` have passed since the
    first; before try n+1 a pause of random(0, min(cap, base * 2**n)) seconds (AWS's
    "full jitter", so that throttled clients do not come back in step), at least the
    answer's Retry-After."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 20.0
    max_seconds: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random  # a fraction in [0, 1)

    def pause(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after try `attempt` (0 for the first) failed."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0**attempt)
        return max(self.jitter() * ceiling, retry_after or 0.0)

    def send(self, call: Callable[[], httpx.Response], retryable: Retryable) -> httpx.Response:
        """`call`'s answer, sent again while it is `retryable` and the bounds allow: then
        the last answer (the caller reports it as any other) or the last transport error."""
        started = self.clock()
        attempt = 0
        while True:
            try:
                response = call()
            except _TRANSPORT_ERRORS:
                if not (retryable.transport_errors and self._waited(attempt, started, None)):
                    raise
            else:
                if response.status_code not in retryable.statuses:
                    return response
                if not self._waited(attempt, started, retry_after(response)):
                    return response
            attempt += 1

    def _waited(self, attempt: int, started: float, retry_after: float | None) -> bool:
        """Pause before the next try; False, without pausing, when the bounds allow none."""
        if attempt + 1 >= self.attempts:
            return False
        pause = self.pause(attempt, retry_after)
        if self.clock() + pause - started > self.max_seconds:
            return False
        self.sleep(pause)
        return True


def retry_after(response: httpx.Response) -> float | None:
    """The answer's Retry-After in seconds; None without one. Only the delta-seconds
    form: the API sends it so, and a date would depend on the two clocks agreeing."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


# The client's policy unless a caller (a test) brings its own.
RETRY = Retry()
