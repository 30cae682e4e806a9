"""`python -m tests.perf.bench.compare A.json B.json`: two bench runs' figures side by side.

Prints a markdown table of every figure the two runs share, how far apart they are
(relative to the smaller) and whether that is within 10 %; exits 1 if any is not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.perf.bench.report import comparison


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench.compare")
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    table = comparison(json.loads(args.first.read_text()), json.loads(args.second.read_text()))
    print(table, end="")
    return 1 if "| no |" in table else 0


if __name__ == "__main__":
    sys.exit(main())
