"""Progress of `terraform apply -json` as one line, and the human-readable log of it.

Terraform's machine-readable UI is one JSON object per line. The messages read:

- `planned_change`: a resource the plan will create, update or delete (a data
  source it reads at apply time has the action `read` and is not counted);
- `apply_start`, `apply_complete`, `apply_errored`: one resource (or data
  source read) begins, ends, fails; `apply_progress` repeats the
  start every 10 s;
- `diagnostic` with severity `error`: what failed;
- `change_summary`: the plan's, then the apply's totals.

Each message also carries `@message`, the line Terraform would have printed:
the log keeps that, so it reads like a plain `terraform apply`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class ApplyProgress:
    """What an apply has done so far; `feed` it each line of output as it arrives."""

    started: float
    planned: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    # Resources begun and not finished, with when they began: the oldest is the one waited on.
    running: dict[str, float] = field(default_factory=dict)
    last_error: str = ""
    planning: bool = True  # until the plan's change_summary: `planned` is still growing

    def feed(self, line: str, now: float) -> str:
        """Take one line of `terraform apply -json`; return its text for the log."""
        try:
            message: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            return line if line.endswith("\n") else line + "\n"  # e.g. a crash on stderr
        kind = message.get("type")
        if kind == "planned_change" and message["change"]["action"] != "read":
            self.planned.add(message["change"]["resource"]["addr"])
        elif kind == "change_summary" and message["changes"]["operation"] == "plan":
            self.planning = False
        elif kind == "apply_start":
            self.running.setdefault(message["hook"]["resource"]["addr"], now)
        elif kind in ("apply_complete", "apply_errored"):
            address = message["hook"]["resource"]["addr"]
            self.running.pop(address, None)
            if kind == "apply_complete" and address in self.planned:
                self.done.add(address)
        text = str(message.get("@message", line.strip()))
        if kind == "diagnostic":
            diagnostic = message["diagnostic"]
            detail = str(diagnostic.get("detail", "")).strip()
            text = f"{text}\n{detail}" if detail else text
            if diagnostic.get("severity") == "error":
                where = diagnostic.get("address")
                self.last_error = f"{where}: {text}" if where else text
        return text + "\n"

    def line(self, now: float) -> str:
        """One line for the screen: done out of planned, elapsed time, and the resource it
        has waited on longest, for how long."""
        elapsed = f"{now - self.started:.0f} s"
        if self.planning:
            return f"terraform apply: planning, {elapsed}"
        status = f"terraform apply: {len(self.done)}/{len(self.planned)} resources, {elapsed}"
        if not self.running:
            return status
        address, since = next(iter(self.running.items()))
        # Short enough for a terminal line: module.a.module.b.aws_x.y reads as a.b.aws_x.y.
        short = address.replace("module.", "")
        others = f" (+{len(self.running) - 1} more)" if len(self.running) > 1 else ""
        return f"{status}; {now - since:.0f} s on {short}{others}"


class ProgressDisplay:
    """On a terminal, one line rewritten in place; otherwise a plain line every `interval` s,
    so a log file or CI output gets a few lines, not one per second."""

    def __init__(self, stream: TextIO, *, interactive: bool, interval: float = 5.0) -> None:
        self._stream = stream
        self._interactive = interactive
        self._interval = interval
        self._last_shown: float | None = None

    def show(self, text: str, now: float) -> None:
        if self._interactive:
            # Cut to the terminal's width: a wrapped line cannot be rewritten with \r.
            width = shutil.get_terminal_size().columns - 1
            self._stream.write(f"\r{text[:width]}\x1b[K")
        elif self._last_shown is None or now - self._last_shown >= self._interval:
            self._stream.write(text + "\n")
            self._last_shown = now
        else:
            return
        self._stream.flush()

    def finish(self, text: str) -> None:
        """The last line, kept on screen."""
        self._stream.write(f"\r{text}\x1b[K\n" if self._interactive else text + "\n")
        self._stream.flush()
