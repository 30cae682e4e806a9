"""`python -m tests.perf.importtime`: what the upload API imports before it can answer.

Runs `python -X importtime` over what `uvicorn --factory upload_api.main:create_app`
imports and builds before serving, and prints the ten packages that take the
longest (self time of all their modules) and the total. The bench records the
same profile in tests/perf/results/bench.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess  # nosec B404  # starts only our own interpreter
import sys
from collections import Counter
from typing import Any

# What the image's CMD loads before the first request: uvicorn with the C parser
# and loop it picks, then the app itself.
_STARTUP = (
    "import uvicorn, uvloop, httptools\n"
    "from uvicorn.protocols.http import httptools_impl\n"
    "from upload_api.main import create_app\n"
)


def profile(env: dict[str, str] | None = None, top: int = 10) -> dict[str, Any]:
    """Self time per top-level package (ms), the `top` largest, and the total."""
    command = [sys.executable, "-X", "importtime", "-c", _STARTUP]
    run_env = dict(env if env is not None else os.environ)
    result = subprocess.run(  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell
        command, env=run_env, check=True, capture_output=True, text=True
    )
    by_package: Counter[str] = Counter()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        by_package[name.strip().split(".")[0]] += int(self_us)
    total_us = sum(by_package.values())
    return {
        "total_ms": round(total_us / 1000, 1),
        "top": [
            {"package": name, "self_ms": round(us / 1000, 1)}
            for name, us in by_package.most_common(top)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.importtime", description=__doc__)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    result = profile(top=args.top)
    print(f"{'package':<24} {'self ms':>8}")
    for row in result["top"]:
        print(f"{row['package']:<24} {row['self_ms']:>8}")
    print(f"{'all imports':<24} {result['total_ms']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
