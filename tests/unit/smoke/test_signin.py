"""The public sign-in (smoke.signin): challenges moto cannot show, TOTP, and the credentials.

botocore's Stubber answers as Cognito does and checks each request exactly.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from smoke import signin
from smoke.signin import SignInError, SmokeUser, TotpDevice
from tests.unit.smoke.conftest import REGION, FakeClock

POOL = "us-east-1_Example01"
APP = "exampleclientid0123456789"
USER = "smoke-dev@example.com"
USER_ID = "4f1e2d3c-0000-4000-8000-0123456789ab"
RFC6238_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA1 seed
TOOLING = Path(signin.__file__).resolve().parent
TOKENS = {"AuthenticationResult": {"IdToken": "id-token", "AccessToken": "access-token"}}


def _session_id(n: int) -> str:
    return f"session-{n}-" + "x" * 20  # Cognito sessions are at least 20 characters


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    cognito = boto3.client("cognito-idp", region_name=REGION)  # conftest's fake credentials
    with Stubber(cognito) as stubber:
        yield cognito, stubber
        stubber.assert_no_pending_responses()


def _password_verifier(stubber: Stubber, reply: dict[str, Any]) -> None:
    stubber.add_response(
        "initiate_auth",
        {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": USER_ID,
                "SALT": "8f3a",
                "SRP_B": "deadbeef",
                "SECRET_BLOCK": base64.b64encode(b"secret block").decode(),
            },
        },
        {
            "ClientId": APP,
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": {"USERNAME": USER, "SRP_A": ANY},
        },
    )
    stubber.add_response(
        "respond_to_auth_challenge",
        reply,
        {
            "ClientId": APP,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {
                "USERNAME": USER_ID,
                "PASSWORD_CLAIM_SECRET_BLOCK": base64.b64encode(b"secret block").decode(),
                "PASSWORD_CLAIM_SIGNATURE": ANY,
                "TIMESTAMP": "Fri Feb 13 23:31:30 UTC 2009",
            },
        },
    )


def _respond(
    stubber: Stubber, challenge: str, session: int, answers: dict[str, str], reply: dict[str, Any]
) -> None:
    stubber.add_response(
        "respond_to_auth_challenge",
        reply,
        {
            "ClientId": APP,
            "ChallengeName": challenge,
            "Session": _session_id(session),
            "ChallengeResponses": answers,
        },
    )


def _sign_in(cognito: Any, clock: FakeClock, **kwargs: Any) -> dict[str, Any]:
    device = kwargs.pop("device", TotpDevice(RFC6238_SECRET, clock, clock.sleep))
    return signin.sign_in(
        cognito,
        user_pool_id=POOL,
        client_id=APP,
        username=USER,
        password="pw",  # pragma: allowlist secret  (a stubbed request's placeholder value)
        device=device,
        now=lambda: datetime.fromtimestamp(clock(), UTC),
        **kwargs,
    )


def test_srp_then_the_totp_code_of_the_moment(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    clock = FakeClock(1234567890)  # RFC 6238's vector time: Fri Feb 13 23:31:30 UTC 2009
    _password_verifier(stubber, {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": _session_id(1)})
    _respond(
        stubber,
        "SOFTWARE_TOKEN_MFA",
        1,
        {"USERNAME": USER_ID, "SOFTWARE_TOKEN_MFA_CODE": "005924"},  # RFC 6238, 6 digits
        TOKENS,
    )
    assert _sign_in(cognito, clock) == TOKENS["AuthenticationResult"]
    assert clock.sleeps == []


def test_a_code_waits_when_the_window_is_about_to_turn(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    clock = FakeClock(1234567889)  # 1 s left of its window: wait for the next one
    stubber.add_response(
        "initiate_auth",
        {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": _session_id(1)},
        {
            "ClientId": APP,
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": {"USERNAME": USER, "SRP_A": ANY},
        },
    )
    _respond(
        stubber,
        "SOFTWARE_TOKEN_MFA",
        1,
        {"USERNAME": USER, "SOFTWARE_TOKEN_MFA_CODE": signin.totp(RFC6238_SECRET, 1234567890)},
        TOKENS,
    )
    _sign_in(cognito, clock)
    assert clock.sleeps == [pytest.approx(1.1)]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": _session_id(1)},
            "cannot answer: NEW_PASSWORD_REQUIRED",
        ),
        ({"ChallengeName": "SMS_MFA", "Session": _session_id(1)}, "cannot answer: SMS_MFA"),
        ({"ChallengeName": "MFA_SETUP", "Session": _session_id(1)}, "no TOTP factor"),
        (
            # pragma: allowlist nextline secret  (a stubbed challenge's placeholder block)
            {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": {"SECRET_BLOCK": "eA=="}},
            "PASSWORD_VERIFIER again",
        ),
    ],
)
def test_challenges_the_smoke_test_cannot_answer_fail(
    stubbed: tuple[Any, Stubber], reply: dict[str, Any], message: str
) -> None:
    cognito, stubber = stubbed
    _password_verifier(stubber, reply)
    with pytest.raises(SignInError, match=message):
        _sign_in(cognito, FakeClock(1234567890))


def test_a_code_without_a_seed_fails(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    _password_verifier(stubber, {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": _session_id(1)})
    with pytest.raises(SignInError, match="no TOTP seed"):
        _sign_in(cognito, FakeClock(1234567890), device=None)


def test_mfa_setup_needs_a_software_token_offer(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    _password_verifier(
        stubber,
        {
            "ChallengeName": "MFA_SETUP",
            "Session": _session_id(1),
            "ChallengeParameters": {"MFAS_CAN_SETUP": '["SMS_MFA"]'},
        },
    )
    with pytest.raises(SignInError, match="cannot set up"):
        _sign_in(cognito, FakeClock(1234567890), mfa_setup=lambda session: pytest.fail("no setup"))


def test_enrolment_answers_mfa_setup_then_a_code_of_the_next_window(
    stubbed: tuple[Any, Stubber],
) -> None:
    cognito, stubber = stubbed
    clock = FakeClock(1234567890)
    _password_verifier(
        stubber,
        {
            "ChallengeName": "MFA_SETUP",
            "Session": _session_id(1),
            "ChallengeParameters": {"MFAS_CAN_SETUP": '["SMS_MFA","SOFTWARE_TOKEN_MFA"]'},
        },
    )
    stubber.add_response(
        "associate_software_token",
        {"SecretCode": RFC6238_SECRET, "Session": _session_id(2)},
        {"Session": _session_id(1)},
    )
    stubber.add_response(
        "verify_software_token",
        {"Status": "SUCCESS", "Session": _session_id(3)},
        {"Session": _session_id(2), "UserCode": "005924", "FriendlyDeviceName": "smoke"},
    )
    _respond(
        stubber,
        "MFA_SETUP",
        3,
        {"USERNAME": USER_ID},
        {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": _session_id(4)},
    )
    _respond(
        stubber,
        "SOFTWARE_TOKEN_MFA",
        4,
        {"USERNAME": USER_ID, "SOFTWARE_TOKEN_MFA_CODE": signin.totp(RFC6238_SECRET, 1234567920)},
        TOKENS,
    )

    def setup(session: str) -> tuple[TotpDevice, str]:
        device, next_session = signin.register_software_token(
            cognito, clock=clock, sleep=clock.sleep, session=session
        )
        assert next_session is not None
        return device, next_session

    assert _sign_in(cognito, clock, device=None, mfa_setup=setup) == TOKENS["AuthenticationResult"]
    assert clock.sleeps == [pytest.approx(30.1)]  # Cognito takes a code once: the next window


def test_an_unverified_software_token_fails(stubbed: tuple[Any, Stubber]) -> None:
    cognito, stubber = stubbed
    stubber.add_response(
        "associate_software_token", {"SecretCode": RFC6238_SECRET}, {"AccessToken": "at"}
    )
    stubber.add_response(
        "verify_software_token",
        {"Status": "ERROR"},
        {"AccessToken": "at", "UserCode": "005924", "FriendlyDeviceName": "smoke"},
    )
    clock = FakeClock(1234567890)
    with pytest.raises(SignInError, match="not verified: ERROR"):
        signin.register_software_token(cognito, clock=clock, sleep=clock.sleep, access_token="at")


def test_register_takes_a_session_or_an_access_token() -> None:
    with pytest.raises(ValueError, match="a session or an access token"):
        signin.register_software_token(object(), clock=FakeClock(), sleep=lambda _: None)


def test_every_cognito_call_of_the_smoke_tooling_is_unsigned() -> None:
    # Why the smoke role needs no cognito-idp permission: botocore sends these calls unsigned,
    # Cognito authorises them by the password proof, the session or the user's token. The
    # operator's enrolment (enroll.py) is the one place Admin* calls are made.
    model = boto3.client("cognito-idp", region_name=REGION).meta.service_model
    for name in ("client.py", "signin.py"):
        calls = set(re.findall(r"cognito\.([a-z_]+)\(", (TOOLING / name).read_text()))
        assert calls, name
        for call in calls:
            operation = "".join(part.title() for part in call.split("_"))
            assert model.operation_model(operation).auth_type == "none", f"{name}: {call}"


@pytest.mark.parametrize(
    ("at", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_totp_matches_the_rfc_6238_vectors(at: int, code: str) -> None:
    # RFC 6238 appendix B lists 8 digits (94287082, ...); 6 digits are their last six.
    assert signin.totp(RFC6238_SECRET, at) == code
    assert signin.totp(RFC6238_SECRET, at + 0.999) == code  # the same 30 s window


def test_totp_takes_the_secret_as_cognito_hands_it_out() -> None:
    grouped = " ".join(RFC6238_SECRET[i : i + 4].lower() for i in range(0, 32, 4))
    assert signin.totp(grouped, 59) == "287082"


def test_nothing_secret_shows_in_repr() -> None:
    user = SmokeUser(USER, "Hunter-2-Hunter!", RFC6238_SECRET)
    device = TotpDevice(RFC6238_SECRET, lambda: 31.0, lambda _: None)
    for text in (repr(user), repr(device)):
        assert "Hunter" not in text
        assert RFC6238_SECRET not in text
    assert USER in repr(user)


def test_the_secret_round_trips() -> None:
    user = SmokeUser(USER, "Hunter-2-Hunter!", RFC6238_SECRET)
    assert SmokeUser.from_secret(user.to_secret()) == user


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        # pragma: allowlist nextline secret  (a made-up password that must not be echoed)
        ('{"username": "u", "password": "Hunter-2-Hunter!"}', "lacks totp_secret"),
        ('{"username": "u", "password": "", "totp_secret": 7}', "lacks totp_secret, password"),
    ],
)
def test_a_malformed_secret_is_refused_without_its_values(text: str, message: str) -> None:
    with pytest.raises(SignInError, match=message) as raised:
        SmokeUser.from_secret(text)
    assert "Hunter" not in str(raised.value)
