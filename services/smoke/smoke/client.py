"""Smoke test of a deployed environment, run by `make smoke ENV=<env>` and by CI after each deploy.

1. GET /health answers without a token; POST /upload without one is refused (401).
2. The environment's smoke user signs in as any user does, through the public flow:
   USER_SRP_AUTH (the password never leaves this process) and a TOTP code. Its username,
   password and TOTP seed come from the secret `<project>-<env>-smoke-user` (Secrets Manager,
   the environment key), written once by an operator with `make smoke-user ENV=<env>`.
   No Cognito call here needs IAM: the smoke role holds no cognito-idp permission at all.
3. POST /upload with a small file, then GET /uploads/{file_id} until the processor has
   marked it PROCESSED (FAILED, QUARANTINED or a timeout fails the check), both through
   upload_client, as `make upload` does.
4. DELETE /uploads/{file_id}, whatever happened after the upload, so nothing accumulates;
   smoke files an interrupted run left behind are deleted first. The sign-in's tokens are
   revoked at the end. Timings of each step are printed; no secret, token or code is.

Where to look comes from the same places a deploy uses: region and stack name from
services/samconfig.toml, the user pool and app client from Terraform's SSM parameters,
the API URL from the stack's ApiEndpoint output. Exit codes: 0 passed, 1 failed,
2 cannot run (no AWS credentials, unknown environment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from smoke.signin import SignInError, SmokeUser, TotpDevice, sign_in
from upload_client.answers import UploadError
from upload_client.client import FINAL_STATUSES, upload_json, wait_for_final_status
from upload_contract import SSM_PARAMETERS, Status

PROJECT = "secure-upload"
ENVIRONMENTS = ("dev", "stage", "prod")
SAMCONFIG = Path(__file__).resolve().parents[3] / "services" / "samconfig.toml"
EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2
# The two SSM parameters the smoke role may read (modules/github-oidc/smoke.tf).
POOL_PARAMETER = SSM_PARAMETERS["cognito_user_pool_id"]
CLIENT_PARAMETER = SSM_PARAMETERS["cognito_app_client_id"]
SMOKE_FILE_NAME = "smoke-test.txt"
SMOKE_COMMENT = "make smoke"
# Older smoke files are leftovers of an interrupted run (a run takes minutes).
LEFTOVER_AFTER = timedelta(hours=1)


class SmokeCheckError(Exception):
    """The environment answered, but not as it should."""


@dataclass(frozen=True)
class Target:
    environment: str
    region: str
    stack_name: str


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


def smoke_user_secret_name(environment: str) -> str:
    """The secret modules/github-oidc/smoke.tf creates (`<name_prefix>-smoke-user`)."""
    return f"{PROJECT}-{environment}-smoke-user"


def load_target(environment: str, samconfig: Path = SAMCONFIG) -> Target:
    """Region and stack name of an environment, exactly as `sam deploy --config-env` uses them."""
    with samconfig.open("rb") as handle:
        config = tomllib.load(handle)
    parameters = config[environment]["deploy"]["parameters"]
    return Target(environment, parameters["region"], parameters["stack_name"])


def api_client(
    api: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A client of the API at `api`, signed in with `token` if given. HTTP errors are answers
    to check, not exceptions."""
    if not api.startswith("https://"):
        raise SmokeCheckError(f"refusing a non-https API URL: {api}")
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    # A redirect is an answer to check: following it could leave https or send the token on.
    return httpx.Client(
        base_url=api, headers=headers, timeout=30, follow_redirects=False, transport=transport
    )


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    body = _json_or_text(response.content)
    if response.status_code != status:
        raise SmokeCheckError(f"{what}: expected HTTP {status}, got {response.status_code}: {body}")
    return body


def ssm_parameter(session: boto3.session.Session, target: Target, name: str) -> str:
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


def read_smoke_user(session: boto3.session.Session, target: Target) -> SmokeUser:
    name = smoke_user_secret_name(target.environment)
    try:
        value = session.client("secretsmanager").get_secret_value(SecretId=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise SmokeCheckError(
                f"no smoke user for {target.environment} ({name} is missing or empty): "
                f"an administrator runs `make smoke-user ENV={target.environment}` once"
            ) from error
        raise
    return SmokeUser.from_secret(value["SecretString"])


def run_smoke(
    session: boto3.session.Session,
    target: Target,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_seconds: float = 180.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
    timings: Timings | None = None,
) -> Timings:
    """The whole check; raises SmokeCheckError, SignInError, UploadError, an httpx or a boto
    error on the first problem. `transport` stands in for the network (tests)."""
    timings = timings if timings is not None else Timings()
    with timings.step("discover"):
        pool_id = ssm_parameter(session, target, POOL_PARAMETER)
        client_id = ssm_parameter(session, target, CLIENT_PARAMETER)
        api = _api_endpoint(session, target)
        user = read_smoke_user(session, target)
    log(f"smoke: {target.environment} ({target.region}) {api}")

    with api_client(api, transport=transport) as anonymous:
        with timings.step("health, no token"):
            _expect(anonymous.get("/health"), 200, "GET /health")
        with timings.step("upload refused without a token"):
            _expect(anonymous.post("/upload", json={}), 401, "POST /upload without token")

    cognito = session.client("cognito-idp")
    with timings.step("sign in (SRP, TOTP)"):
        tokens = sign_in(
            cognito,
            user_pool_id=pool_id,
            client_id=client_id,
            username=user.username,
            password=user.password,
            device=TotpDevice(user.totp_secret, clock, sleep),
            now=lambda: datetime.fromtimestamp(clock(), UTC),
        )
    try:
        with api_client(api, token=tokens["IdToken"], transport=transport) as signed_in:
            with timings.step("delete leftovers"):
                _delete_leftovers(signed_in, now=clock(), log=log)
            _upload_and_wait(
                signed_in, timings=timings, timeout_seconds=timeout_seconds, sleep=sleep, log=log
            )
    finally:
        sign_out(cognito, tokens["AccessToken"], log)
    return timings


def sign_out(cognito: Any, access_token: str, log: Callable[[str], None]) -> None:
    """Revoke the sign-in's refresh and access tokens: nothing of a run stays usable past the
    ID token's own expiry. A failure is reported, not raised: it must not hide the result."""
    try:
        cognito.global_sign_out(AccessToken=access_token)
    except (BotoCoreError, ClientError) as error:
        log(f"smoke: could not revoke the sign-in's tokens: {error}")


def _delete_leftovers(api: httpx.Client, *, now: float, log: Callable[[str], None]) -> None:
    """Delete smoke files an interrupted run left (the smoke user owns nothing else)."""
    listed = _expect(api.get("/uploads?limit=100"), 200, "GET /uploads")
    cutoff = datetime.fromtimestamp(now, UTC) - LEFTOVER_AFTER
    for item in listed.get("items", []):
        try:
            created = datetime.fromisoformat(str(item.get("created_at")))
        except ValueError:
            continue
        if item.get("comment") != SMOKE_COMMENT or created.astimezone(UTC) >= cutoff:
            continue
        log(f"smoke: deleting the leftover {item['file_id']} of {item['created_at']}")
        _expect(api.delete(f"/uploads/{item['file_id']}"), 204, "DELETE /uploads/{id} (leftover)")


def _upload_and_wait(
    api: httpx.Client,
    *,
    timings: Timings,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    log: Callable[[str], None],
) -> None:
    content = f"secure-upload smoke test {secrets.token_hex(16)}\n".encode()
    with timings.step("POST /upload"):
        created = upload_json(api, SMOKE_FILE_NAME, content, comment=SMOKE_COMMENT)
    file_id = created["file_id"]
    try:
        _check_digest(created, content)
        log(f"smoke: uploaded {file_id}, waiting for PROCESSED")
        with timings.step("wait for PROCESSED"):
            _wait_for_processed(api, file_id, timeout_seconds=timeout_seconds, sleep=sleep)
    except BaseException:
        # The check already failed: report the delete's failure, not instead of the first one.
        try:
            deleted = api.delete(f"/uploads/{file_id}")
        except Exception as error:  # logged; the first failure is raised below
            log(f"smoke: could not delete {file_id}: {error}")
        else:
            if deleted.status_code != 204:
                body = _json_or_text(deleted.content)
                log(f"smoke: could not delete {file_id}: HTTP {deleted.status_code}: {body}")
        raise
    with timings.step("DELETE /uploads/{id}"):
        _expect(api.delete(f"/uploads/{file_id}"), 204, "DELETE /uploads/{id}")


def _check_digest(created: dict[str, Any], content: bytes) -> None:
    if created.get("sha256") != hashlib.sha256(content).hexdigest():
        raise SmokeCheckError(f"POST /upload returned the wrong sha256: {created}")


def _wait_for_processed(
    api: httpx.Client, file_id: str, *, timeout_seconds: float, sleep: Callable[[float], None]
) -> None:
    # Polls every 0.5 s at first, then less often: processing takes seconds when deployed.
    item = wait_for_final_status(
        api, file_id, timeout_seconds, interval=0.5, max_interval=5.0, sleep=sleep
    )
    status = item["status"]
    if status not in FINAL_STATUSES:
        raise SmokeCheckError(f"still {status} after {timeout_seconds:.0f} s")
    if status != Status.PROCESSED:
        raise SmokeCheckError(f"{status}: {item.get('failure_reason')}")


def aws_session(environment: str, program: str) -> tuple[Target, boto3.session.Session] | None:
    """The environment's target and a session with credentials, or None (reason printed)."""
    target = load_target(environment)
    session = boto3.session.Session(region_name=target.region)
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:  # e.g. an expired SSO session
        credentials = None
        print(f"{program}: {error}", file=sys.stderr)
    if credentials is None:
        print(
            f"{program}: no AWS credentials; sign in to the {environment} account first "
            "(e.g. AWS_PROFILE=... or aws sso login). Nothing was done.",
            file=sys.stderr,
        )
        return None
    return target, session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smoke", description="End-to-end check of a deployed environment."
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="environment to check")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for PROCESSED"
    )
    args = parser.parse_args(argv)

    found = aws_session(args.env, "smoke")
    if found is None:
        return EXIT_CANNOT_RUN
    target, session = found
    timings = Timings()
    try:
        run_smoke(session, target, timeout_seconds=args.timeout, timings=timings)
    except (NoCredentialsError, NoRegionError) as error:
        print(f"smoke: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except (
        SmokeCheckError,
        SignInError,
        UploadError,
        httpx.HTTPError,
        BotoCoreError,
        ClientError,
    ) as error:
        print(f"smoke: {args.env} FAILED: {error}\n{timings.report()}", file=sys.stderr)
        return EXIT_FAILED
    print(f"smoke: {args.env} passed\n{timings.report()}")
    return 0
