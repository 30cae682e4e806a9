"""The progress line on stderr: the file's bytes sent so far, and the client's notes."""

from __future__ import annotations

import sys
import threading

# Bytes read from the file (or the JSON body) per write, and per progress update.
CHUNK = 256 * 1024


class Progress:
    """The file's bytes sent so far, as one line on stderr (parts in threads add to it too),
    and the client's notes between. `show=False` keeps stderr quiet."""

    def __init__(self, total: int, *, show: bool = True) -> None:
        self.total, self.sent, self.show = total, 0, show
        self._line_open = False
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.sent += count
            if self.show:
                filled = 30 * self.sent // self.total if self.total else 30
                bar = "#" * filled + "." * (30 - filled)
                sys.stderr.write(f"\r  [{bar}] {self.sent:>13,}/{self.total:,} bytes")
                sys.stderr.flush()
                self._line_open = True

    def note(self, message: str) -> None:
        with self._lock:
            if self.show:
                sys.stderr.write(("\n" if self._line_open else "") + message + "\n")
                self._line_open = False

    def end(self) -> None:
        with self._lock:
            if self._line_open:
                sys.stderr.write("\n")
                self._line_open = False
