"""The local stack's state file: owner-only (it holds the demo password), read back whole."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.devstack.stack_state import load_state, state_file, write_state
from tests.support.stack_state import stack_state

STATE = stack_state(api_pid=2)


def test_the_state_file_is_owner_only_and_reads_back(tmp_path: Path) -> None:
    write_state(STATE, tmp_path / "state")

    path = state_file(tmp_path / "state")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_state(tmp_path / "state") == STATE


def test_no_state_file_says_how_to_start_the_stack(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make dev"):
        load_state(tmp_path)
