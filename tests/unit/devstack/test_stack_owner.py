"""One local stack per state directory: a second one is refused, a crashed one does not block."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.devstack.__main__ import main
from tests.devstack.ports import HOST, free_port
from tests.devstack.stack_owner import (
    StateDirInUseError,
    claim_state_dir,
    owner_file,
    release_state_dir,
)


@pytest.fixture(autouse=True)
def keep_signal_handlers() -> Iterator[None]:
    """main() installs its own SIGINT/SIGTERM handlers: give the test process its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def a_dead_pid() -> int:
    """The PID of a process that has exited (as a crashed stack's has)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def write_claim(state_dir: Path, pid: int, moto_port: int = 5999, api_port: int = 8999) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    claim = {"pid": pid, "moto_port": moto_port, "api_port": api_port}
    owner_file(state_dir).write_text(json.dumps(claim), encoding="utf-8")


def test_a_second_stack_on_the_same_state_dir_is_refused_naming_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_claim(tmp_path, os.getpid())
    # The first stack's state file: the refused one must leave it alone.
    (tmp_path / "state.json").write_text("{}", encoding="utf-8")
    ports = ["--moto-port", str(free_port()), "--api-port", str(free_port())]

    assert main(["--state-dir", str(tmp_path), *ports]) == 1

    error = capsys.readouterr().err
    assert f"a local stack is already running on {tmp_path} (PID {os.getpid()}:" in error
    assert "moto http://127.0.0.1:5999, upload API http://127.0.0.1:8999" in error
    assert '--state-dir .devstack-2 --moto-port 5001 --api-port 8001"' in error
    assert json.loads(owner_file(tmp_path).read_text())["pid"] == os.getpid()
    assert (tmp_path / "state.json").read_text() == "{}"
    assert not (tmp_path / "terraform").exists()  # nothing applied over the first stack


def test_the_claim_of_a_crashed_stack_does_not_block(tmp_path: Path) -> None:
    write_claim(tmp_path, a_dead_pid())

    claim_state_dir(tmp_path, moto_port=5001, api_port=8001)

    claim = json.loads(owner_file(tmp_path).read_text())
    assert claim == {"pid": os.getpid(), "moto_port": 5001, "api_port": 8001}
    release_state_dir(tmp_path)
    assert not owner_file(tmp_path).exists()
    assert list(tmp_path.iterdir()) == []  # no draft left behind either


def test_the_cli_starts_past_a_crashed_stacks_claim_and_drops_its_own_when_it_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_claim(tmp_path, a_dead_pid())
    with socket.socket() as taken:
        # A taken port stops the start right after the claim: the claim did not block it.
        taken.bind((HOST, 0))
        taken.listen()
        moto_port = taken.getsockname()[1]
        ports = ["--moto-port", str(moto_port), "--api-port", str(free_port())]

        assert main(["--state-dir", str(tmp_path), *ports]) == 1

    assert f"{moto_port} is already in use" in capsys.readouterr().err
    assert not owner_file(tmp_path).exists()


def test_a_second_claim_from_a_live_process_is_refused(tmp_path: Path) -> None:
    claim_state_dir(tmp_path, moto_port=5001, api_port=8001)

    with pytest.raises(StateDirInUseError, match=f"PID {os.getpid()}: moto http://127.0.0.1:5001"):
        claim_state_dir(tmp_path, moto_port=5002, api_port=8002)
    release_state_dir(tmp_path)


def test_a_stack_releases_only_its_own_claim(tmp_path: Path) -> None:
    write_claim(tmp_path, os.getppid())

    release_state_dir(tmp_path)

    assert json.loads(owner_file(tmp_path).read_text())["pid"] == os.getppid()
