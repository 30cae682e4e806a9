"""The smoke client against moto (Cognito, SSM, CloudFormation) and an in-memory fake API."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.smoke import client
from tests.smoke.client import Response, SmokeCheckError, Target

REGION = "us-east-1"
API = "https://abc123.execute-api.us-east-1.amazonaws.com"


class FakeApi:
    """Answers like the deployed API: /health is public, the rest needs the pool's IdToken."""

    def __init__(self, client_id: str, final_status: str = "PROCESSED", polls: int = 2) -> None:
        self.client_id = client_id
        self.final_status = final_status
        self.polls_left = polls
        self.calls: list[tuple[str, str]] = []
        self.sha256 = ""

    def _authorized(self, token: str | None) -> bool:
        if token is None:
            return False
        body = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return bool(claims.get("token_use") == "id" and claims.get("aud") == self.client_id)

    def __call__(
        self, method: str, url: str, *, token: str | None = None, payload: Any = None
    ) -> Response:
        path = url.removeprefix(API)
        self.calls.append((method, path))
        if (method, path) == ("GET", "/health"):
            return Response(200, {"status": "ok"})
        if not self._authorized(token):
            return Response(401, {"message": "Unauthorized"})
        if (method, path) == ("POST", "/upload"):
            if "file_data" not in payload:
                return Response(422, {"error": "validation_error"})
            data = base64.b64decode(payload["file_data"])
            self.sha256 = hashlib.sha256(data).hexdigest()
            return Response(201, {"file_id": "f-1", "sha256": self.sha256})
        if (method, path) == ("GET", "/uploads/f-1"):
            self.polls_left -= 1
            status = "UPLOADED" if self.polls_left > 0 else self.final_status
            return Response(200, {"file_id": "f-1", "status": status, "failure_reason": "boom"})
        return Response(404, {"message": "Not Found"})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[boto3.session.Session, str, str]]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        cognito = session.client("cognito-idp")
        pool_id = cognito.create_user_pool(PoolName="secure-upload-dev-users")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
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
        yield session, pool_id, client_id


def _users(session: boto3.session.Session, pool_id: str) -> list[Any]:
    return session.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]


TARGET = Target("dev", REGION, "secure-upload-dev-app")


def test_target_comes_from_samconfig() -> None:
    for env in client.ENVIRONMENTS:
        target = client.load_target(env)
        assert target.stack_name == f"secure-upload-{env}-app"
        assert target.region


def test_passes_and_deletes_the_test_user(aws: tuple[boto3.session.Session, str, str]) -> None:
    session, pool_id, client_id = aws
    api = FakeApi(client_id)
    timings = client.run_smoke(session, TARGET, transport=api, sleep=lambda _: None)
    assert ("POST", "/upload") in api.calls
    assert api.calls.count(("GET", "/uploads/f-1")) == 2
    assert _users(session, pool_id) == []
    assert "wait for PROCESSED" in timings.report()


def test_failed_processing_fails_and_still_deletes_the_user(
    aws: tuple[boto3.session.Session, str, str],
) -> None:
    session, pool_id, client_id = aws
    with pytest.raises(SmokeCheckError, match="processing failed: boom"):
        client.run_smoke(
            session, TARGET, transport=FakeApi(client_id, "FAILED"), sleep=lambda _: None
        )
    assert _users(session, pool_id) == []


def test_an_open_upload_route_fails(aws: tuple[boto3.session.Session, str, str]) -> None:
    session, _, client_id = aws
    api = FakeApi(client_id)
    api._authorized = lambda token: True  # type: ignore[method-assign]  # authorizer missing
    with pytest.raises(SmokeCheckError, match="without token: expected HTTP 401"):
        client.run_smoke(session, TARGET, transport=api, sleep=lambda _: None)


def test_times_out_when_never_processed(aws: tuple[boto3.session.Session, str, str]) -> None:
    session, pool_id, client_id = aws
    with pytest.raises(SmokeCheckError, match="still UPLOADED"):
        client.run_smoke(
            session,
            TARGET,
            transport=FakeApi(client_id, polls=10**6),
            timeout_seconds=0,
            sleep=lambda _: None,
        )
    assert _users(session, pool_id) == []


def test_refuses_plain_http() -> None:
    with pytest.raises(SmokeCheckError, match="non-https"):
        client.https_transport("GET", "http://example.com/health")


def test_without_credentials_stops_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert client.main(["--env", "dev"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err
