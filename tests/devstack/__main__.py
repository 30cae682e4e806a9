"""`python -m tests.devstack` (make dev): run the whole upload flow locally until Ctrl-C."""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from tests.devstack.definitions import DEMO_USER
from tests.devstack.stack import DevStack
from tests.devstack.stack_state import DEFAULT_STATE_DIR, state_file


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m tests.devstack",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Each default comes from the environment variable named in its option's help "
        "when set. One stack per state directory: run a second one with its own state "
        "directory and ports.",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=int(env("DEVSTACK_MOTO_PORT", "5000")),
        help="port of the AWS emulator (moto) on 127.0.0.1; 0 picks a free one; "
        "env DEVSTACK_MOTO_PORT",
    )
    parser.add_argument(
        "--api-port",
        type=int,
        default=int(env("DEVSTACK_API_PORT", "8000")),
        help="port of the upload API on 127.0.0.1; 0 picks a free one; env DEVSTACK_API_PORT",
    )
    parser.add_argument(
        "--web-port",
        type=int,
        default=int(env("DEVSTACK_WEB_PORT", "8080")),
        help="port of the web app on 127.0.0.1; 0 picks a free one; env DEVSTACK_WEB_PORT",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(env("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR))),
        help="where the stack keeps state.json (make token reads it), the Terraform state "
        "and terraform.log; env DEVSTACK_STATE_DIR",
    )
    parser.add_argument(
        "--api-log-level",
        default=env("DEVSTACK_API_LOG_LEVEL", "info"),
        help="uvicorn's log level for the upload API; env DEVSTACK_API_LOG_LEVEL",
    )
    parser.add_argument(
        "--fault-prefix",
        default=env("DEVSTACK_FAULT_PREFIX"),
        help="test hook: uploads named <prefix><n>-* fail their first n processing attempts "
        "(<prefix>always-*: every attempt) with a transient error, <prefix>c<n>-* with a "
        "configuration error; <prefix>unscanned-* never get a malware scan "
        "verdict; env DEVSTACK_FAULT_PREFIX",
    )
    parser.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="restart the upload API and re-import the processor when their code (or the "
        "contract) changes, keeping the emulator and its data; the e2e tests' and the "
        "bench's stacks run with --no-reload",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start with an empty emulator: discard the data kept from the last run and "
        "apply Terraform afresh",
    )
    parser.add_argument(
        "--keep-data",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the emulator's data across restarts: saved to <state dir>/snapshot/ on "
        "stop, restored on start (without an apply when Terraform's inputs are unchanged); "
        "the e2e tests' and the bench's stacks run with --no-keep-data",
    )
    return parser.parse_args(argv)


def curl_command(api: str) -> str:
    """The README's upload example, same shape as against API Gateway."""
    data = '"{\\"file_name\\":\\"hello.txt\\",\\"comment\\":\\"first upload\\",' + (
        '\\"file_data\\":\\"$(printf \'hello\' | base64)\\"}"'
    )
    return (
        f'curl -sS -X POST {api}/upload -H "Authorization: $ID_TOKEN" '
        f"-H 'Content-Type: application/json' -d {data}"
    )


def banner(stack: DevStack, seconds: float) -> str:
    api = stack.api_url
    curl = curl_command(api)
    return f"""
Local stack ready in {seconds:.1f} s: upload API {api}, moto {stack.moto_endpoint}
Web app: {stack.web_url}
  sign in as {DEMO_USER}, with the password in {state_file(stack.state_dir)}
Get a token of the demo user (in another terminal, from the repository root):
  ID_TOKEN=$(make -s token)
Upload a file:
  {curl}
Then: curl -sS {api}/uploads/<file_id> -H "Authorization: $ID_TOKEN"   (or: make upload FILE=path)
Press Ctrl-C to stop.
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "httpx", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.perf_counter()
    stack = DevStack(
        moto_port=args.moto_port,
        api_port=args.api_port,
        web_port=args.web_port,
        state_dir=args.state_dir,
        api_log_level=args.api_log_level,
        fault_prefix=args.fault_prefix,
        reload_code=args.reload,
        fresh=args.fresh,
        keep_data=args.keep_data,
    )
    try:
        stack.start()
        print(banner(stack, time.perf_counter() - started), flush=True)
        # A timed wait: a signal the kernel hands to one of the emulator's threads is only
        # acted on when the main thread runs again, and an untimed wait never returns.
        while not stopping.wait(0.5):
            pass
        print("Stopping the local stack...", flush=True)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
