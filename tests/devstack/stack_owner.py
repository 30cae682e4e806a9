"""One local stack per state directory.

A second stack on the same directory would apply Terraform over the first
one's state and, when stopped, delete the state file under it. So a stack
claims its directory first, with running.json (its PID and ports), and a
second one is refused with where the first one runs. A claim whose PID is gone
(a stack that crashed or was killed) is stale and taken over.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.devstack.ports import HOST


class StateDirInUseError(RuntimeError):
    pass


def owner_file(state_dir: Path) -> Path:
    return state_dir / "running.json"


def pid_alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negative PIDs name process groups, not a process
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's process
    return True


def claim_state_dir(state_dir: Path, *, moto_port: int, api_port: int) -> None:
    """Make this process the stack of `state_dir`, or raise StateDirInUseError naming the one
    that is."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = owner_file(state_dir)
    claim = {"pid": os.getpid(), "moto_port": moto_port, "api_port": api_port}
    # Written aside, then linked into place: the claim appears whole or not at all,
    # and of two stacks starting at once only one link succeeds.
    draft = state_dir / f".running.{os.getpid()}.json"
    draft.write_text(json.dumps(claim), encoding="utf-8")
    try:
        for _attempt in range(2):
            try:
                os.link(draft, path)
            except FileExistsError:
                owner = json.loads(path.read_text(encoding="utf-8"))
                if pid_alive(owner["pid"]):
                    raise StateDirInUseError(_refusal(state_dir, owner)) from None
                path.unlink(missing_ok=True)  # stale: its stack is gone
            else:
                return
        raise StateDirInUseError(f"another local stack is starting on {state_dir}")
    finally:
        draft.unlink()


def release_state_dir(state_dir: Path) -> None:
    """Drop this process's claim (not another's: the file is checked first)."""
    path = owner_file(state_dir)
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    if owner["pid"] == os.getpid():
        path.unlink()


def _refusal(state_dir: Path, owner: dict[str, int]) -> str:
    return (
        f"a local stack is already running on {state_dir} (PID {owner['pid']}: moto "
        f"http://{HOST}:{owner['moto_port']}, upload API http://{HOST}:{owner['api_port']}). "
        "Use that one, or stop it (Ctrl-C in its terminal). To run a second stack, give it "
        'its own state directory and ports, e.g. make dev ARGS="--state-dir .devstack-2 '
        '--moto-port 5001 --api-port 8001" (or DEVSTACK_STATE_DIR, DEVSTACK_MOTO_PORT, '
        f"DEVSTACK_API_PORT). If PID {owner['pid']} is not a local stack, delete "
        f"{owner_file(state_dir)}."
    )
