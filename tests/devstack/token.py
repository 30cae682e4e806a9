"""`python -m tests.devstack.token` (make token): print only a fresh IdToken of the demo user.

So `ID_TOKEN=$(make -s token)` works; errors go to stderr with a non-zero exit.
`--api-url` prints the local stack's API URL instead (for `make upload`).
"""

import os
import sys
from pathlib import Path

import botocore.exceptions

from tests.devstack.demo_user import fresh_id_token
from tests.devstack.stack_state import DEFAULT_STATE_DIR, load_state


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    try:
        state = load_state(state_dir)
        answer = state.api_url if arguments == ["--api-url"] else fresh_id_token(state)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.EndpointConnectionError:
        print(
            "error: the local stack is not running (nothing answers at its moto endpoint); "
            "start it with: make dev",
            file=sys.stderr,
        )
        return 1
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
