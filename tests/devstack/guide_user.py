"""`make guide-user EMAIL=...`: the usage guide's sign-in, against the local stack.

The original guide creates a user with a temporary password, signs in with
ADMIN_USER_PASSWORD_AUTH (Cognito answers NEW_PASSWORD_REQUIRED), sets the
final password with admin-respond-to-auth-challenge and takes the IdToken.
These are the same three calls, against the local stack's user pool, so
`ID_TOKEN=$(make -s guide-user EMAIL=me@example.com)` needs no AWS CLI.

The final password is kept in the state directory (users.json, owner-only), so
`make token EMAIL=me@example.com` can sign in again. Run again for the same
email, it resets that user's password instead and prints a token all the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import botocore.exceptions

from ops.environment import local_client
from tests.devstack.demo_user import demo_password, sign_in
from tests.devstack.stack_state import (
    DEFAULT_STATE_DIR,
    StackState,
    load_state,
    save_user_password,
)


def guide_sign_in(state: StackState, email: str, password: str | None = None) -> str:
    """Create `email` with a temporary password, answer NEW_PASSWORD_REQUIRED with `password`
    (a random one when None), return an IdToken."""
    cognito = local_client(state, "cognito-idp")
    temporary = demo_password()
    cognito.admin_create_user(
        UserPoolId=state.user_pool_id,
        Username=email,
        TemporaryPassword=temporary,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    challenge = cognito.admin_initiate_auth(
        UserPoolId=state.user_pool_id,
        ClientId=state.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": temporary},
    )
    if challenge.get("ChallengeName") != "NEW_PASSWORD_REQUIRED":
        raise RuntimeError(f"expected NEW_PASSWORD_REQUIRED, got {challenge.get('ChallengeName')}")
    answer = cognito.admin_respond_to_auth_challenge(
        UserPoolId=state.user_pool_id,
        ClientId=state.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": password or demo_password()},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def reset_sign_in(state: StackState, email: str, password: str) -> str:
    """For a user that exists already: make `password` its own, return an IdToken."""
    cognito = local_client(state, "cognito-idp")
    cognito.admin_set_user_password(
        UserPoolId=state.user_pool_id, Username=email, Password=password, Permanent=True
    )
    return sign_in(state, email, password)


def guide_user_token(state_dir: Path, email: str) -> str:
    """The guide's sign-in for a new `email`, a password reset for one that exists; the
    password is saved for `make token EMAIL=...`."""
    state = load_state(state_dir)
    password = demo_password()
    try:
        token = guide_sign_in(state, email, password)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "UsernameExistsException":
            raise
        print(
            f"{email} is already a user of the local stack: its password is reset "
            "and a fresh token follows",
            file=sys.stderr,
        )
        token = reset_sign_in(state, email, password)
    save_user_password(state_dir, email, password)
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.devstack.guide_user", description=__doc__
    )
    parser.add_argument("email")
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    try:
        print(guide_user_token(state_dir, args.email))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.EndpointConnectionError:
        print("error: the local stack is not running; start it with: make dev", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
