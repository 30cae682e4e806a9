"""A real local stack (`make dev`) in a child process, on free ports, for the session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.devstack.child import ChildStack
from tests.devstack.demo_user import fresh_id_token
from tests.devstack.stack_state import StackState

FAULT_PREFIX = "fault-"


@dataclass
class RunningStack:
    """The child-process stack plus what the tests remember about it."""

    child: ChildStack
    # Execution inputs never change: fetch each once (executionArn -> input batch).
    inputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def state(self) -> StackState:
        return self.child.state

    def client(self, service: str) -> Any:
        return self.child.client(service)

    def api(self, token: str | None = None) -> httpx.Client:
        return self.child.api(token)

    def restart(self) -> float:
        """Stop the stack and start it again on the same state and ports, as `make dev` is
        restarted; returns the seconds from the new start to ready."""
        state = self.child.state
        self.child.close()
        started = time.monotonic()
        self.child = ChildStack(
            self.child.workdir,
            fault_prefix=FAULT_PREFIX,
            keep_data=True,
            moto_port=int(state.moto_endpoint.rsplit(":", 1)[1]),
            api_port=int(state.api_url.rsplit(":", 1)[1]),
            web_port=int(str(state.web_url).rsplit(":", 1)[1]),
        )
        return time.monotonic() - started


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
    # Keeps its data as `make dev` does, for the restart test.
    running = RunningStack(
        ChildStack(tmp_path_factory.mktemp("devstack"), fault_prefix=FAULT_PREFIX, keep_data=True)
    )
    try:
        yield running
    finally:
        running.child.close()


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
