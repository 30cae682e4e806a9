"""The local stack in a child process on free ports, for the bench and the end-to-end tests.

A child process, not threads in the caller: moto's backends are process-global,
so a caller that also uses `mock_aws` (the unit tests) would reset the stack's
resources under it, and the bench must not share a GIL with what it measures.
"""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404 - starts only our own interpreter
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from botocore.config import Config

from ops.environment import local_client
from tests.devstack.definitions import REPO_ROOT
from tests.devstack.demo_user import fresh_id_token
from tests.devstack.ports import free_port
from tests.devstack.stack_state import StackState, load_state, state_file
from tests.devstack.terraform_apply import terraform_state_file

# Terraform applies the whole environment first: about 75 s on 2 cores.
START_TIMEOUT_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 60.0


class ChildStack:
    """Starts the stack in `workdir` (state and log there) and stops it on close.

    Free ports unless given. Without `keep_data` it starts empty and saves nothing;
    with it, it keeps the emulator's data in `workdir` as `make dev` does, so a
    second ChildStack on the same workdir and ports restarts with that data.
    `spill_dir` is where the emulator keeps large objects (by default the system's
    temporary directory).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        fault_prefix: str | None = None,
        keep_data: bool = False,
        moto_port: int = 0,
        api_port: int = 0,
        web_port: int = 0,
        spill_dir: Path | None = None,
    ) -> None:
        self.workdir = workdir
        state_dir = workdir / "state"
        self.terraform_state_file = terraform_state_file(state_dir)
        self.log_path = workdir / "devstack.log"
        command = [
            sys.executable, "-m", "tests.devstack",
            "--moto-port", str(moto_port or free_port()),
            "--api-port", str(api_port or free_port()),
            "--web-port", str(web_port or free_port()),
            "--state-dir", str(state_dir),
            "--api-log-level", "warning",
            # Tested and measured code stays as started (and the API's pid is its worker's).
            "--no-reload",
            "--keep-data" if keep_data else "--no-keep-data",
        ]  # fmt: skip
        if fault_prefix:
            command += ["--fault-prefix", fault_prefix]
        with self.log_path.open("a") as log:
            # Its own process group: a stack that must be killed takes its API process along.
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell
                command,
                cwd=REPO_ROOT,
                # moto keeps an object over 5 MiB in a temporary file (TMPDIR).
                env={**os.environ, "TMPDIR": str(spill_dir)} if spill_dir else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not state_file(state_dir).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(
                    f"local stack did not start:\n{self.log_path.read_text()[-4000:]}"
                )
            time.sleep(0.1)
        self.state: StackState = load_state(state_dir)
        self._clients: dict[str, Any] = {}

    def close(self) -> None:
        """SIGTERM, as Ctrl-C stops `make dev` (saving the data with keep_data takes a while
        for large files); a stack that does not stop in time is killed with its whole
        process group, its API process included."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> ChildStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def client(self, service: str) -> Any:
        """One client per service: building a boto3 client costs more than most calls."""
        if service not in self._clients:
            self._clients[service] = local_client(
                self.state, service, Config(retries={"mode": "standard", "max_attempts": 3})
            )
        return self._clients[service]

    def api(self, token: str | None = None, timeout: float = 30) -> httpx.Client:
        """An HTTP client for the upload API, signed in as the demo user."""
        headers = {
            "Authorization": token or fresh_id_token(self.state),
            "Content-Type": "application/json",
        }
        return httpx.Client(base_url=self.state.api_url, headers=headers, timeout=timeout)
