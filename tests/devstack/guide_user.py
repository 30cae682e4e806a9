"""`make guide-user EMAIL=...`: the usage guide's sign-in, against the local stack.

The original guide creates a user with a temporary password, signs in with
ADMIN_USER_PASSWORD_AUTH (Cognito answers NEW_PASSWORD_REQUIRED), sets the
final password with admin-respond-to-auth-challenge and takes the IdToken.
These are the same three calls, against the local stack's user pool, so
`ID_TOKEN=$(make -s guide-user EMAIL=me@example.com)` needs no AWS CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import botocore.exceptions

from ops.environment import local_client
from tests.devstack.demo_user import demo_password
from tests.devstack.stack_state import DEFAULT_STATE_DIR, StackState, load_state


def guide_sign_in(state: StackState, email: str) -> str:
    """Create `email` with a temporary password, answer NEW_PASSWORD_REQUIRED, return an IdToken."""
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
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": demo_password()},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.devstack.guide_user", description=__doc__
    )
    parser.add_argument("email")
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    try:
        print(guide_sign_in(load_state(state_dir), args.email))
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
