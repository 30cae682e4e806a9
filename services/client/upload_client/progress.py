"""The progress on stderr: the file's bytes sent so far, and the client's notes.

On a terminal one line redrawn in place (`\\r`); anywhere else (CI, a file, a
pipe) plain lines, so a log keeps a few readable lines instead of thousands of
carriage-return frames.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

# Bytes read from the file (or the JSON body) per write, and per progress update.
CHUNK = 256 * 1024
# Plain lines: one at each tenth of the file (10 %, 20 %, ...), and one once this
# many seconds have passed since the last, for a slow upload.
PLAIN_LINE_SECONDS = 5.0
# A terminal's line: redrawn at most this often, its bar short enough for the line
# to fit 80 columns even for a 5 GiB file.
REDRAW_SECONDS = 0.1
BAR_WIDTH = 10


class Progress:
    """The file's bytes sent so far on stderr (parts in threads add to it too), with its
    percentage, speed and time left, and the client's notes between. `show=False` keeps
    stderr quiet; `terminal` defaults to whether stderr is one."""

    def __init__(
        self,
        total: int,
        *,
        show: bool = True,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.sent, self.show = total, 0, show
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self._clock = clock
        # The speed counts from the first update: bytes a resumed upload had already
        # sent arrive all at once then, and must not count as speed.
        self._first: tuple[float, int] | None = None
        self._shown: tuple[float, int] | None = None  # when and what was written last
        self._width = 0  # of the longest line drawn on the terminal
        self._line_open = False
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.sent += count
            now = self._clock()
            if self._first is None:
                self._first = (now, self.sent)
            if self.show and self._due(now):
                self._write(now)

    def note(self, message: str) -> None:
        with self._lock:
            if self.show:
                sys.stderr.write(("\n" if self._line_open else "") + message + "\n")
                self._line_open = False

    def end(self) -> None:
        """Write the final count if the last line did not show it, and close the line."""
        with self._lock:
            unshown = self._shown is None or self._shown[1] != self.sent
            if self.show and self._first is not None and unshown:
                self._write(self._clock())
            if self._line_open:
                sys.stderr.write("\n")
                self._line_open = False

    def _due(self, now: float) -> bool:
        if self._shown is None:
            return True
        shown_at, shown_count = self._shown
        if self.sent == self.total:  # the last count is always shown
            return shown_count != self.total
        if self.terminal:
            return now - shown_at >= REDRAW_SECONDS
        return (
            self._tenth(self.sent) != self._tenth(shown_count)
            or now - shown_at >= PLAIN_LINE_SECONDS
        )

    def _tenth(self, count: int) -> int:
        return 10 * count // max(self.total, 1)

    def _write(self, now: float) -> None:
        status = self._status(now)
        if self.terminal:
            # Padded: a shorter line must cover the end of the longer one before it.
            filled = BAR_WIDTH * self.sent // self.total if self.total else BAR_WIDTH
            line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {status}"
            self._width = max(self._width, len(line))
            sys.stderr.write(f"\r  {line:<{self._width}}")
            self._line_open = True
        else:
            sys.stderr.write(f"  {status}\n")
        sys.stderr.flush()
        self._shown = (now, self.sent)

    def _status(self, now: float) -> str:
        percent = 100 * self.sent // self.total if self.total else 100
        total = f"{self.total:,}"
        counts = f"{percent:>3}%  {self.sent:>{len(total)},}/{total} bytes"
        if self._first is None:
            return counts
        started_at, started_with = self._first
        elapsed, moved = now - started_at, self.sent - started_with
        if elapsed <= 0 or moved <= 0:
            return counts
        rate = moved / elapsed
        if self.sent >= self.total:
            return f"{counts}  {_speed(rate)}"
        return f"{counts}  {_speed(rate)}  {_duration((self.total - self.sent) / rate)} left"


def _speed(bytes_per_second: float) -> str:
    if bytes_per_second >= 1e6:
        return f"{bytes_per_second / 1e6:.1f} MB/s"
    if bytes_per_second >= 1e3:
        return f"{bytes_per_second / 1e3:.0f} kB/s"
    return f"{bytes_per_second:.0f} B/s"


def _duration(seconds: float) -> str:
    """h:mm:ss, or m:ss under an hour."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
