"""`make smoke-user ENV=<env>`: create the environment's smoke user once and store its credentials.

Run by a person with administrator credentials when an environment is set up (and with
--replace to rotate): no CI role may create users, so no CI role holds cognito-idp:Admin*.

1. The secret `<project>-<env>-smoke-user` must exist, encrypted with the environment key
   (Terraform creates the empty container: modules/github-oidc/smoke.tf). Its resource policy
   lets only the smoke role (and break-glass) read it; writing it needs no read.
2. AdminCreateUser (no message sent) and AdminSetUserPassword with a random permanent
   password; the password is never printed.
3. A TOTP factor, in every environment: a pool with MFA "ON" asks for it at the first sign-in
   (MFA_SETUP); elsewhere it is added with the user's access token and made the preferred
   factor. Threat protection may challenge a sign-in from a new address; a user with TOTP
   answers the challenge instead of being blocked.
4. PutSecretValue {username, password, totp_secret}, then a sign-in exactly as the smoke test
   makes it (SRP, then a code of the next TOTP window), then GlobalSignOut.

Should a step before the secret is written fail, the new user is deleted again.
Exit codes: 0 enrolled, 1 failed, 2 cannot run.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from smoke.client import (
    CLIENT_PARAMETER,
    ENVIRONMENTS,
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    POOL_PARAMETER,
    Target,
    aws_session,
    sign_out,
    smoke_user_secret_name,
    ssm_parameter,
)
from smoke.signin import SignInError, SmokeUser, TotpDevice, register_software_token, sign_in


class EnrolError(Exception):
    """The environment is not ready for a smoke user, or one exists already."""


def default_username(environment: str) -> str:
    # example.com is reserved (RFC 2606): no one can receive the pool's mail for it.
    return f"smoke-{environment}@example.com"


def random_password() -> str:
    # Random part plus one character of each class the pool's password policy requires.
    return secrets.token_urlsafe(24) + "Aa1!"


def _user_exists(cognito: Any, pool_id: str, username: str) -> bool:
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    except ClientError as error:
        if error.response["Error"]["Code"] == "UserNotFoundException":
            return False
        raise
    return True


def enrol(
    session: boto3.session.Session,
    target: Target,
    *,
    username: str,
    replace: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> None:
    pool_id = ssm_parameter(session, target, POOL_PARAMETER)
    client_id = ssm_parameter(session, target, CLIENT_PARAMETER)
    secret_name = smoke_user_secret_name(target.environment)
    store = session.client("secretsmanager")
    try:
        described = store.describe_secret(SecretId=secret_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise EnrolError(
                f"{secret_name} does not exist: apply the environment's Terraform first"
            ) from error
        raise
    if not described.get("KmsKeyId"):
        raise EnrolError(f"{secret_name} is not encrypted with the environment key")

    cognito = session.client("cognito-idp")
    if _user_exists(cognito, pool_id, username):
        if not replace:
            raise EnrolError(
                f"{username} exists in {pool_id}; REPLACE=1 (--replace) deletes and re-creates it"
            )
        log(f"smoke-user: deleting the existing {username}")
        cognito.admin_delete_user(UserPoolId=pool_id, Username=username)

    log(f"smoke-user: creating {username} in {pool_id} (no message is sent)")
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword=random_password(),
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": username},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    try:
        user, device = _set_up_credentials(
            cognito, pool_id, client_id, username, clock=clock, sleep=sleep, log=log
        )
        store.put_secret_value(SecretId=secret_name, SecretString=user.to_secret())
    except BaseException:
        log(f"smoke-user: enrolment failed; deleting {username} again")
        cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
        raise
    log(f"smoke-user: credentials stored in {secret_name}")

    # The smoke test's own sign-in, with a code of a later window than the enrolment's.
    log("smoke-user: checking the sign-in (waits for the next TOTP window)")
    tokens = sign_in(
        cognito,
        user_pool_id=pool_id,
        client_id=client_id,
        username=user.username,
        password=user.password,
        device=device,  # remembers the enrolment's window
        now=lambda: datetime.fromtimestamp(clock(), UTC),
    )
    sign_out(cognito, tokens["AccessToken"], log)
    log(f"smoke-user: {username} signs in with SRP and TOTP")


def _set_up_credentials(
    cognito: Any,
    pool_id: str,
    client_id: str,
    username: str,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    log: Callable[[str], None],
) -> tuple[SmokeUser, TotpDevice]:
    """A permanent random password and a verified TOTP factor, and the device that holds it."""
    password = random_password()
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )
    registered: list[TotpDevice] = []

    def mfa_setup(challenge_session: str) -> tuple[TotpDevice, str]:
        log("smoke-user: the pool requires MFA; registering a software token")
        device, next_session = register_software_token(
            cognito, clock=clock, sleep=sleep, session=challenge_session
        )
        if next_session is None:
            raise SignInError("VerifySoftwareToken returned no session")
        registered.append(device)
        return device, next_session

    tokens = sign_in(
        cognito,
        user_pool_id=pool_id,
        client_id=client_id,
        username=username,
        password=password,
        mfa_setup=mfa_setup,
        now=lambda: datetime.fromtimestamp(clock(), UTC),
    )
    access_token = tokens["AccessToken"]
    if not registered:
        log("smoke-user: registering a software token")
        device, _ = register_software_token(
            cognito, clock=clock, sleep=sleep, access_token=access_token
        )
        registered.append(device)
    # Make TOTP the user's factor explicitly, whichever way it was registered.
    cognito.set_user_mfa_preference(
        AccessToken=access_token,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    sign_out(cognito, access_token, log)
    return SmokeUser(username, password, registered[0].secret), registered[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smoke.enroll",
        description="Create an environment's smoke user and store its credentials "
        "(administrator credentials; once per environment).",
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="environment")
    parser.add_argument(
        "--replace", action="store_true", help="delete and re-create an existing smoke user"
    )
    parser.add_argument("--username", help="e-mail address (default smoke-<env>@example.com)")
    args = parser.parse_args(argv)

    found = aws_session(args.env, "smoke-user")
    if found is None:
        return EXIT_CANNOT_RUN
    target, session = found
    try:
        enrol(
            session,
            target,
            username=args.username or default_username(args.env),
            replace=args.replace,
        )
    except (NoCredentialsError, NoRegionError) as error:
        print(f"smoke-user: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except (EnrolError, SignInError, BotoCoreError, ClientError) as error:
        print(f"smoke-user: {args.env} FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
