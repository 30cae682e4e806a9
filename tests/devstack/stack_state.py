"""The state file of a running local stack (.devstack/state.json), written as it starts."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".devstack")


@dataclass(frozen=True)
class StackState:
    """What `make token`, the upload client and tests need; saved to .devstack/state.json."""

    pid: int
    region: str
    moto_endpoint: str
    api_url: str
    account_id: str
    user_pool_id: str
    client_id: str
    username: str
    password: str
    bucket: str
    table: str
    pending_table: str
    usage_table: str
    kms_key_arn: str
    state_machine_arn: str
    processor_function_arn: str
    upload_api_function_arn: str
    pipe_name: str
    stream_arn: str
    dead_letter_queue_url: str
    api_pid: int | None = None


def state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def write_state(state: StackState, state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    # The demo password is in here: owner-only, and the directory is gitignored.
    fd = os.open(state_file(state_dir), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, indent=2)


def load_state(state_dir: Path = DEFAULT_STATE_DIR) -> StackState:
    path = state_file(state_dir)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start the local stack first (make dev)")
    return StackState(**json.loads(path.read_text(encoding="utf-8")))
