"""The smoke user's credentials and its sign-in through the public flow (no IAM involved).

USER_SRP_AUTH (InitiateAuth, then PASSWORD_VERIFIER with an SRP proof: see srp.py), then
SOFTWARE_TOKEN_MFA with a TOTP code. Every Cognito call here is one botocore sends unsigned,
as any user's browser would: a role needs no cognito-idp permission to make them. The
operator's enrolment (enroll.py) also answers MFA_SETUP; the smoke test never does.
Passwords, TOTP seeds and codes stay out of repr() and of every message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyotp

from smoke.srp import SrpClient, timestamp

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# A code computed in the last moments of its window may reach Cognito after the window turned.
TOTP_MIN_SECONDS_LEFT = 2.0
SECRET_FIELDS = ("username", "password", "totp_secret")


class SignInError(Exception):
    """Cognito asked for something the smoke user cannot answer, or the answer was refused."""


@dataclass(frozen=True)
class SmokeUser:
    """What the environment's smoke-user secret holds (written by `make smoke-user`)."""

    username: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)

    @classmethod
    def from_secret(cls, text: str) -> SmokeUser:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise SignInError("the smoke-user secret is not a JSON object")
        # Names only: a value may be the password.
        bad = [name for name in SECRET_FIELDS if not isinstance(document.get(name), str)]
        bad += [name for name in SECRET_FIELDS if name not in bad and not document[name]]
        if bad:
            raise SignInError(f"the smoke-user secret lacks {', '.join(bad)}")
        return cls(document["username"], document["password"], document["totp_secret"])

    def to_secret(self) -> str:
        return json.dumps(
            {"username": self.username, "password": self.password, "totp_secret": self.totp_secret}
        )


def totp(secret_b32: str, at: float) -> str:
    """RFC 6238 code of a base32 secret at Unix time `at` (pyotp: HMAC-SHA1, 30 s, 6 digits).

    Cognito hands out the secret unpadded; case and spaces are forgiven.
    """
    secret = "".join(secret_b32.split()).upper()
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(int(at))


@dataclass
class TotpDevice:
    """The smoke user's authenticator app. The secret stays out of repr() and of every message."""

    secret: str = field(repr=False)
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    last_step: int | None = None

    def code(self) -> str:
        """A code of a window no earlier code came from, with some of the window left.

        Cognito accepts a code once: a second one (the enrolment's check right after its
        verification) waits for the next 30 s window.
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


# MFA_SETUP (enrolment only): given the challenge's session, register a software token and
# return the device that holds it and the session to answer the challenge with.
MfaSetup = Callable[[str], tuple[TotpDevice, str]]


def sign_in(
    cognito: Any,
    *,
    user_pool_id: str,
    client_id: str,
    username: str,
    password: str,
    device: TotpDevice | None = None,
    mfa_setup: MfaSetup | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """USER_SRP_AUTH and the challenges after it; returns Cognito's AuthenticationResult."""
    srp = SrpClient.new()
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": username, "SRP_A": srp.srp_a},
    )
    user_id = username
    answered: set[str] = set()
    while "AuthenticationResult" not in result:
        challenge = result.get("ChallengeName")
        parameters = result.get("ChallengeParameters") or {}
        session = result.get("Session")
        if challenge in answered:
            raise SignInError(f"sign-in asked for {challenge} again")
        answered.add(str(challenge))
        # Cognito names the user by its internal id from the first challenge on.
        user_id = parameters.get("USER_ID_FOR_SRP", user_id)
        responses = {"USERNAME": user_id}
        if challenge == "PASSWORD_VERIFIER":
            at = timestamp(now())
            responses |= {
                "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
                "PASSWORD_CLAIM_SIGNATURE": srp.password_claim(
                    user_pool_id=user_pool_id,
                    user_id=user_id,
                    password=password,
                    salt_hex=parameters["SALT"],
                    srp_b_hex=parameters["SRP_B"],
                    secret_block=parameters["SECRET_BLOCK"],
                    at=at,
                ),
                "TIMESTAMP": at,
            }
        elif challenge == "SOFTWARE_TOKEN_MFA":
            if device is None:
                raise SignInError("sign-in asked for a TOTP code and there is no TOTP seed")
            responses["SOFTWARE_TOKEN_MFA_CODE"] = device.code()
        elif challenge == "MFA_SETUP" and mfa_setup is not None:
            offered = str(parameters.get("MFAS_CAN_SETUP", "SOFTWARE_TOKEN_MFA"))
            if "SOFTWARE_TOKEN_MFA" not in offered:
                raise SignInError(f"sign-in needs MFA the smoke user cannot set up: {offered}")
            if session is None:
                raise SignInError("MFA_SETUP came without a session")
            device, session = mfa_setup(session)
        elif challenge == "MFA_SETUP":
            raise SignInError(
                "the smoke user has no TOTP factor; enrol it again (make smoke-user REPLACE=1)"
            )
        else:
            raise SignInError(f"sign-in asked for a challenge it cannot answer: {challenge}")
        request: dict[str, Any] = {
            "ClientId": client_id,
            "ChallengeName": challenge,
            "ChallengeResponses": responses,
        }
        if session is not None:
            request["Session"] = session
        result = cognito.respond_to_auth_challenge(**request)
    tokens: dict[str, Any] = result["AuthenticationResult"]
    return tokens


def register_software_token(
    cognito: Any,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    session: str | None = None,
    access_token: str | None = None,
) -> tuple[TotpDevice, str | None]:
    """Associate a TOTP secret (with a sign-in session or the user's access token) and prove it.

    Returns the device and, for a session, the session to answer MFA_SETUP with.
    """
    if (session is None) == (access_token is None):
        raise ValueError("pass a session or an access token")
    scope = {"Session": session} if session is not None else {"AccessToken": access_token}
    associated = cognito.associate_software_token(**scope)
    device = TotpDevice(associated["SecretCode"], clock, sleep)
    if session is not None:
        scope = {"Session": associated.get("Session", session)}
    verified = cognito.verify_software_token(
        **scope, UserCode=device.code(), FriendlyDeviceName="smoke"
    )
    if verified.get("Status") != "SUCCESS":
        raise SignInError(f"the software token was not verified: {verified.get('Status')}")
    return device, verified.get("Session")
