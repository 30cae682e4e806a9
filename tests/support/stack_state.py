"""A local stack's state, as its state file holds it, for tests that need one but no stack."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.devstack.stack_state import StackState

_PLACEHOLDER = StackState(
    pid=1,
    region="us-east-1",
    moto_endpoint="http://127.0.0.1:5000",
    api_url="http://127.0.0.1:8000",
    account_id="123456789012",
    user_pool_id="us-east-1_x",
    client_id="c",
    username="u",
    password="p",
    bucket="b",
    table="t",
    pending_table="pt",
    usage_table="ut",
    kms_key_arn="k",
    state_machine_arn="s",
    processor_function_arn="f",
    upload_api_function_arn="uf",
    pipe_name="p",
    stream_arn="a",
    dead_letter_queue_url="q",
)


def stack_state(**changes: Any) -> StackState:
    """A state whose fields are placeholders but for `changes`."""
    return replace(_PLACEHOLDER, **changes)
