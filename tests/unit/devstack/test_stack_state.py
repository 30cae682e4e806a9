"""The local stack's state file: owner-only (it holds the demo password), read back whole."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.devstack.stack_state import StackState, load_state, state_file, write_state

STATE = StackState(
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
    api_pid=2,
)


def test_the_state_file_is_owner_only_and_reads_back(tmp_path: Path) -> None:
    write_state(STATE, tmp_path / "state")

    path = state_file(tmp_path / "state")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_state(tmp_path / "state") == STATE


def test_no_state_file_says_how_to_start_the_stack(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make dev"):
        load_state(tmp_path)
