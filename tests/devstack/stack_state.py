"""The state file of a running local stack (.devstack/state.json), written as it starts, and
the passwords of the users `make guide-user` adds to it (.devstack/users.json)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    # The web app's address (services/web), served by the stack beside the API.
    web_url: str | None = None


def state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def users_file(state_dir: Path) -> Path:
    return state_dir / "users.json"


def write_owner_only(path: Path, content: dict[str, Any]) -> None:
    """Passwords are in these files: owner-only, and the directory is gitignored.

    Written aside and renamed into place: a reader (ChildStack polls for state.json)
    never sees a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    unfinished = path.with_name(f".{path.name}.partial")
    fd = os.open(unfinished, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
    os.replace(unfinished, path)


def write_state(state: StackState, state_dir: Path) -> None:
    write_owner_only(state_file(state_dir), asdict(state))


def load_state(state_dir: Path = DEFAULT_STATE_DIR) -> StackState:
    path = state_file(state_dir)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start the local stack first (make dev)")
    return StackState(**json.loads(path.read_text(encoding="utf-8")))


def save_user_password(state_dir: Path, email: str, password: str) -> None:
    """Keep the password `make guide-user` set for `email`, for `make token EMAIL=...`."""
    write_owner_only(users_file(state_dir), {**saved_passwords(state_dir), email: password})


def saved_passwords(state_dir: Path) -> dict[str, str]:
    path = users_file(state_dir)
    if not path.exists():
        return {}
    passwords: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return passwords
