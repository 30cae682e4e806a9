"""The smoke tests' world: moto (Cognito, SSM, CloudFormation, Secrets Manager) and a fake API.

The pools are built as modules/auth builds them: e-mail usernames, TOTP offered, an app client
that allows SRP only. Every AWS call a test makes is recorded with whether botocore signs it,
so a test can tell which calls need an IAM permission.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
import httpx
import pytest
from moto import mock_aws
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from smoke.client import Target, smoke_user_secret_name
from smoke.signin import SmokeUser

REGION = "us-east-1"
API = "https://abc123.execute-api.us-east-1.amazonaws.com"
TARGET = Target("dev", REGION, "secure-upload-dev-app")
# moto hands every user the same TOTP secret (a public constant, not a credential).
MOTO_TOTP_SECRET = "asdfasdfasdf"  # pragma: allowlist secret  (moto's public constant seed)
SMOKE_USERNAME = "smoke-dev@example.com"
# pragma: allowlist nextline secret  (the made-up password of a user that exists only in moto)
SMOKE_PASSWORD = "Smoke-Test-Passw0rd!"
# The start of a TOTP window: codes computed now have the whole window left.
START = 1_700_000_010.0


@dataclass(frozen=True)
class Call:
    service: str  # the IAM prefix (the signing name)
    operation: str
    signed: bool
    params: dict[str, Any]

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class World:
    session: boto3.session.Session
    pool_id: str
    client_id: str
    calls: list[Call] = field(default_factory=list)

    def operations(self, service: str) -> list[str]:
        return [c.operation for c in self.calls if c.service == service]

    def challenges(self) -> list[str]:
        return [
            c.params["ChallengeName"] for c in self.calls if c.operation == "RespondToAuthChallenge"
        ]

    def users(self) -> list[dict[str, Any]]:
        users = self.session.client("cognito-idp").list_users(UserPoolId=self.pool_id)["Users"]
        return [dict(user) for user in users]

    def stored_secret(self) -> dict[str, Any]:
        value = self.session.client("secretsmanager").get_secret_value(
            SecretId=smoke_user_secret_name("dev")
        )
        document: dict[str, Any] = json.loads(value["SecretString"])
        return document

    def add_smoke_user(self, *, totp: bool = True) -> SmokeUser:
        """A smoke user as `make smoke-user` leaves it, made without the code under test."""
        cognito = self.session.client("cognito-idp")
        cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=SMOKE_USERNAME,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": SMOKE_USERNAME},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        cognito.admin_set_user_password(
            UserPoolId=self.pool_id,
            Username=SMOKE_USERNAME,
            Password=SMOKE_PASSWORD,
            Permanent=True,
        )
        if totp:
            backend = cognitoidp_backends[DEFAULT_ACCOUNT_ID][REGION]
            user = backend.admin_get_user(self.pool_id, SMOKE_USERNAME)
            user.token_verified = True
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
        smoke_user = SmokeUser(SMOKE_USERNAME, SMOKE_PASSWORD, MOTO_TOTP_SECRET)
        self.session.client("secretsmanager").put_secret_value(
            SecretId=smoke_user_secret_name("dev"), SecretString=smoke_user.to_secret()
        )
        self.calls.clear()
        return smoke_user


def _world(mfa: Literal["OPTIONAL", "ON"], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        cognito = session.client("cognito-idp")
        pool_id = cognito.create_user_pool(
            PoolName="secure-upload-dev", UsernameAttributes=["email"]
        )["UserPool"]["Id"]
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=mfa,
        )
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="secure-upload-dev-api",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        ssm = session.client("ssm")
        for name, value in (
            ("cognito-user-pool-id", pool_id),
            ("cognito-app-client-id", client_id),
        ):
            ssm.put_parameter(Name=f"/secure-upload/dev/{name}", Value=value, Type="String")
        template = {
            "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"ApiEndpoint": {"Value": API + "/"}},
        }
        session.client("cloudformation").create_stack(
            StackName="secure-upload-dev-app", TemplateBody=json.dumps(template)
        )
        # The empty container Terraform creates (modules/github-oidc/smoke.tf).
        kms_key = session.client("kms").create_key()["KeyMetadata"]["Arn"]
        session.client("secretsmanager").create_secret(
            Name=smoke_user_secret_name("dev"), KmsKeyId=kms_key
        )
        world = World(session, pool_id, client_id)

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            world.calls.append(
                Call(
                    model.service_model.signing_name,
                    model.name,
                    model.auth_type != "none",
                    dict(params),
                )
            )

        session.events.register("before-parameter-build", record)
        yield world


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """dev and stage: MFA optional (the smoke user has TOTP all the same)."""
    yield from _world("OPTIONAL", monkeypatch)


@pytest.fixture
def mfa_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """prod: MFA required."""
    yield from _world("ON", monkeypatch)


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeApi(httpx.BaseTransport):
    """Answers like the deployed API: /health is public, the rest needs the pool's IdToken
    (as a Bearer token). It stands in for the network under the smoke test's httpx clients."""

    client_id: str
    final_status: str = "PROCESSED"
    polls: int = 2
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    refuse_delete: bool = False

    def add_file(self, file_id: str, comment: str, age: timedelta) -> None:
        created = datetime.fromtimestamp(START, UTC) - age
        self.files[file_id] = {
            "file_id": file_id,
            "comment": comment,
            "status": "PROCESSED",
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _authorized(self, token: str | None) -> bool:
        if token is None:
            return False
        body = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return bool(claims.get("token_use") == "id" and claims.get("aud") == self.client_id)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        authorization = request.headers.get("Authorization", "")
        token = (
            authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        )
        body = request.read()
        payload = json.loads(body) if body else None
        status, answer = self._answer(request.method, str(request.url), token, payload)
        return httpx.Response(status) if answer is None else httpx.Response(status, json=answer)

    def _answer(  # noqa: PLR0911  # one answer per route, as the API has
        self, method: str, url: str, token: str | None, payload: Any
    ) -> tuple[int, Any]:
        path = url.removeprefix(API)
        self.calls.append((method, path))
        if (method, path) == ("GET", "/health"):
            return 200, {"status": "ok"}
        if not self._authorized(token):
            return 401, {"message": "Unauthorized"}
        if (method, path) == ("POST", "/upload"):
            if "file_data" not in payload:
                return 422, {"error": "validation_error"}
            data = base64.b64decode(payload["file_data"])
            file_id = f"f-{len(self.calls)}"
            self.files[file_id] = {
                "file_id": file_id,
                "comment": payload["comment"],
                "status": "UPLOADED",
                "created_at": datetime.fromtimestamp(START, UTC).isoformat(),
            }
            return 201, {"file_id": file_id, "sha256": hashlib.sha256(data).hexdigest()}
        if (method, path) == ("GET", "/uploads?limit=100"):
            return 200, {"items": list(self.files.values())}
        file_id = path.removeprefix("/uploads/")
        if file_id not in self.files:
            return 404, {"error": "not_found"}
        if method == "GET":
            self.polls -= 1
            status = "UPLOADED" if self.polls > 0 else self.final_status
            return 200, {"file_id": file_id, "status": status, "failure_reason": "boom"}
        if method == "DELETE":
            if self.refuse_delete:
                return 500, {"error": "internal"}
            del self.files[file_id]
            return 204, None
        return 405, {"error": "method_not_allowed"}
