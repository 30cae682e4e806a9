"""The local stack's demo user: created as the stack starts (kept across a restart with the
emulator's data), signed in by `make token`, the end-to-end tests and the bench."""

from __future__ import annotations

import secrets
import string
from typing import Any

from botocore.config import Config

from ops.environment import local_client
from tests.devstack.definitions import DEMO_USER
from tests.devstack.stack_state import StackState


def demo_password() -> str:
    """Random per start, meets Cognito's default policy (upper, lower, digit, symbol)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20)) + "aA1!"


def demo_user_password(cognito: Any, user_pool_id: str, kept_password: str | None) -> str:
    """The demo user's password: the kept one when the user survived a restart (restored
    data), else that of a demo user created now."""
    if kept_password is not None:
        try:
            cognito.admin_get_user(UserPoolId=user_pool_id, Username=DEMO_USER)
        except cognito.exceptions.UserNotFoundException:
            pass  # Terraform replaced the user pool since: a new user in the new pool
        else:
            return kept_password
    return create_demo_user(cognito, user_pool_id)


def create_demo_user(cognito: Any, user_pool_id: str) -> str:
    """The demo user, confirmed, with a fresh password (returned)."""
    password = demo_password()
    cognito.admin_create_user(
        UserPoolId=user_pool_id,
        Username=DEMO_USER,
        UserAttributes=[
            {"Name": "email", "Value": DEMO_USER},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=user_pool_id, Username=DEMO_USER, Password=password, Permanent=True
    )
    return password


def fresh_id_token(state: StackState) -> str:
    return sign_in(state, state.username, state.password)


def sign_in(state: StackState, username: str, password: str) -> str:
    """A fresh IdToken of any user of the local stack's user pool."""
    # Fail fast when the stack is down instead of retrying for seconds.
    fail_fast = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
    cognito = local_client(state, "cognito-idp", fail_fast)
    result = cognito.initiate_auth(
        ClientId=state.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["IdToken"])
