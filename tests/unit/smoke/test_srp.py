"""Cognito SRP (smoke.srp): the reference client's vectors and a verifier computed server side.

The emulator accepts any PASSWORD_CLAIM_SIGNATURE, so these tests are what proves the maths.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoke import srp
from smoke.srp import G, K, N, SrpClient, SrpError, pad_hex


def _seeded_hex(seed: str, size: int) -> str:
    """Deterministic bytes (SHA-512 in counter mode) as hex: the vectors' inputs."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha512(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:size].hex()


# amazon-cognito-identity-js 6.3.21 (AWS's reference client): AuthenticationHelper with
# smallAValue set to `a`, getPasswordAuthenticationKey(user id, password, B, salt), and
# CognitoUser's HMAC-SHA256 over pool name | user id | SECRET_BLOCK | TIMESTAMP. The second
# case has a salt and an `a` with leading zero bytes, which the reference drops.
VECTORS = [
    {
        "pool_id": "us-east-1_Example01",
        "user_id": "4f1e2d3c-0000-4000-8000-0123456789ab",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "password": "Correct-Horse-Battery-1!",
        "a": _seeded_hex("a1", 128),
        "b": _seeded_hex("b1", 128),
        "salt": "8f" + _seeded_hex("s1", 15),
        "secret_block": base64.b64encode(bytes.fromhex(_seeded_hex("sb1", 96))).decode(),
        "timestamp": "Tue Sep 3 12:02:09 UTC 2019",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "srp_a_sha256": "15041edb566846039dc14d21f6a7965d1a171e690d446326d2a74f54e175774e",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "key": "1c7576e8205ec33736a236e9e95a472b",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "signature": "xaTF1RSjBF9ZuT4yXUJR1qvx39v3iukJx5Mpc4dKb+o=",
    },
    {
        "pool_id": "eu-west-1_Zz9Yy8Xx7",
        "user_id": "smoke-dev@example.com",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "password": "p@ss wörd ✓ 1A",  # non-ASCII on purpose: UTF-8 is hashed
        "a": "00" + _seeded_hex("a2", 127),
        "b": _seeded_hex("b2", 128),
        "salt": "000" + _seeded_hex("s2", 16)[3:],
        "secret_block": base64.b64encode(bytes.fromhex(_seeded_hex("sb2", 64))).decode(),
        "timestamp": "Sun Jan 11 07:08:09 UTC 2026",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "srp_a_sha256": "0a95be0e0a20aba2abeb4b0937fe9e2279bd9cec173487561ced5e455e4c070d",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "key": "48c6d0f33ea314a151b13d36b3a1af21",
        # pragma: allowlist nextline secret  (the reference client's test vector)
        "signature": "P8QIEHIZVCT0M6D6me/OeXZSnc0WhMbnwLs/K7Y3vKg=",
    },
]


@pytest.mark.parametrize("vector", VECTORS, ids=["high-bit-salt", "leading-zeros"])
def test_matches_the_reference_client(vector: dict[str, str]) -> None:
    client = SrpClient(int(vector["a"], 16))
    srp_b = format(pow(G, int(vector["b"], 16), N), "x")
    assert hashlib.sha256(client.srp_a.encode()).hexdigest() == vector["srp_a_sha256"]
    common = {
        "user_pool_id": vector["pool_id"],
        "user_id": vector["user_id"],
        "password": vector["password"],
        "salt_hex": vector["salt"],
        "srp_b_hex": srp_b,
    }
    assert client.session_key(**common).hex() == vector["key"]
    claim = client.password_claim(
        **common, secret_block=vector["secret_block"], at=vector["timestamp"]
    )
    assert claim == vector["signature"]


@pytest.mark.parametrize(
    ("value", "expected"),
    # From the reference client's padHex table (Java's BigInteger.toByteArray()).
    [(0, "00"), (1, "01"), (20, "14"), (127, "7f"), (128, "0080"), (236, "00ec"), (256, "0100")],
)
def test_pad_hex_is_javas_two_complement_encoding(value: int, expected: str) -> None:
    assert pad_hex(value) == expected


def test_pad_hex_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        pad_hex(-1)


def test_the_group_is_rfc_5054s_3072_bit_prime_and_k_is_hashed_from_it() -> None:
    assert N.bit_length() == 3072
    assert pad_hex(N).startswith("00ffffffffffffffffc90fdaa2")
    assert int(hashlib.sha256(bytes.fromhex("00" + srp.N_HEX + "02")).hexdigest(), 16) == K


# ------------------------------------------------------------------ a verifier, server side


class Server:
    """Cognito's side of SRP-6a, written from the protocol, not from the client's code path:
    v = g^x at sign-up, B = k*v + g^b, S = (A * v^u)^b."""

    def __init__(self, pool_id: str, user_id: str, password: str) -> None:
        self.pool_id, self.user_id = pool_id, user_id
        self.salt = secrets.token_hex(16)
        name = pool_id.split("_", 1)[1]
        inner = hashlib.sha256(f"{name}{user_id}:{password}".encode()).hexdigest()
        x = int.from_bytes(
            hashlib.sha256(bytes.fromhex(pad_hex(int(self.salt, 16)) + inner)).digest(), "big"
        )
        self.verifier = pow(G, x, N)
        self.b = secrets.randbits(256)  # the test's server: shorter is fine, and faster
        self.public = (K * self.verifier + pow(G, self.b, N)) % N
        self.secret_block = base64.b64encode(secrets.token_bytes(64)).decode()

    def expected_claim(self, srp_a_hex: str, at: str) -> str:
        a_public = int(srp_a_hex, 16)
        u = int.from_bytes(
            hashlib.sha256(bytes.fromhex(pad_hex(a_public) + pad_hex(self.public))).digest(),
            "big",
        )
        s = pow(a_public * pow(self.verifier, u, N), self.b, N)
        prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(s)), "sha256").digest()
        key = hmac.new(prk, b"Caldera Derived Key\x01", "sha256").digest()[:16]
        message = (
            self.pool_id.split("_", 1)[1].encode()
            + self.user_id.encode()
            + base64.b64decode(self.secret_block)
            + at.encode()
        )
        return base64.b64encode(hmac.new(key, message, "sha256").digest()).decode()


def _claim(client: SrpClient, server: Server, password: str, at: str) -> str:
    return client.password_claim(
        user_pool_id=server.pool_id,
        user_id=server.user_id,
        password=password,
        salt_hex=server.salt,
        srp_b_hex=format(server.public, "x"),
        secret_block=server.secret_block,
        at=at,
    )


# Each example costs a few 3072-bit powers (tenths of a second in Python).
@settings(max_examples=8)
@given(password=st.text(min_size=1, max_size=64), user_id=st.uuids().map(str))
def test_the_server_accepts_the_right_password(password: str, user_id: str) -> None:
    server = Server("us-east-1_AbCdEf123", user_id, password)
    client = SrpClient.new()
    at = "Mon Jan 5 09:00:00 UTC 2026"
    assert _claim(client, server, password, at) == server.expected_claim(client.srp_a, at)


def test_the_server_refuses_a_wrong_password_or_a_replayed_claim() -> None:
    server = Server("us-east-1_AbCdEf123", "4f1e2d3c-user", "Right-Password-1!")
    client = SrpClient.new()
    at = "Mon Jan 5 09:00:00 UTC 2026"
    expected = server.expected_claim(client.srp_a, at)
    assert _claim(client, server, "Wrong-Password-1!", at) != expected
    # A claim binds the timestamp and the ephemeral values: none carries over.
    assert _claim(client, server, "Right-Password-1!", "Mon Jan 5 09:00:01 UTC 2026") != expected
    assert _claim(SrpClient.new(), server, "Right-Password-1!", at) != expected


@pytest.mark.parametrize("bad_b", [0, N, 2 * N])
def test_a_b_of_zero_mod_n_is_refused(bad_b: int) -> None:
    with pytest.raises(SrpError, match="0 mod N"):
        SrpClient.new().session_key(
            user_pool_id="us-east-1_AbC",
            user_id="u",
            password="p",
            salt_hex="ab",
            srp_b_hex=format(bad_b, "x"),
        )


def test_private_value_is_fresh_and_never_shown() -> None:
    first, second = SrpClient.new(), SrpClient.new()
    assert first.a != second.a
    assert 0 < first.public < N
    assert format(first.a, "x") not in repr(first)
    assert str(first.a) not in repr(first)


def test_srp_a_is_unpadded_hex_as_the_reference_sends_it() -> None:
    client = SrpClient(3)
    assert client.srp_a == "8"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2019, 9, 3, 12, 2, 9, tzinfo=UTC), "Tue Sep 3 12:02:09 UTC 2019"),
        (datetime(2026, 1, 11, 7, 8, 9, tzinfo=UTC), "Sun Jan 11 07:08:09 UTC 2026"),
        # Another zone is converted: 01:00 at +02:00 is 23:00 UTC the day before.
        (
            datetime(2024, 3, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))),
            "Thu Feb 29 23:00:00 UTC 2024",
        ),
    ],
)
def test_timestamp_is_cognitos_format(moment: datetime, expected: str) -> None:
    assert srp.timestamp(moment) == expected


@pytest.mark.parametrize("pool_id", ["", "us-east-1", "_Abc", "us-east-1_"])
def test_pool_name_needs_a_pool_id(pool_id: str) -> None:
    with pytest.raises(ValueError, match="not a user pool id"):
        srp.pool_name(pool_id)
