"""Smoke test of a deployed environment, run by `make smoke ENV=<env>` and by CI after each deploy.

1. GET /health answers without a token; POST /upload without one is refused (401).
2. A throw-away Cognito user is created with the admin API (no e-mail is sent), given a
   random permanent password, and signed in with ADMIN_USER_PASSWORD_AUTH for an IdToken.
   Where the pool requires MFA (prod), the sign-in answers MFA_SETUP by registering a
   software token (TOTP, RFC 6238) for the user, and SOFTWARE_TOKEN_MFA with its next code.
   Neither the token's secret nor a code is ever printed.
3. POST /upload with a small file, then GET /uploads/{file_id} until the processor has
   marked it PROCESSED (FAILED or a timeout fails the check).
4. The user is deleted whatever happened. Timings of each step are printed.

Where to look comes from the same places a deploy uses: region and stack name from
services/samconfig.toml, the user pool and app client from Terraform's SSM parameters,
the API URL from the stack's ApiEndpoint output. Exit codes: 0 passed, 1 failed,
2 cannot run (no AWS credentials, unknown environment).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import boto3
import pyotp
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

PROJECT = "secure-upload"
ENVIRONMENTS = ("dev", "stage", "prod")
SAMCONFIG = Path(__file__).resolve().parents[3] / "services" / "samconfig.toml"
EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# A code computed in the last moments of its window may reach Cognito after the window turned.
TOTP_MIN_SECONDS_LEFT = 2.0


class SmokeCheckError(Exception):
    """The environment answered, but not as it should."""


@dataclass(frozen=True)
class Target:
    environment: str
    region: str
    stack_name: str


@dataclass(frozen=True)
class Response:
    status: int
    body: Any


class Transport(Protocol):
    def __call__(
        self, method: str, url: str, *, token: str | None = None, payload: Any = None
    ) -> Response: ...


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.steps.append((name, time.monotonic() - start))

    def report(self) -> str:
        width = max((len(name) for name, _ in self.steps), default=0)
        lines = [f"  {name:<{width}}  {seconds:7.2f} s" for name, seconds in self.steps]
        total = sum(seconds for _, seconds in self.steps)
        lines.append(f"  {'total':<{width}}  {total:7.2f} s")
        return "\n".join(lines)


def totp(secret_b32: str, at: float) -> str:
    """RFC 6238 code of a base32 secret at Unix time `at` (pyotp: HMAC-SHA1, 30 s, 6 digits).

    Cognito hands out the secret unpadded; case and spaces are forgiven.
    """
    secret = "".join(secret_b32.split()).upper()
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(int(at))


@dataclass
class _TotpDevice:
    """The test user's authenticator app. The secret stays out of repr() and of every message."""

    secret: str = field(repr=False)
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    last_step: int | None = None

    def code(self) -> str:
        """A code of a window no earlier code came from, with some of the window left.

        Cognito accepts a code once: a second one (SOFTWARE_TOKEN_MFA right after the
        MFA_SETUP verification) waits for the next 30 s window.
        """
        while True:
            now = self.clock()
            step = int(now // TOTP_STEP_SECONDS)
            left = (step + 1) * TOTP_STEP_SECONDS - now
            if (self.last_step is None or step > self.last_step) and left >= TOTP_MIN_SECONDS_LEFT:
                break
            self.sleep(left + 0.1)
        self.last_step = step
        return totp(self.secret, now)


def load_target(environment: str, samconfig: Path = SAMCONFIG) -> Target:
    """Region and stack name of an environment, exactly as `sam deploy --config-env` uses them."""
    with samconfig.open("rb") as handle:
        config = tomllib.load(handle)
    parameters = config[environment]["deploy"]["parameters"]
    return Target(environment, parameters["region"], parameters["stack_name"])


def https_transport(
    method: str, url: str, *, token: str | None = None, payload: Any = None
) -> Response:
    """One JSON request with the standard library; HTTP errors are returned, not raised."""
    if not url.startswith("https://"):
        raise SmokeCheckError(f"refusing a non-https API URL: {url}")
    headers = {"Accept": "application/json"}
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310  # https only, checked above
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310  # https only, checked above
            return Response(reply.status, _json_or_text(reply.read()))
    except urllib.error.HTTPError as error:
        return Response(error.code, _json_or_text(error.read()))


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _expect(response: Response, status: int, what: str) -> Any:
    if response.status != status:
        raise SmokeCheckError(
            f"{what}: expected HTTP {status}, got {response.status}: {response.body}"
        )
    return response.body


def _random_password() -> str:
    # Random part plus one character of each class Cognito's password policy may require.
    return secrets.token_urlsafe(24) + "Aa1!"


def _ssm(session: boto3.session.Session, target: Target, name: str) -> str:
    path = f"/{PROJECT}/{target.environment}/{name}"
    value: str = session.client("ssm").get_parameter(Name=path)["Parameter"]["Value"]
    return value


def _api_endpoint(session: boto3.session.Session, target: Target) -> str:
    stacks = session.client("cloudformation").describe_stacks(StackName=target.stack_name)
    outputs: dict[str, str] = {
        o["OutputKey"]: o["OutputValue"] for o in stacks["Stacks"][0].get("Outputs", [])
    }
    if "ApiEndpoint" not in outputs:
        raise SmokeCheckError(f"stack {target.stack_name} has no ApiEndpoint output")
    return outputs["ApiEndpoint"].rstrip("/")


def run_smoke(
    session: boto3.session.Session,
    target: Target,
    *,
    transport: Transport = https_transport,
    timeout_seconds: float = 180.0,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
    timings: Timings | None = None,
) -> Timings:
    """The whole check; raises SmokeCheckError (or a boto error) on the first problem."""
    timings = timings if timings is not None else Timings()
    with timings.step("discover"):
        pool_id = _ssm(session, target, "cognito-user-pool-id")
        client_id = _ssm(session, target, "cognito-app-client-id")
        api = _api_endpoint(session, target)
    log(f"smoke: {target.environment} ({target.region}) {api}")

    with timings.step("health, no token"):
        _expect(transport("GET", f"{api}/health"), 200, "GET /health")
    with timings.step("upload refused without a token"):
        _expect(transport("POST", f"{api}/upload", payload={}), 401, "POST /upload without token")

    cognito = session.client("cognito-idp")
    username = f"smoke-{secrets.token_hex(8)}@example.com"
    with timings.step("create test user"):
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            TemporaryPassword=_random_password(),
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
    try:
        with timings.step("sign in (IdToken)"):
            password = _random_password()
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=password, Permanent=True
            )
            token = _sign_in(cognito, pool_id, client_id, username, password, sleep=sleep, log=log)
        _upload_and_wait(
            transport,
            api=api,
            token=token,
            timings=timings,
            timeout_seconds=timeout_seconds,
            sleep=sleep,
            log=log,
        )
    finally:
        cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
    return timings


def _sign_in(
    cognito: Any,
    pool_id: str,
    client_id: str,
    username: str,
    password: str,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> str:
    try:
        result = cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "InvalidParameterException":
            raise SmokeCheckError(
                "sign-in refused; the app client must allow ALLOW_ADMIN_USER_PASSWORD_AUTH "
                f"(a flow only IAM principals can use): {error}"
            ) from error
        raise
    # A pool with MFA "ON" asks a new user for MFA_SETUP; Cognito may then ask for a
    # code (SOFTWARE_TOKEN_MFA) before it hands out tokens. Each challenge is answered once.
    device: _TotpDevice | None = None
    answered: set[str] = set()
    while "AuthenticationResult" not in result:
        challenge = result.get("ChallengeName")
        parameters = result.get("ChallengeParameters") or {}
        if challenge in answered or challenge not in ("MFA_SETUP", "SOFTWARE_TOKEN_MFA"):
            raise SmokeCheckError(f"sign-in asked for a challenge: {challenge}")
        answered.add(challenge)
        responses = {"USERNAME": parameters.get("USER_ID_FOR_SRP", username)}
        if challenge == "MFA_SETUP":
            offered = str(parameters.get("MFAS_CAN_SETUP", "SOFTWARE_TOKEN_MFA"))
            if "SOFTWARE_TOKEN_MFA" not in offered:
                raise SmokeCheckError(f"sign-in needs MFA the smoke test cannot set up: {offered}")
            log("smoke: the pool requires MFA; registering a software token for the test user")
            device, session = _register_software_token(cognito, result["Session"], clock, sleep)
        else:
            if device is None:
                raise SmokeCheckError("sign-in asked for SOFTWARE_TOKEN_MFA before MFA_SETUP")
            session = result["Session"]
            responses["SOFTWARE_TOKEN_MFA_CODE"] = device.code()
        result = cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool_id,
            ClientId=client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses=responses,
        )
    token: str = result["AuthenticationResult"]["IdToken"]
    return token


def _register_software_token(
    cognito: Any, session: str, clock: Callable[[], float], sleep: Callable[[float], None]
) -> tuple[_TotpDevice, str]:
    """MFA_SETUP: associate a TOTP secret with the sign-in session and prove it with a code.

    Both calls are authorised by the session, not by IAM (botocore sends them unsigned, and
    Cognito does not evaluate IAM policies for them): the deploy role needs no permission
    for them, only cognito-idp:AdminRespondToAuthChallenge for the answer that follows.
    """
    associated = cognito.associate_software_token(Session=session)
    device = _TotpDevice(associated["SecretCode"], clock, sleep)
    verified = cognito.verify_software_token(
        Session=associated.get("Session", session),
        UserCode=device.code(),
        FriendlyDeviceName="smoke",
    )
    if verified.get("Status") != "SUCCESS":
        raise SmokeCheckError(f"the software token was not verified: {verified.get('Status')}")
    return device, verified["Session"]


def _upload_and_wait(
    transport: Transport,
    *,
    api: str,
    token: str,
    timings: Timings,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    log: Callable[[str], None],
) -> None:
    content = f"secure-upload smoke test {secrets.token_hex(16)}\n".encode()
    payload = {
        "file_name": "smoke-test.txt",
        "comment": "make smoke",
        "file_data": base64.b64encode(content).decode(),
    }
    with timings.step("POST /upload"):
        created = _expect(
            transport("POST", f"{api}/upload", token=token, payload=payload), 201, "POST /upload"
        )
    file_id = created["file_id"]
    if created.get("sha256") != hashlib.sha256(content).hexdigest():
        raise SmokeCheckError(f"POST /upload returned the wrong sha256: {created}")
    log(f"smoke: uploaded {file_id}, waiting for PROCESSED")

    with timings.step("wait for PROCESSED"):
        deadline = time.monotonic() + timeout_seconds
        delay = 0.5
        while True:
            item = _expect(
                transport("GET", f"{api}/uploads/{file_id}", token=token), 200, "GET /uploads/{id}"
            )
            status = item.get("status")
            if status == "PROCESSED":
                break
            if status in {"FAILED", "QUARANTINED"}:
                raise SmokeCheckError(f"{status}: {item.get('failure_reason')}")
            if time.monotonic() >= deadline:
                raise SmokeCheckError(f"still {status} after {timeout_seconds:.0f} s")
            sleep(delay)
            delay = min(delay * 2, 5.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smoke", description="End-to-end check of a deployed environment."
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="environment to check")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for PROCESSED"
    )
    args = parser.parse_args(argv)

    target = load_target(args.env)
    session = boto3.session.Session(region_name=target.region)
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:  # e.g. an expired SSO session
        credentials = None
        print(f"smoke: {error}", file=sys.stderr)
    if credentials is None:
        print(
            f"smoke: no AWS credentials; sign in to the {args.env} account first "
            "(e.g. AWS_PROFILE=... or aws sso login). Nothing was checked.",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    timings = Timings()
    try:
        run_smoke(session, target, timeout_seconds=args.timeout, timings=timings)
    except (NoCredentialsError, NoRegionError) as error:
        print(f"smoke: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except (SmokeCheckError, BotoCoreError, ClientError) as error:
        print(f"smoke: {args.env} FAILED: {error}\n{timings.report()}", file=sys.stderr)
        return EXIT_FAILED
    print(f"smoke: {args.env} passed\n{timings.report()}")
    return 0
