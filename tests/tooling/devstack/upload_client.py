"""`python -m devstack.upload_client FILE` (make upload): upload to the local stack with progress.

Sends the same request as the README's curl example (JSON with the file in
Base64, `Authorization: <IdToken>`), shows the bytes going out, then waits for
the processing outcome.
"""

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from devstack.stack import DEFAULT_STATE_DIR, fresh_id_token, load_state
from upload_contract import Status

CHUNK = 64 * 1024


def progress_body(body: bytes, out=sys.stderr) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    total = len(body)
    for start in range(0, total, CHUNK):
        chunk = body[start : start + CHUNK]
        sent = start + len(chunk)
        filled = int(30 * sent / total)
        out.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] {sent:>10,}/{total:,} bytes")
        out.flush()
        yield chunk
    out.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.upload_client")
    parser.add_argument("file", type=Path)
    parser.add_argument("--comment", default="")
    parser.add_argument("--wait", type=float, default=10, help="seconds to wait for processing")
    args = parser.parse_args(argv)
    try:
        state = load_state(Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR))))
        data = args.file.read_bytes()
        token = fresh_id_token(state)
    except (FileNotFoundError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    payload = json.dumps(
        {
            "file_name": args.file.name,
            "comment": args.comment,
            "file_data": base64.b64encode(data).decode("ascii"),
        }
    ).encode()
    headers = {"Authorization": token, "Content-Type": "application/json"}
    print(f"Uploading {args.file} ({len(data):,} bytes) to {state.api_url}/upload", file=sys.stderr)
    with httpx.Client(base_url=state.api_url, headers=headers, timeout=60) as client:
        response = client.post(
            "/upload",
            content=progress_body(payload),
            headers={"Content-Length": str(len(payload))},
        )
        print(json.dumps(response.json(), indent=2))
        if response.status_code != 201:
            return 1
        file_id = response.json()["file_id"]
        deadline = time.monotonic() + args.wait
        status: str = Status.UPLOADED
        while time.monotonic() < deadline and status == Status.UPLOADED:
            time.sleep(0.2)
            status = client.get(f"/uploads/{file_id}").json().get("status", status)
        print(f"status: {status}", file=sys.stderr)
    return 0 if status == Status.PROCESSED else 1


if __name__ == "__main__":
    sys.exit(main())
