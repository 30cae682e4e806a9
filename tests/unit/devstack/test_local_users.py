"""`make guide-user EMAIL=...` can be run again, and `make token EMAIL=...` signs its users in."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from tests.devstack import guide_user, token
from tests.devstack.definitions import DEMO_USER
from tests.devstack.demo_user import create_demo_user, demo_user_password
from tests.devstack.stack_state import users_file, write_state
from tests.support.aws import server_client
from tests.support.stack_state import stack_state


@pytest.fixture
def state_dir(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory whose state.json names a user pool (with the demo user) in moto."""
    cognito = server_client(endpoint, "cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    state = stack_state(
        moto_endpoint=endpoint,
        user_pool_id=pool_id,
        client_id=client_id,
        username=DEMO_USER,
        password=create_demo_user(cognito, pool_id),
    )
    write_state(state, tmp_path)
    monkeypatch.setenv("DEVSTACK_STATE_DIR", str(tmp_path))
    return tmp_path


def user_of(id_token: str) -> str:
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["cognito:username"])


def test_guide_user_twice_for_one_email_gives_a_token_both_times(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guide_user.main(["reader@example.com"]) == 0
    first = capsys.readouterr()
    assert guide_user.main(["reader@example.com"]) == 0
    second = capsys.readouterr()

    assert user_of(first.out.strip()) == "reader@example.com"
    assert user_of(second.out.strip()) == "reader@example.com"
    assert first.err == ""
    assert second.err.startswith("reader@example.com is already a user of the local stack")
    assert "Traceback" not in second.err


def test_token_signs_in_a_guide_user_by_email(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guide_user.main(["reader@example.com"]) == 0
    capsys.readouterr()

    assert token.main(["--email", "reader@example.com"]) == 0

    assert user_of(capsys.readouterr().out.strip()) == "reader@example.com"
    # The passwords are kept as the demo user's: owner-only.
    assert stat.S_IMODE(users_file(state_dir).stat().st_mode) == 0o600


def test_token_without_an_email_is_the_demo_users_and_api_url_still_answers(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert token.main([]) == 0
    assert user_of(capsys.readouterr().out.strip()) == DEMO_USER

    assert token.main(["--api-url"]) == 0
    assert capsys.readouterr().out == "http://127.0.0.1:8000\n"


def test_token_for_an_email_guide_user_did_not_create_says_how(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert token.main(["--email", "stranger@example.com"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "make guide-user EMAIL=stranger@example.com" in captured.err


def test_a_restored_demo_user_keeps_its_password_and_a_replaced_pool_gets_a_new_one(
    endpoint: str,
) -> None:
    cognito = server_client(endpoint, "cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="restored")["UserPool"]["Id"]
    kept = create_demo_user(cognito, pool_id)
    assert demo_user_password(cognito, pool_id, kept) == kept
    replaced = cognito.create_user_pool(PoolName="replaced")["UserPool"]["Id"]
    new = demo_user_password(cognito, replaced, kept)
    assert new != kept
    assert cognito.admin_get_user(UserPoolId=replaced, Username=DEMO_USER)["Enabled"]
