"""Stand-in for EventBridge invoking a Lambda function target, which moto cannot run.

moto matches the rule Terraform created (modules/upload-events) against each
S3 object-created event; the emulator hands a match for a Lambda target to
`deliver` (emulator.deliver_lambda_targets). As on AWS, where EventBridge
invokes the function asynchronously and Lambda Web Adapter posts a non-HTTP
event to the app's pass-through path, a worker thread posts the event to the
function's web app at /events, off the S3 request that caused it. A failed
delivery (no answer, or a 5xx) is retried twice, like Lambda's asynchronous
invocations, then logged and dropped: the upload stays pending, and the
client's `complete` still completes it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import httpx

_log = logging.getLogger("tests.devstack.events")
RETRIES = 2
_STOP = object()


class LambdaEventDelivery:
    def __init__(self, endpoints: dict[str, str], *, retry_delay: float = 0.5) -> None:
        """`endpoints`: function ARN -> the URL its adapter posts events to."""
        self._endpoints = endpoints
        self._retry_delay = retry_delay
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="event-delivery", daemon=True)
        self.delivered = 0
        self.dropped = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def deliver(self, function_arn: str, event: dict[str, Any]) -> None:
        """Called by the emulator inside the S3 request: queue and return at once."""
        if function_arn in self._endpoints:
            self._queue.put((function_arn, event))
        else:
            _log.warning("no local function behind %s; event dropped", function_arn)

    def pending(self) -> int:
        """The events queued or being posted: not yet delivered or dropped."""
        return self._queue.unfinished_tasks

    def wait_idle(self, timeout: float = 10) -> None:
        """Until every queued event has been delivered or dropped (tests)."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while (item := self._queue.get()) is not _STOP:
                try:
                    self._post(client, *item)
                finally:
                    self._queue.task_done()
            self._queue.task_done()

    def _post(self, client: httpx.Client, function_arn: str, event: dict[str, Any]) -> None:
        url = self._endpoints[function_arn]
        for attempt in range(RETRIES + 1):
            try:
                response = client.post(url, json=event)
                if response.status_code < 500:
                    self.delivered += 1
                    _log.debug("event for %s: %s", function_arn, response.text)
                    return
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.TransportError as error:
                problem = repr(error)
            _log.warning("event delivery attempt %d failed: %s", attempt + 1, problem)
            time.sleep(self._retry_delay * (attempt + 1))
        self.dropped += 1
        _log.error("event for %s dropped after %d retries", function_arn, RETRIES)
