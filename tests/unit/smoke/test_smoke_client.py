"""The smoke client against moto (Cognito, SSM, CloudFormation) and an in-memory fake API.

Cognito's MFA challenges where moto lacks them: see MfaOnPool and the Stubber tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from moto import mock_aws
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from smoke import client
from smoke.client import Response, SmokeCheckError, Target

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


@pytest.mark.parametrize("status", ["FAILED", "QUARANTINED"])
def test_failed_processing_fails_and_still_deletes_the_user(
    aws: tuple[boto3.session.Session, str, str], status: str
) -> None:
    session, pool_id, client_id = aws
    with pytest.raises(SmokeCheckError, match=f"{status}: boom"):
        client.run_smoke(
            session, TARGET, transport=FakeApi(client_id, status), sleep=lambda _: None
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


# ------------------------------------------------------------------ MFA (prod's pool: "ON")

RFC6238_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA1 seed


@pytest.mark.parametrize(
    ("at", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_totp_matches_the_rfc_6238_vectors(at: int, code: str) -> None:
    # RFC 6238 appendix B lists 8 digits (94287082, ...); 6 digits are their last six.
    assert client.totp(RFC6238_SECRET, at) == code
    assert client.totp(RFC6238_SECRET, at + 0.999) == code  # the same 30 s window


def test_totp_takes_the_secret_as_cognito_hands_it_out() -> None:
    # Unpadded (moto's fixed SecretCode has 12 characters), any case, grouped: the same key,
    # the same code. Cross-checked with the cryptography package's TOTP, which moto uses.
    moto_secret = "asdfasdfasdf"  # pragma: allowlist secret  (moto's public constant)
    key = base64.b32decode(moto_secret.upper() + "====")
    totp = TOTP(key, 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303  # RFC 6238's HMAC
    for at in (0, 29, 30, 1_700_000_000, 2_000_000_000):
        assert client.totp(moto_secret, at) == totp.generate(at).decode()
    grouped = " ".join(RFC6238_SECRET[i : i + 4].lower() for i in range(0, 32, 4))
    assert client.totp(grouped, 59) == "287082"


class MfaOnPool:
    """Cognito's answer to AdminInitiateAuth on a pool with MFA "ON", which moto 5.2.5 lacks.

    moto checks the password and hands out tokens; for a user without a verified software
    token they are replaced by the MFA_SETUP challenge Cognito sends, with a session moto's
    backend knows. AssociateSoftwareToken, VerifySoftwareToken and AdminRespondToAuthChallenge
    are then moto's own, and with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP moto checks the codes.
    """

    def __init__(self, session: boto3.session.Session, pool_id: str) -> None:
        self.backend = cognitoidp_backends[DEFAULT_ACCOUNT_ID][REGION]
        self.pool_id = pool_id
        self.operations: list[str] = []
        session.events.register("after-call.cognito-idp", self._record)
        session.events.register("after-call.cognito-idp.AdminInitiateAuth", self._mfa_setup)

    def _record(self, event_name: str, **_: Any) -> None:
        self.operations.append(event_name.rsplit(".", 1)[1])

    def _mfa_setup(self, parsed: dict[str, Any], **_: Any) -> None:
        if "AuthenticationResult" not in parsed:
            return
        body = parsed["AuthenticationResult"]["IdToken"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        username = claims["cognito:username"]
        if self.backend.admin_get_user(self.pool_id, username).token_verified:
            return
        session = str(uuid.uuid4())
        self.backend.sessions[session] = (username, self.backend.user_pools[self.pool_id])
        parsed.clear()
        parsed.update(
            ChallengeName="MFA_SETUP",
            Session=session,
            ChallengeParameters={"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
        )


@pytest.fixture
def mfa_pool(
    aws: tuple[boto3.session.Session, str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[boto3.session.Session, str, str, MfaOnPool]:
    session, _, _ = aws
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    cognito = session.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="secure-upload-prod-users")["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    ssm = session.client("ssm")
    for name, value in (("cognito-user-pool-id", pool_id), ("cognito-app-client-id", client_id)):
        ssm.put_parameter(
            Name=f"/secure-upload/dev/{name}", Value=value, Type="String", Overwrite=True
        )
    return session, pool_id, client_id, MfaOnPool(session, pool_id)


def test_mfa_pool_sets_up_a_software_token_and_passes(
    mfa_pool: tuple[boto3.session.Session, str, str, MfaOnPool],
    capsys: pytest.CaptureFixture[str],
) -> None:
    session, pool_id, client_id, pool = mfa_pool
    lines: list[str] = []
    # Real time: moto checks the codes against its clock. One poll, so no polling sleeps.
    client.run_smoke(
        session, TARGET, transport=FakeApi(client_id, polls=1), sleep=time.sleep, log=lines.append
    )
    assert pool.operations == [
        "AdminCreateUser",
        "AdminSetUserPassword",
        "AdminInitiateAuth",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "AdminRespondToAuthChallenge",
        "AdminDeleteUser",
    ]
    assert _users(session, pool_id) == []
    printed = "\n".join(lines) + capsys.readouterr().out
    assert "registering a software token" in printed
    assert "ASDFASDFASDF" not in printed.upper()  # moto's secret
    assert not re.search(r"\d{6}", printed)  # no code


def test_mfa_pool_refuses_a_wrong_code_and_still_deletes_the_user(
    mfa_pool: tuple[boto3.session.Session, str, str, MfaOnPool], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, pool_id, client_id, pool = mfa_pool
    right = client.totp
    monkeypatch.setattr(client, "totp", lambda s, at: f"{(int(right(s, at)) + 1) % 10**6:06d}")
    with pytest.raises(ClientError, match="CodeMismatchException"):
        client.run_smoke(session, TARGET, transport=FakeApi(client_id), sleep=time.sleep)
    assert pool.operations[-2:] == ["VerifySoftwareToken", "AdminDeleteUser"]
    assert _users(session, pool_id) == []


# What moto cannot show: Cognito asking for a code right after MFA_SETUP, a window to wait
# for, refusals. botocore's Stubber answers, and checks each request exactly.

USER = "smoke-0123456789abcdef@example.com"
POOL = "us-east-1_Example01"
APP = "exampleclientid0123456789"


def _session_id(n: int) -> str:
    return f"session-{n}-" + "x" * 20  # Cognito sessions are at least 20 characters


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    cognito = boto3.client("cognito-idp", region_name=REGION)  # conftest's fake credentials
    with Stubber(cognito) as stubber:
        yield cognito, stubber
        stubber.assert_no_pending_responses()


def _initiate(stubber: Stubber, response: dict[str, Any]) -> None:
    stubber.add_response(
        "admin_initiate_auth",
        response,
        {
            "UserPoolId": POOL,
            "ClientId": APP,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            # Not a secret: the stubbed request's placeholder password.
            "AuthParameters": {"USERNAME": USER, "PASSWORD": "pw"},  # pragma: allowlist secret
        },
    )


def _mfa_setup(stubber: Stubber, code: str) -> None:
    _initiate(
        stubber,
        {
            "ChallengeName": "MFA_SETUP",
            "Session": _session_id(0),
            "ChallengeParameters": {"MFAS_CAN_SETUP": '["SMS_MFA","SOFTWARE_TOKEN_MFA"]'},
        },
    )
    stubber.add_response(
        "associate_software_token",
        {"SecretCode": RFC6238_SECRET, "Session": _session_id(1)},
        {"Session": _session_id(0)},
    )
    stubber.add_response(
        "verify_software_token",
        {"Status": "SUCCESS", "Session": _session_id(2)},
        {"Session": _session_id(1), "UserCode": code, "FriendlyDeviceName": "smoke"},
    )


def _respond(
    stubber: Stubber, challenge: str, session: int, answers: dict[str, str], reply: dict[str, Any]
) -> None:
    stubber.add_response(
        "admin_respond_to_auth_challenge",
        reply,
        {
            "UserPoolId": POOL,
            "ClientId": APP,
            "ChallengeName": challenge,
            "Session": _session_id(session),
            "ChallengeResponses": answers,
        },
    )


TOKENS = {"AuthenticationResult": {"IdToken": "id-token", "AccessToken": "access-token"}}


def _sign_in(cognito: Any, clock: FakeClock) -> str:
    return client._sign_in(
        cognito, POOL, APP, USER, "pw", clock=clock, sleep=clock.sleep, log=lambda _: None
    )


def test_mfa_setup_then_a_code_from_the_next_window(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    clock = FakeClock(1234567890)  # the first second of its window
    first = client.totp(RFC6238_SECRET, 1234567890)
    second = client.totp(RFC6238_SECRET, 1234567890 + 30)
    assert first != second  # the RFC vector and the code of the window after it
    _mfa_setup(stubber, first)
    _respond(
        stubber,
        "MFA_SETUP",
        2,
        {"USERNAME": USER},
        {
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": _session_id(3),
            "ChallengeParameters": {"USER_ID_FOR_SRP": "4f1e2d3c-user-sub"},
        },
    )
    _respond(
        stubber,
        "SOFTWARE_TOKEN_MFA",
        3,
        {"USERNAME": "4f1e2d3c-user-sub", "SOFTWARE_TOKEN_MFA_CODE": second},
        TOKENS,
    )
    assert _sign_in(cognito, clock) == "id-token"
    assert clock.sleeps == [pytest.approx(30.1)]  # waited for the next window, once


def test_mfa_setup_waits_when_the_window_is_about_to_turn(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    clock = FakeClock(1111111109)  # 1 s left of its window
    _mfa_setup(stubber, client.totp(RFC6238_SECRET, 1111111110))
    _respond(stubber, "MFA_SETUP", 2, {"USERNAME": USER}, TOKENS)
    assert _sign_in(cognito, clock) == "id-token"
    assert clock.sleeps == [pytest.approx(1.1)]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": _session_id(0)},
            "challenge: NEW_PASSWORD_REQUIRED",
        ),
        (
            {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": _session_id(0)},
            "SOFTWARE_TOKEN_MFA before MFA_SETUP",
        ),
        (
            {
                "ChallengeName": "MFA_SETUP",
                "Session": _session_id(0),
                "ChallengeParameters": {"MFAS_CAN_SETUP": '["SMS_MFA"]'},
            },
            "cannot set up",
        ),
    ],
)
def test_challenges_it_cannot_answer_fail(
    stubbed: tuple[Any, Stubber], reply: dict[str, Any], message: str
) -> None:
    cognito, stubber = stubbed
    _initiate(stubber, reply)
    with pytest.raises(SmokeCheckError, match=message):
        _sign_in(cognito, FakeClock(59))


def test_an_unverified_software_token_fails(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    _initiate(stubber, {"ChallengeName": "MFA_SETUP", "Session": _session_id(0)})
    stubber.add_response(
        "associate_software_token", {"SecretCode": RFC6238_SECRET}, {"Session": _session_id(0)}
    )
    stubber.add_response(
        "verify_software_token",
        {"Status": "ERROR"},
        {"Session": _session_id(0), "UserCode": "287082", "FriendlyDeviceName": "smoke"},
    )
    with pytest.raises(SmokeCheckError, match="not verified: ERROR"):
        _sign_in(cognito, FakeClock(40))


def test_a_repeated_challenge_fails(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    _mfa_setup(stubber, "287082")
    _respond(
        stubber,
        "MFA_SETUP",
        2,
        {"USERNAME": USER},
        {"ChallengeName": "MFA_SETUP", "Session": _session_id(3)},
    )
    with pytest.raises(SmokeCheckError, match="challenge: MFA_SETUP"):
        _sign_in(cognito, FakeClock(40))


def test_the_device_never_shows_its_secret() -> None:
    device = client._TotpDevice(RFC6238_SECRET, lambda: 31.0, lambda _: None)
    assert RFC6238_SECRET not in repr(device)
    assert device.code() == "287082"


def test_totp_setup_calls_need_no_iam_permission() -> None:
    # Why the deploy role lists AdminRespondToAuthChallenge but not these two: botocore
    # sends them unsigned, Cognito authorises them by the sign-in session alone.
    model = boto3.client("cognito-idp", region_name=REGION).meta.service_model
    for operation in ("AssociateSoftwareToken", "VerifySoftwareToken"):
        assert model.operation_model(operation).auth_type == "none"
    assert model.operation_model("AdminRespondToAuthChallenge").auth_type != "none"
