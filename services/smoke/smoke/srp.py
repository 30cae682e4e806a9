"""The client side of Cognito's USER_SRP_AUTH (SRP-6a), so the smoke user signs in publicly.

The password never leaves this process: InitiateAuth carries SRP_A, and the PASSWORD_VERIFIER
answer proves knowledge of the password with an HMAC over Cognito's SECRET_BLOCK. The
arithmetic follows AWS's reference client (amazon-cognito-identity-js, AuthenticationHelper):

- the 3072-bit group of RFC 5054 (also RFC 3526's group 15), g = 2, SHA-256;
- k = H(N | g), u = H(A | B), x = H(salt | H(<pool name><user id>:<password>)), each number
  written as Java's BigInteger.toByteArray() writes it (`pad_hex`), not padded to |N|;
- S = (B - k * g^x) ^ (a + u * x) mod N; the key is HKDF-SHA256(S, salt u,
  info "Caldera Derived Key"), 16 bytes;
- the claim is HMAC-SHA256(key, <pool name> | <user id> | SECRET_BLOCK | TIMESTAMP).

The tests check it against vectors from that reference client and against a verifier
computed server side, because the emulator accepts any claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

# RFC 3526 section 4 (the 3072-bit MODP group), laid out as the RFC prints it.
_N_RFC_3526 = (
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 "
    "020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 "
    "4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED "
    "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 "
    "98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB "
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B "
    "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 "
    "3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AAAC42D AD33170D 04507A33 "
    "A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7 "
    "ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864 "
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 "
    "08E24FA0 74E5AB31 43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"
)
N_HEX = _N_RFC_3526.replace(" ", "")
N = int(N_HEX, 16)
G = 2
HKDF_INFO = b"Caldera Derived Key"
# The reference client draws 128 random bytes for a.
PRIVATE_BYTES = 128
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SrpError(ValueError):
    """The server's SRP values are unusable (B or u is 0 mod N): never answer them."""


def pad_hex(value: int) -> str:
    """Even-length hex of a non-negative integer, with "00" in front when its top bit is set.

    The hex of Java's BigInteger.toByteArray(), which Cognito hashes: 0x80 is "0080", 0x7f "7f".
    """
    if value < 0:
        raise ValueError("SRP values are non-negative")
    text = format(value, "x")
    if len(text) % 2:
        text = "0" + text
    if text[0] in "89abcdef":
        text = "00" + text
    return text


def hash_hex(hex_text: str) -> int:
    """SHA-256 of the bytes a hex string spells, as an integer."""
    return int.from_bytes(hashlib.sha256(bytes.fromhex(hex_text)).digest(), "big")


K = hash_hex(pad_hex(N) + pad_hex(G))


def pool_name(user_pool_id: str) -> str:
    """The part of a pool id after the region: us-east-1_AbC123 -> AbC123."""
    region, separator, name = user_pool_id.partition("_")
    if not (region and separator and name):
        raise ValueError(f"not a user pool id: {user_pool_id!r}")
    return name


def timestamp(at: datetime) -> str:
    """Cognito's TIMESTAMP: "Tue Sep 3 12:02:09 UTC 2019" (English names, day not padded)."""
    at = at.astimezone(UTC)
    return (
        f"{_WEEKDAYS[at.weekday()]} {_MONTHS[at.month - 1]} {at.day} "
        f"{at.hour:02d}:{at.minute:02d}:{at.second:02d} UTC {at.year}"
    )


def password_hash(user_pool_id: str, user_id: str, password: str, salt_hex: str) -> int:
    """x = H(salt | H(<pool name><user id>:<password>)); also what a verifier v = g^x is made of."""
    inner = hashlib.sha256(f"{pool_name(user_pool_id)}{user_id}:{password}".encode()).hexdigest()
    return hash_hex(pad_hex(int(salt_hex, 16)) + inner)


def hkdf_key(s: int, u: int) -> bytes:
    """RFC 5869 HKDF-SHA256 (one block, 16 bytes) of S with u as its salt."""
    prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(s)), hashlib.sha256).digest()
    return hmac.new(prk, HKDF_INFO + b"\x01", hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class SrpClient:
    """One sign-in attempt: a fresh private value a per InitiateAuth, never shown."""

    a: int = field(repr=False)

    @classmethod
    def new(cls) -> SrpClient:
        while True:
            client = cls(int.from_bytes(secrets.token_bytes(PRIVATE_BYTES), "big"))
            if client.public != 0:  # cannot happen for a prime N; the reference client checks it
                return client

    @cached_property
    def public(self) -> int:
        return pow(G, self.a, N)  # a 3072-bit power takes tens of milliseconds: once

    @property
    def srp_a(self) -> str:
        """SRP_A for InitiateAuth: A in hex, as the reference client sends it (no padding)."""
        return format(self.public, "x")

    def session_key(
        self, *, user_pool_id: str, user_id: str, password: str, salt_hex: str, srp_b_hex: str
    ) -> bytes:
        b_public = int(srp_b_hex, 16)
        if b_public % N == 0:
            raise SrpError("the server's SRP_B is 0 mod N")
        u = hash_hex(pad_hex(self.public) + pad_hex(b_public))
        if u == 0:
            raise SrpError("u is 0")
        x = password_hash(user_pool_id, user_id, password, salt_hex)
        # Python's pow reduces a negative base modulo N, as BigInteger.modPow does.
        s = pow(b_public - K * pow(G, x, N), self.a + u * x, N)
        return hkdf_key(s, u)

    def password_claim(
        self,
        *,
        user_pool_id: str,
        user_id: str,
        password: str,
        salt_hex: str,
        srp_b_hex: str,
        secret_block: str,
        at: str,
    ) -> str:
        """PASSWORD_CLAIM_SIGNATURE for the PASSWORD_VERIFIER challenge, base64."""
        key = self.session_key(
            user_pool_id=user_pool_id,
            user_id=user_id,
            password=password,
            salt_hex=salt_hex,
            srp_b_hex=srp_b_hex,
        )
        message = (
            pool_name(user_pool_id).encode()
            + user_id.encode()
            + base64.b64decode(secret_block)
            + at.encode()
        )
        return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
