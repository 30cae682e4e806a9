"""`python -m tests.perf.bench`: measure, then write bench.json, bench.md and scaling.png."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.devstack.definitions import REPO_ROOT
from tests.perf.bench import measure, plot, report

REPORT_DIR = REPO_ROOT / "tests" / "perf" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench")
    parser.add_argument("--rounds-upload", type=int, default=50)
    parser.add_argument("--rounds-processed", type=int, default=40)
    parser.add_argument("--rounds-cold", type=int, default=21)
    parser.add_argument("--rounds-direct-upload", type=int, default=21)
    parser.add_argument("--rounds-memory", type=int, default=7)
    parser.add_argument("--rounds-throughput", type=int, default=7)
    parser.add_argument("--throughput-files", type=int, default=40)
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)

    results = measure.run(
        rounds_upload=args.rounds_upload,
        rounds_processed=args.rounds_processed,
        rounds_cold=args.rounds_cold,
        rounds_direct_upload=args.rounds_direct_upload,
        rounds_memory=args.rounds_memory,
        rounds_throughput=args.rounds_throughput,
        throughput_files=args.throughput_files,
    )
    results["verdicts"] = report.verdicts(results)
    report.write(results, args.out)
    plot.plot_scaling(results["scaling"], args.out / "scaling.png")

    for v in results["verdicts"]:
        status = {"met": "ok", "unstable": "NOT JUDGED: unstable"}.get(
            v["status"], f"MISSED by {v['missed_by_percent']} %"
        )
        print(f"{v['metric']:<24} {v['measured']:>10} (target <= {v['target_at_most']}) {status}")
    for line in report.figures(results):
        print(line)
    reports = (args.out / name for name in ("bench.json", "bench.md", "scaling.png"))
    print("reports:", ", ".join(map(str, reports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
