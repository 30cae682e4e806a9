"""The progress on stderr: percentage, speed and time left; plain lines when not a terminal."""

from __future__ import annotations

import pytest

from upload_client.progress import Progress

MB = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_line_each_tenth_not_a_frame_each_chunk(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    progress = Progress(100 * MB, terminal=False, clock=clock)
    for _ in range(400):  # 400 chunks of 250 kB, 0.01 s each: 25 MB/s
        clock.now += 0.01
        progress.add(MB // 4)
    progress.end()

    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    # The first chunk, then one line per tenth: 10 %, 20 %, ..., 100 %.
    assert len(lines) == 11
    assert lines[0] == "    0%      250,000/100,000,000 bytes"
    assert lines[5] == "   50%   50,000,000/100,000,000 bytes  25.0 MB/s  0:02 left"
    assert lines[-1] == "  100%  100,000,000/100,000,000 bytes  25.0 MB/s"


def test_off_a_terminal_a_slow_upload_still_shows_a_line_every_few_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    progress = Progress(100 * MB, terminal=False, clock=clock)
    for _ in range(60):  # 1 MB a second for a minute: no tenth in sight for 10 s
        clock.now += 1
        progress.add(MB)

    lines = capsys.readouterr().err.splitlines()
    # At 1 s and 6 s, then at each tenth (10 s, 20 s, ...) and 5 s after it.
    shown = [int(line.split("%")[0]) for line in lines]
    assert shown == [1, 6, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]
    assert lines[-1] == "   60%   60,000,000/100,000,000 bytes  1.0 MB/s  0:40 left"


def test_on_a_terminal_one_line_redrawn_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    progress = Progress(4 * MB, terminal=True, clock=clock)
    for _ in range(4):
        clock.now += 0.5
        progress.add(MB)
    progress.note("a note goes on a line of its own")
    progress.end()

    err = capsys.readouterr().err
    frames = err.split("\r")
    assert frames[0] == ""
    assert frames[1] == "  [##........]  25%  1,000,000/4,000,000 bytes"
    assert frames[3] == "  [#######...]  75%  3,000,000/4,000,000 bytes  2.0 MB/s  0:00 left"
    # Padded to cover the longer line before it; the note starts a line of its own.
    assert frames[4] == (
        "  [##########] 100%  4,000,000/4,000,000 bytes  2.0 MB/s"
        + " " * len("  0:00 left")
        + "\na note goes on a line of its own\n"
    )
    assert len(frames) == 5


def test_the_speed_leaves_out_what_a_resumed_upload_had_sent_before(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    progress = Progress(100 * MB, terminal=False, clock=clock)
    progress.add(90 * MB)  # the parts S3 already holds, counted at once
    clock.now += 2
    progress.add(2 * MB)
    progress.end()

    assert capsys.readouterr().err.splitlines()[-1].endswith("1.0 MB/s  0:08 left")


def test_the_last_count_is_shown_even_when_bytes_are_taken_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    progress = Progress(100 * MB, terminal=False, clock=clock)
    progress.add(MB)
    progress.add(-MB)  # S3 refused the part: none of its bytes count
    progress.end()

    assert capsys.readouterr().err.splitlines()[-1] == "    0%            0/100,000,000 bytes"


def test_show_false_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(10, show=False, terminal=True)
    progress.add(10)
    progress.note("quiet")
    progress.end()
    assert capsys.readouterr().err == ""
