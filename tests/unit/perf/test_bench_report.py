"""The bench's report and plot come from bench.json alone: the committed results redraw the
committed bench.md exactly, and a scaling.png of the committed one's size."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.perf.bench import plot, report

RESULTS = Path(__file__).resolve().parents[2] / "perf" / "results"


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])  # the IHDR chunk comes first
    return width, height


def test_the_committed_bench_md_is_drawn_from_the_committed_bench_json() -> None:
    results = json.loads((RESULTS / "bench.json").read_text())
    assert report.markdown(results) == (RESULTS / "bench.md").read_text()


def test_the_verdicts_in_bench_json_follow_from_its_figures() -> None:
    results = json.loads((RESULTS / "bench.json").read_text())
    assert report.verdicts(results) == results["verdicts"]


def test_write_puts_the_results_and_their_markdown_side_by_side(tmp_path: Path) -> None:
    results = json.loads((RESULTS / "bench.json").read_text())
    report.write(results, tmp_path / "out")
    assert (tmp_path / "out" / "bench.json").read_text() == (RESULTS / "bench.json").read_text()
    assert (tmp_path / "out" / "bench.md").read_text() == (RESULTS / "bench.md").read_text()


def test_the_scaling_plot_is_drawn_from_bench_json(tmp_path: Path) -> None:
    results = json.loads((RESULTS / "bench.json").read_text())
    plot.plot_scaling(results["scaling"], tmp_path / "scaling.png")
    assert _png_size(tmp_path / "scaling.png") == _png_size(RESULTS / "scaling.png")
