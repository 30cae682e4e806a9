"""The smoke run against moto and a fake API: the smoke user signs in publicly and cleans up."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from smoke import client, signin
from smoke.client import SmokeCheckError
from smoke.signin import SignInError
from tests.unit.smoke import terraform
from tests.unit.smoke.conftest import (
    MOTO_TOTP_SECRET,
    SMOKE_PASSWORD,
    START,
    TARGET,
    FakeApi,
    FakeClock,
    World,
)


def _run(world: World, api: FakeApi, clock: FakeClock | None = None, **kwargs: Any) -> Any:
    clock = clock or FakeClock()
    return client.run_smoke(
        world.session, TARGET, transport=api, clock=clock, sleep=clock.sleep, **kwargs
    )


def _moto_code(at: float) -> str:
    """The code moto's authenticator expects, from the cryptography package (moto's own)."""
    key = base64.b32decode(MOTO_TOTP_SECRET.upper() + "====")
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(at).decode()  # noqa: S303  # RFC 6238's HMAC


def test_target_comes_from_samconfig() -> None:
    for env in client.ENVIRONMENTS:
        target = client.load_target(env)
        assert target.stack_name == f"secure-upload-{env}-app"
        assert target.region


def test_passes_as_the_smoke_user_and_deletes_its_file(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id)
    lines: list[str] = []
    timings = _run(aws, api, log=lines.append)
    assert api.calls == [
        ("GET", "/health"),
        ("POST", "/upload"),
        ("GET", "/uploads?limit=100"),
        ("POST", "/upload"),
        ("GET", "/uploads/f-4"),
        ("GET", "/uploads/f-4"),
        ("DELETE", "/uploads/f-4"),
    ]
    assert api.files == {}
    # The public flow: SRP, the TOTP code of the moment, and the tokens revoked at the end.
    assert aws.operations("cognito-idp") == [
        "InitiateAuth",
        "RespondToAuthChallenge",
        "RespondToAuthChallenge",
        "GlobalSignOut",
    ]
    assert aws.challenges() == ["PASSWORD_VERIFIER", "SOFTWARE_TOKEN_MFA"]
    mfa = aws.calls[-2].params["ChallengeResponses"]
    assert mfa["SOFTWARE_TOKEN_MFA_CODE"] == _moto_code(START)
    assert "DELETE /uploads/{id}" in timings.report()
    # Nothing secret is printed.
    printed = "\n".join(lines)
    assert SMOKE_PASSWORD not in printed
    assert MOTO_TOTP_SECRET not in printed.lower()
    assert not re.search(r"\b\d{6}\b", printed)


def test_needs_no_cognito_permission_and_only_what_the_smoke_role_grants(aws: World) -> None:
    aws.add_smoke_user()
    _run(aws, FakeApi(aws.client_id))
    signed = {call.action for call in aws.calls if call.signed}
    assert signed == {
        "ssm:GetParameter",
        "cloudformation:DescribeStacks",
        "secretsmanager:GetSecretValue",
    }
    # Every Cognito call is one any user's browser makes: no IAM permission stands for it.
    assert not [c for c in aws.calls if c.service == "cognito-idp" and c.signed]
    allowed = {
        action
        for statement in terraform.statements(terraform.SMOKE_TF, "smoke")
        for action in statement["actions"]
    }
    assert signed <= allowed
    # kms:Decrypt is Secrets Manager's use of the key on the caller's behalf.
    assert allowed - signed == {"kms:Decrypt"}


@pytest.mark.parametrize("status", ["FAILED", "QUARANTINED"])
def test_failed_processing_fails_and_still_deletes_the_file(aws: World, status: str) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id, status)
    with pytest.raises(SmokeCheckError, match=f"{status}: boom"):
        _run(aws, api)
    assert ("DELETE", "/uploads/f-4") in api.calls
    assert api.files == {}
    assert aws.operations("cognito-idp")[-1] == "GlobalSignOut"


def test_times_out_when_never_processed_and_still_deletes_the_file(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id, polls=10**6)
    with pytest.raises(SmokeCheckError, match="still UPLOADED"):
        _run(aws, api, timeout_seconds=0)
    assert api.files == {}


def test_a_refused_delete_after_a_failure_reports_the_failure(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id, "FAILED", refuse_delete=True)
    lines: list[str] = []
    with pytest.raises(SmokeCheckError, match="FAILED: boom"):
        _run(aws, api, log=lines.append)
    assert any("could not delete f-4: HTTP 500" in line for line in lines)


def test_a_refused_delete_fails_the_check(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id, refuse_delete=True)
    with pytest.raises(SmokeCheckError, match=r"DELETE /uploads/\{id\}: expected HTTP 204"):
        _run(aws, api)


def test_an_open_upload_route_fails_before_signing_in(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id)
    api._authorized = lambda token: True  # type: ignore[method-assign]  # authorizer missing
    with pytest.raises(SmokeCheckError, match="without token: expected HTTP 401"):
        _run(aws, api)
    assert aws.operations("cognito-idp") == []


def test_leftovers_of_interrupted_runs_are_deleted_and_nothing_else(aws: World) -> None:
    aws.add_smoke_user()
    api = FakeApi(aws.client_id)
    api.add_file("old-smoke", client.SMOKE_COMMENT, timedelta(hours=2))
    api.add_file("recent-smoke", client.SMOKE_COMMENT, timedelta(minutes=5))
    api.add_file("old-other", "my holiday photos", timedelta(days=3))
    lines: list[str] = []
    _run(aws, api, log=lines.append)
    assert ("DELETE", "/uploads/old-smoke") in api.calls
    assert set(api.files) == {"recent-smoke", "old-other"}
    assert any("deleting the leftover old-smoke" in line for line in lines)


def test_without_an_enrolled_smoke_user_it_says_how_to_make_one(aws: World) -> None:
    api = FakeApi(aws.client_id)
    with pytest.raises(SmokeCheckError, match=r"make smoke-user ENV=dev"):
        _run(aws, api)
    assert api.calls == []


def test_a_malformed_secret_names_the_missing_fields_not_the_values(aws: World) -> None:
    aws.session.client("secretsmanager").put_secret_value(
        SecretId=client.smoke_user_secret_name("dev"),
        # pragma: allowlist nextline secret  (a made-up password that must not be echoed)
        SecretString='{"username": "smoke-dev@example.com", "password": "Hunter-2-Hunter!"}',
    )
    with pytest.raises(SignInError, match="lacks totp_secret") as raised:
        _run(aws, FakeApi(aws.client_id))
    assert "Hunter" not in str(raised.value)


def test_a_smoke_user_without_totp_is_told_to_enrol_again(mfa_pool: World) -> None:
    mfa_pool.add_smoke_user(totp=False)
    api = FakeApi(mfa_pool.client_id)
    with pytest.raises(SignInError, match=r"no TOTP factor.*make smoke-user"):
        _run(mfa_pool, api)
    # The smoke test never registers a factor itself.
    assert "AssociateSoftwareToken" not in mfa_pool.operations("cognito-idp")
    assert api.calls == [("GET", "/health"), ("POST", "/upload")]  # the 401 check only


def test_moto_checks_the_code_of_a_real_clock(
    mfa_pool: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    mfa_pool.add_smoke_user()
    api = FakeApi(mfa_pool.client_id, polls=1)
    client.run_smoke(mfa_pool.session, TARGET, transport=api, sleep=time.sleep, log=print)
    assert api.files == {}


def test_a_wrong_code_is_refused_and_nothing_is_uploaded(
    mfa_pool: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    mfa_pool.add_smoke_user()
    right = signin.totp
    monkeypatch.setattr(signin, "totp", lambda s, at: f"{(int(right(s, at)) + 1) % 10**6:06d}")
    api = FakeApi(mfa_pool.client_id)
    with pytest.raises(ClientError, match="CodeMismatchException"):
        client.run_smoke(mfa_pool.session, TARGET, transport=api, sleep=time.sleep)
    assert api.files == {}
    assert ("GET", "/uploads?limit=100") not in api.calls


def test_a_failed_sign_out_is_reported_not_raised(aws: World) -> None:
    aws.add_smoke_user()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalErrorException"}}, "GlobalSignOut")

    aws.session.events.register("before-call.cognito-idp.GlobalSignOut", refuse)
    lines: list[str] = []
    _run(aws, FakeApi(aws.client_id), log=lines.append)
    assert any("could not revoke" in line for line in lines)


def test_refuses_plain_http() -> None:
    with pytest.raises(SmokeCheckError, match="non-https"):
        client.api_client("http://example.com")


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
