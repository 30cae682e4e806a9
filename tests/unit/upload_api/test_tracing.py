"""X-Ray tracing of the API under the Lambda Web Adapter (upload_api.core.tracing).

The X-Ray SDK chooses its Lambda context when it is imported, so the traced
app runs in a fresh interpreter configured as on Lambda, with the SDK's
daemon address pointing at a UDP socket of this test: what arrives there is
what X-Ray would receive.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess  # nosec B404  # runs only our own interpreter
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from upload_api.core.tracing import tracing_enabled

ROOT = Path(__file__).resolve().parents[3]
TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793"
PARENT_ID = "53995c3f42cd8ad8"
# The object-created event path: no token needed, and it reads the pending-uploads table.
APP = textwrap.dedent(
    """
    import sys
    from fastapi.testclient import TestClient
    from moto import mock_aws
    from tests.support.api import app_settings
    from tests.support.aws import create_upload_resources
    from upload_api.main import create_app

    with mock_aws():
        settings = app_settings(create_upload_resources(), "http://127.0.0.1:9/jwks")
        with TestClient(create_app(settings)) as client:
            for header in sys.argv[1:]:
                key = "uploads/user/0b0c2f8e-7e0c-4a53-9d4c-2f3d8c0d1f00/a.txt"
                event = {"source": "aws.s3", "detail-type": "Object Created",
                         "detail": {"bucket": {"name": settings.upload_bucket},
                                    "object": {"key": key}}}
                headers = {"x-amzn-trace-id": header}
                response = client.post("/events", json=event, headers=headers)
                assert response.status_code == 200, response.text
    """
)


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    yield udp
    udp.close()


def run_app(daemon: socket.socket, tmp_path: Path, *headers: str, **env: str) -> None:
    environment = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "POWERTOOLS_TRACE_DISABLED": "false",
        **env,
    }
    subprocess.run(  # noqa: S603  # nosec B603  # our interpreter, our script
        [sys.executable, "-c", APP, *headers], env=environment, cwd=ROOT, check=True, timeout=60
    )


def received(daemon: socket.socket) -> list[dict[str, object]]:
    documents: list[dict[str, object]] = []
    while True:
        try:
            datagram = daemon.recv(65536)
        except TimeoutError:
            return documents
        # Each datagram is a header line, then one (sub)segment document.
        documents.append(json.loads(datagram.decode().split("\n", 1)[1]))


def test_each_requests_aws_calls_are_subsegments_of_its_invocations_trace(
    daemon: socket.socket, tmp_path: Path
) -> None:
    run_app(daemon, tmp_path, f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1")

    (call,) = [d for d in received(daemon) if d.get("name") == "dynamodb"]
    assert call["trace_id"] == TRACE_ID
    assert call["parent_id"] == PARENT_ID
    assert call["aws"]["operation"] == "GetItem"  # type: ignore[index]


def test_each_request_joins_its_own_invocations_trace(
    daemon: socket.socket, tmp_path: Path
) -> None:
    second = "1-5759e988-0123456789abcdef01234567"
    run_app(
        daemon,
        tmp_path,
        f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1",
        f"Root={second};Parent={PARENT_ID};Sampled=1",
    )

    calls = [d for d in received(daemon) if d.get("name") == "dynamodb"]
    assert [c["trace_id"] for c in calls] == [TRACE_ID, second]


def test_nothing_is_traced_where_tracing_is_disabled(daemon: socket.socket, tmp_path: Path) -> None:
    run_app(
        daemon,
        tmp_path,
        f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1",
        POWERTOOLS_TRACE_DISABLED="true",
    )

    assert received(daemon) == []


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),
    ],
)
def test_tracing_is_on_only_in_lambda(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], enabled: bool
) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert tracing_enabled() is enabled
