"""scaling.png: the scaling curve, drawn from the results alone (bench.json's "scaling")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def plot_scaling(scaling: dict[str, Any], path: Path) -> None:
    import matplotlib  # a second to import: only when drawing, not for --help

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mib = [size / MIB for size in scaling["sizes_bytes"]]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    labels = {
        "app": "POST /upload (app)",
        "direct": "same AWS calls, directly",
        "transport": "the same JSON to a bare app (the extra hop)",
    }
    for side, colour in (("app", "tab:blue"), ("direct", "tab:orange"), ("transport", "tab:gray")):
        fit = scaling[side]
        axes.plot(mib, fit["trimmed_geomean_ms"], "o", color=colour, label=labels[side])
        axes.plot(
            mib,
            [fit["intercept_ms"] + fit["slope_ms_per_mib"] * x for x in mib],
            "-",
            color=colour,
            label=f"{fit['slope_ms_per_mib']} ms/MiB + {fit['intercept_ms']} ms",
        )
    axes.set_xlabel("file size (MiB)")
    axes.set_ylabel("upload latency, trimmed geometric mean (ms)")
    axes.set_title(f"Upload latency by size (slope ratio {scaling['slope_ratio']['value']})")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
