"""A real local stack (`python -m devstack`) in a child process, on free ports, for the session.

A child process, not threads in this one: moto's backends are process-global,
and the unit tests' `mock_aws` would reset the stack's resources under it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from devstack.definitions import REPO_ROOT
from devstack.stack import StackState, free_port, fresh_id_token, load_state

FAULT_PREFIX = "fault-"
START_TIMEOUT = 90.0


@dataclass
class RunningStack:
    state: StackState
    log_path: Path
    # Execution inputs never change: fetch each once (executionArn -> input batch).
    inputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.state.moto_endpoint,
            region_name=self.state.region,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": token or fresh_id_token(self.state)}
        return httpx.Client(base_url=self.state.api_url, headers=headers, timeout=30)


def wait_for(
    probe: Callable[[], Any], *, timeout: float = 20, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll until `probe` returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or probe}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    workdir = tmp_path_factory.mktemp("devstack")
    state_dir = workdir / "state"
    log_path = workdir / "devstack.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        str(REPO_ROOT / p)
        for p in ("services/upload_api", "services/processor", "services/devstack", ".")
    )
    command = [
        sys.executable,
        "-m",
        "devstack",
        "--moto-port",
        str(free_port()),
        "--api-port",
        str(free_port()),
        "--state-dir",
        str(state_dir),
        "--api-log-level",
        "warning",
        "--fault-prefix",
        FAULT_PREFIX,
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (state_dir / "state.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"local stack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.1)
        yield RunningStack(load_state(state_dir), log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def token(stack: RunningStack) -> str:
    return fresh_id_token(stack.state)


@pytest.fixture(scope="session")
def api(stack: RunningStack, token: str) -> Iterator[httpx.Client]:
    with stack.api(token) as client:
        yield client


def all_execution_inputs(stack: RunningStack) -> dict[str, list[dict[str, Any]]]:
    sfn = stack.client("stepfunctions")
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.state.state_machine_arn
    ):
        for summary in page["executions"]:
            arn = summary["executionArn"]
            if arn not in stack.inputs:
                described = sfn.describe_execution(executionArn=arn)
                stack.inputs[arn] = json.loads(described["input"])
    return stack.inputs


def executions_for(stack: RunningStack, file_id: str) -> list[dict[str, Any]]:
    """Every execution whose input batch holds a record of `file_id` (described now)."""
    sfn = stack.client("stepfunctions")
    return [
        dict(sfn.describe_execution(executionArn=arn))
        for arn, batch in all_execution_inputs(stack).items()
        if any(record_file_id(r) == file_id for r in batch)
    ]


def record_file_id(record: dict[str, Any]) -> str | None:
    """The record's file_id key; None for a malformed record (some tests send one)."""
    value = record.get("dynamodb", {}).get("Keys", {}).get("file_id", {}).get("S")
    return value if isinstance(value, str) else None
