"""`terraform apply` of environments/local into the emulator, as the local stack starts.

The same composition module as every AWS environment; its state is kept in the
stack's state directory. It starts empty with the emulator, or, when the
emulator's data was restored from a snapshot of other Terraform inputs
(snapshot.py), is the state of that snapshot, so the apply changes only what
changed. The apply takes
a minute or more, so it runs with `-json` and shows its progress as it goes
(apply_progress.py); terraform.log in the state directory gets the output of
both steps as Terraform would have printed it.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess  # nosec B404 - runs the terraform binary only, with our own arguments
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tests.devstack import definitions as d
from tests.devstack import terraform
from tests.devstack.apply_progress import ApplyProgress, ProgressDisplay

log = logging.getLogger("devstack")


@dataclass(frozen=True)
class WebOrigins:
    """Where the local stack serves the API and the web app: the web app's CSP and the
    API's and upload bucket's CORS name them, so Terraform gets both."""

    api_url: str
    web_origin: str

    def variables(self) -> list[str]:
        return [f"-var=web_api_url={self.api_url}", f"-var=web_origin={self.web_origin}"]


def terraform_state_file(state_dir: Path) -> Path:
    """Where a stack keeps the local state of its Terraform apply (the emulator's resources)."""
    return state_dir / "terraform" / "terraform.tfstate"


def terraform_log_file(state_dir: Path) -> Path:
    return state_dir / "terraform.log"


def apply_local_environment(
    moto_endpoint: str,
    state_dir: Path,
    *,
    web: WebOrigins,
    keep_state: bool = False,
    screen: TextIO | None = None,
) -> None:
    """init and apply environments/local against `moto_endpoint`, the apply's progress on
    `screen` (stdout by default); `state_dir` must be absolute (Terraform runs with -chdir
    and would read a relative path from there). `keep_state`: the emulator holds what the
    existing Terraform state describes; otherwise both start empty."""
    screen = screen or sys.stdout
    state_file = terraform_state_file(state_dir)
    work = state_file.parent
    if work.exists() and not keep_state:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    env = terraform.environment({"TF_DATA_DIR": str(work / ".terraform")})
    log_path = terraform_log_file(state_dir)
    print(f"Terraform applies environments/local into the emulator; log: {log_path}", file=screen)
    with log_path.open("w", encoding="utf-8") as log_file:
        init = ["init", "-input=false", f"-backend-config=path={state_file}"]
        result = terraform.run(init, d.LOCAL_ROOT, env=env)
        log_file.write(result.output)
        log_file.flush()
        if result.returncode != 0:
            raise RuntimeError(
                f"terraform init of environments/local failed (full log: {log_path}):\n"
                f"{result.output[-3000:]}"
            )
        log.info("terraform init of environments/local: %.1f s", result.seconds)
        apply = [
            "apply",
            "-json",
            "-input=false",
            "-auto-approve",
            f"-var=endpoint={moto_endpoint}",
            f"-var=account_id={d.ACCOUNT_ID}",
            *web.variables(),
        ]
        display = ProgressDisplay(screen, interactive=screen.isatty())
        failure = apply_showing_progress(apply, env, log_file, display)
    if failure is not None:
        raise RuntimeError(
            f"terraform apply of environments/local failed (full log: {log_path}):\n{failure}"
        )


def apply_showing_progress(
    args: list[str], env: dict[str, str], log_file: TextIO, display: ProgressDisplay
) -> str | None:
    """Run the apply, its log to `log_file` and its progress to `display`; on failure return
    the last error (or, without one, the end of the log)."""
    process = subprocess.Popen(  # noqa: S603  # nosec B603 - terraform with our own arguments
        terraform.command(args, d.LOCAL_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_forward, args=(process, lines), daemon=True)
    reader.start()
    progress = ApplyProgress(started=time.monotonic())
    tail: deque[str] = deque(maxlen=30)
    try:
        while True:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                line = ""  # nothing new: the line still shows the time passing
            if line is None:
                break
            if line:
                text = progress.feed(line, time.monotonic())
                log_file.write(text)
                log_file.flush()
                tail.append(text)
            display.show(progress.line(time.monotonic()), time.monotonic())
        returncode = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    if returncode != 0:
        display.finish(f"{progress.line(time.monotonic())}: failed")
        return progress.last_error or "".join(tail)
    display.finish(progress.line(time.monotonic()))
    return None


def _forward(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Hand each line of the process's output to `lines`, then None at its end."""
    for line in process.stdout or ():
        lines.put(line)
    lines.put(None)
