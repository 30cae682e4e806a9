"""The stand-in for EventBridge invoking a Lambda target: async, retried twice, then dropped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.devstack.event_delivery import RETRIES, LambdaEventDelivery

ARN = "arn:aws:lambda:us-east-1:123456789012:function:secure-upload-local-upload-api"


class Recorder(ThreadingHTTPServer):
    received: list[dict[str, Any]]
    failures_left: int


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        status = 500 if self.server.failures_left > 0 else 200
        self.server.failures_left -= 1
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app() -> Iterator[Recorder]:
    server = Recorder(("127.0.0.1", 0), _Handler)
    server.received, server.failures_left = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def delivery(app: Recorder) -> LambdaEventDelivery:
    url = f"http://127.0.0.1:{app.server_address[1]}/events"
    return LambdaEventDelivery({ARN: url}, retry_delay=0.01)


def test_events_reach_the_function_in_order_off_the_caller(app: Recorder) -> None:
    runner = delivery(app)
    runner.start()
    runner.deliver(ARN, {"id": "1"})
    runner.deliver(ARN, {"id": "2"})
    runner.wait_idle()
    runner.stop()

    assert app.received == [{"id": "1"}, {"id": "2"}]
    assert (runner.delivered, runner.dropped) == (2, 0)


def test_a_failing_delivery_is_retried_twice_then_dropped(app: Recorder) -> None:
    app.failures_left = RETRIES + 1
    runner = delivery(app)
    runner.start()
    runner.deliver(ARN, {"id": "x"})
    runner.wait_idle()
    runner.stop()

    assert len(app.received) == RETRIES + 1
    assert (runner.delivered, runner.dropped) == (0, 1)


def test_a_failure_then_success_is_delivered_once(app: Recorder) -> None:
    app.failures_left = 1
    runner = delivery(app)
    runner.start()
    runner.deliver(ARN, {"id": "y"})
    runner.wait_idle()
    runner.stop()

    assert len(app.received) == 2
    assert (runner.delivered, runner.dropped) == (1, 0)


def test_an_event_for_another_function_is_not_posted(app: Recorder) -> None:
    runner = delivery(app)
    runner.start()
    runner.deliver(ARN.replace("upload-api", "other"), {"id": "z"})
    runner.wait_idle()
    runner.stop()

    assert app.received == []
