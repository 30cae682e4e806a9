"""`python -m tests.perf.upload_breakdown`: where the app's own work on one JSON upload goes.

Times, in process and without AWS, each step `POST /upload` takes on a body
before its S3 put, with the app's own functions: reading the body, parsing it,
decoding the Base64 and hashing the file. Prints the median of each (ms). The
tests/README.md's "Where a 4 MiB POST /upload spent its time" comes from this.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from upload_api.api.routes.uploads import _read_capped_body, body_limit, parse_upload_request
from upload_api.core.files import decode_base64_strict, unwrap_base64

MIB = 1024 * 1024
CHUNK_BYTES = 64 * 1024  # what uvicorn hands the app at a time


class _Request:
    """The one thing _read_capped_body asks of a request: its headers and its chunks."""

    def __init__(self, body: bytes) -> None:
        self.headers = {"content-length": str(len(body))}
        self._body = body

    async def stream(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), CHUNK_BYTES):
            yield self._body[start : start + CHUNK_BYTES]


def _median_ms(step: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2), result


def breakdown(size: int, rounds: int) -> dict[str, float]:
    file = os.urandom(size)
    body = json.dumps({"file_name": "f.bin", "file_data": base64.b64encode(file).decode()}).encode()
    limit = body_limit(size)
    steps: dict[str, float] = {}
    loop = asyncio.new_event_loop()  # one loop for all rounds, as uvicorn has
    try:
        steps["read the body"], read = _median_ms(
            lambda: loop.run_until_complete(_read_capped_body(_Request(body), limit)),  # type: ignore[arg-type]
            rounds,
        )
    finally:
        loop.close()
    steps["JSON and the request model"], payload = _median_ms(
        lambda: parse_upload_request(read), rounds
    )
    steps["strict Base64 decode"], data = _median_ms(
        lambda: decode_base64_strict(unwrap_base64(payload.file_data), size), rounds
    )
    steps["SHA-256"], _ = _median_ms(lambda: hashlib.sha256(data).digest(), rounds)
    steps["total"] = round(sum(steps.values()), 2)
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.upload_breakdown")
    parser.add_argument("--mib", type=int, default=4, help="file size in MiB")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    for step, ms in breakdown(args.mib * MIB, args.rounds).items():
        print(f"{step:<28} {ms:>8} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
