"""`make smoke-user` (smoke.enroll): the operator's one-off enrolment against moto."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from smoke import client, enroll, signin
from smoke.enroll import EnrolError
from tests.unit.smoke.conftest import (
    MOTO_TOTP_SECRET,
    REGION,
    SMOKE_USERNAME,
    TARGET,
    FakeApi,
    FakeClock,
    World,
)


def _enrol(world: World, clock: FakeClock | None = None, **kwargs: Any) -> list[str]:
    clock = clock or FakeClock()
    lines: list[str] = []
    enroll.enrol(
        world.session,
        TARGET,
        username=SMOKE_USERNAME,
        clock=clock,
        sleep=clock.sleep,
        log=lines.append,
        **kwargs,
    )
    return lines


def _moto_user(world: World) -> Any:
    return cognitoidp_backends[DEFAULT_ACCOUNT_ID][REGION].admin_get_user(
        world.pool_id, SMOKE_USERNAME
    )


def _sub(world: World) -> str:
    attributes = world.session.client("cognito-idp").admin_get_user(
        UserPoolId=world.pool_id, Username=SMOKE_USERNAME
    )["UserAttributes"]
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


def test_enrols_a_totp_user_whose_credentials_the_smoke_run_uses(aws: World) -> None:
    clock = FakeClock()
    lines = _enrol(aws, clock)
    assert aws.operations("secretsmanager") == ["DescribeSecret", "PutSecretValue"]
    stored = aws.stored_secret()
    assert set(stored) == {"username", "password", "totp_secret"}
    assert stored["username"] == SMOKE_USERNAME
    assert stored["totp_secret"] == MOTO_TOTP_SECRET
    assert len(stored["password"]) >= 14
    # MFA is optional in this pool: TOTP is added with the access token and preferred.
    user = _moto_user(aws)
    assert user.software_token_mfa_enabled
    assert user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA"
    assert aws.operations("cognito-idp") == [
        "AdminGetUser",
        "AdminCreateUser",
        "AdminSetUserPassword",
        "InitiateAuth",
        "RespondToAuthChallenge",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SetUserMFAPreference",
        "GlobalSignOut",
        # The check: the smoke test's own sign-in, with a code of the next window.
        "InitiateAuth",
        "RespondToAuthChallenge",
        "RespondToAuthChallenge",
        "GlobalSignOut",
    ]
    assert aws.challenges() == ["PASSWORD_VERIFIER", "PASSWORD_VERIFIER", "SOFTWARE_TOKEN_MFA"]
    assert clock.sleeps  # the check waited for the next TOTP window
    assert clock.now >= (1_700_000_010 // 30 + 1) * 30
    # No message to the address, which is verified so that nobody is asked to confirm it.
    create = next(c for c in aws.calls if c.operation == "AdminCreateUser")
    assert create.params["MessageAction"] == "SUPPRESS"
    printed = "\n".join(lines)
    assert stored["password"] not in printed
    assert MOTO_TOTP_SECRET not in printed.lower()

    # The smoke test signs in with what was stored.
    api = FakeApi(aws.client_id)
    client.run_smoke(aws.session, TARGET, transport=api, clock=clock, sleep=clock.sleep)
    assert api.files == {}


def test_a_pool_that_requires_mfa_sets_the_factor_up_at_the_first_sign_in(
    mfa_pool: World,
) -> None:
    lines = _enrol(mfa_pool)
    operations = mfa_pool.operations("cognito-idp")
    assert operations[3:9] == [
        "InitiateAuth",
        "RespondToAuthChallenge",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "RespondToAuthChallenge",
        "SetUserMFAPreference",
    ]
    assert mfa_pool.challenges()[:2] == ["PASSWORD_VERIFIER", "MFA_SETUP"]
    associate = next(c for c in mfa_pool.calls if c.operation == "AssociateSoftwareToken")
    assert "Session" in associate.params
    assert "AccessToken" not in associate.params
    assert any("requires MFA" in line for line in lines)
    assert _moto_user(mfa_pool).token_verified


def test_an_existing_user_is_kept_unless_replace_is_asked(aws: World) -> None:
    _enrol(aws)
    before = (_sub(aws), aws.stored_secret())
    with pytest.raises(EnrolError, match=r"exists.*REPLACE=1"):
        _enrol(aws)
    assert (_sub(aws), aws.stored_secret()) == before

    _enrol(aws, replace=True)
    assert _sub(aws) != before[0]
    assert aws.stored_secret()["password"] != before[1]["password"]
    assert len(aws.users()) == 1


def test_without_the_secret_container_no_user_is_made(aws: World) -> None:
    store = aws.session.client("secretsmanager")
    store.delete_secret(
        SecretId=client.smoke_user_secret_name("dev"), ForceDeleteWithoutRecovery=True
    )
    with pytest.raises(EnrolError, match="apply the environment's Terraform first"):
        _enrol(aws)
    assert aws.users() == []


def test_a_container_without_the_environment_key_is_refused(aws: World) -> None:
    store = aws.session.client("secretsmanager")
    name = client.smoke_user_secret_name("dev")
    store.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    store.create_secret(Name=name)  # aws/secretsmanager: any role of the account may decrypt
    with pytest.raises(EnrolError, match="not encrypted with the environment key"):
        _enrol(aws)
    assert aws.users() == []


def test_a_failed_enrolment_deletes_the_new_user_and_stores_nothing(
    aws: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    right = signin.totp
    monkeypatch.setattr(signin, "totp", lambda s, at: f"{(int(right(s, at)) + 1) % 10**6:06d}")
    lines: list[str] = []
    with pytest.raises(ClientError, match="CodeMismatchException"):
        enroll.enrol(
            aws.session, TARGET, username=SMOKE_USERNAME, sleep=time.sleep, log=lines.append
        )
    assert aws.users() == []
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws.stored_secret()
    assert any("deleting" in line for line in lines)


def test_the_operator_calls_are_the_documented_ones() -> None:
    # The permissions `make smoke-user` needs (environments/README.md): every signed call.
    text = (Path(enroll.__file__)).read_text()
    admin = {call for call in _calls(text, "cognito") if call.startswith("admin_")}
    assert admin == {
        "admin_get_user",
        "admin_create_user",
        "admin_set_user_password",
        "admin_delete_user",
    }
    assert set(_calls(text, "store")) == {"describe_secret", "put_secret_value"}


def _calls(text: str, receiver: str) -> list[str]:
    return re.findall(rf"{receiver}\.([a-z_]+)\(", text)


def test_without_credentials_stops_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert enroll.main(["--env", "dev"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_main_reports_a_failure_without_secrets(
    aws: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _enrol(aws)
    assert enroll.main(["--env", "dev"]) == 1
    err = capsys.readouterr().err
    assert "smoke-user: dev FAILED" in err
    assert "REPLACE=1" in err
    assert json.dumps(aws.stored_secret()["password"]).strip('"') not in err
