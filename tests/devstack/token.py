"""`python -m tests.devstack.token` (make token): print only a fresh IdToken of a local user.

The demo user by default; `--email EMAIL` for a user `make guide-user` created
(its password is kept in the state directory). So `ID_TOKEN=$(make -s token)`
works; errors go to stderr with a non-zero exit. `--api-url` prints the local
stack's API URL instead (for `make upload`).
"""

import argparse
import os
import sys
from pathlib import Path

import botocore.exceptions

from tests.devstack.demo_user import sign_in
from tests.devstack.stack_state import DEFAULT_STATE_DIR, StackState, load_state, saved_passwords


class UnknownUserError(LookupError):
    pass


def credentials(state: StackState, state_dir: Path, email: str | None) -> tuple[str, str]:
    """The user name and password to sign in with: the demo user's, or `email`'s."""
    if email is None or email == state.username:
        return state.username, state.password
    password = saved_passwords(state_dir).get(email)
    if password is None:
        raise UnknownUserError(
            f"no password kept for {email}: create the user with make guide-user EMAIL={email}"
        )
    return email, password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.devstack.token", description=__doc__)
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--email", help="a user make guide-user created (default: the demo user)")
    choice.add_argument("--api-url", action="store_true", help="print the API URL instead")
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    try:
        state = load_state(state_dir)
        if args.api_url:
            answer = state.api_url
        else:
            answer = sign_in(state, *credentials(state, state_dir, args.email))
    except (FileNotFoundError, UnknownUserError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.EndpointConnectionError:
        print(
            "error: the local stack is not running (nothing answers at its moto endpoint); "
            "start it with: make dev",
            file=sys.stderr,
        )
        return 1
    except botocore.exceptions.ClientError as error:
        print(
            f"error: {error}\n(a restarted stack starts with an empty user pool: users of "
            "make guide-user must be created again)",
            file=sys.stderr,
        )
        return 1
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
