"""Cognito JWT verification: RS256 against the user pool's JWKS, nothing else accepted.

API Gateway's JWT authorizer checks the same token on AWS; the app checks it
again (defence in depth) and is the only check in the local stack.
"""

import json
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from upload_api.core.errors import ApiError

ALGORITHM = "RS256"
_JWKS_TIMEOUT_SECONDS = 3
# An unknown kid triggers at most one refetch per interval, so a stream of
# forged kids cannot turn the app into a JWKS request amplifier.
_MIN_REFETCH_INTERVAL_SECONDS = 30.0
_RETRY_AFTER_FAILURE_SECONDS = 2.0
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class User:
    """The authenticated caller. `sub` owns every file the caller uploads."""

    sub: str
    username: str | None
    token_use: str


class InvalidToken(Exception):  # noqa: N818  # reads as "raise InvalidToken(...)"
    """Any reason to refuse a token; the message is safe to return to the client."""


def is_allowed_jwks_url(url: str) -> bool:
    """Keys only over TLS; plain http only to this machine (the local stack)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https":
        return bool(parsed.hostname)
    return parsed.scheme == "http" and parsed.hostname in _LOOPBACK_HOSTS


class JwksCache:
    """The user pool's signing keys, fetched once and refetched on an unknown kid.

    Every fetch attempt, failed or not, starts a quiet period, so neither forged
    kids nor an unreachable JWKS endpoint turn each request into a fetch.
    """

    def __init__(
        self,
        url: str,
        min_refetch_interval: float = _MIN_REFETCH_INTERVAL_SECONDS,
        retry_after_failure: float = _RETRY_AFTER_FAILURE_SECONDS,
    ) -> None:
        if not is_allowed_jwks_url(url):
            raise ValueError("JWKS URL must be https (or http on loopback)")
        self._url = url
        self._min_refetch_interval = min_refetch_interval
        self._retry_after_failure = retry_after_failure
        self._keys: dict[str, Any] = {}
        self._attempted_at: float | None = None
        self._last_attempt_failed = False
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                self._refresh()
            key = self._keys.get(kid)
            unavailable = key is None and self._last_attempt_failed and not self._keys
        if unavailable:
            raise InvalidToken("signing keys unavailable")
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        return key

    def _may_refetch(self) -> bool:
        if self._attempted_at is None:
            return True
        quiet = (
            self._retry_after_failure if self._last_attempt_failed else self._min_refetch_interval
        )
        return time.monotonic() - self._attempted_at >= quiet

    def _refresh(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            # The URL was checked at start-up by is_allowed_jwks_url: https, or
            # http on loopback for the local stack; never file:// or another scheme.
            with urllib.request.urlopen(self._url, timeout=_JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
                document = json.load(response)
        except (OSError, ValueError):
            # Keep the keys we have: a blip must not lock out every caller.
            self._last_attempt_failed = True
            return
        self._last_attempt_failed = False
        self._keys = _rsa_keys(document)


def _rsa_keys(document: Any) -> dict[str, Any]:
    """RSA keys by kid; a malformed entry is skipped rather than failing every request."""
    entries = document.get("keys", []) if isinstance(document, dict) else []
    keys: dict[str, Any] = {}
    for jwk in entries if isinstance(entries, list) else []:
        if not (
            isinstance(jwk, dict) and jwk.get("kty") == "RSA" and isinstance(jwk.get("kid"), str)
        ):
            continue
        try:
            keys[jwk["kid"]] = RSAAlgorithm.from_jwk(jwk)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            continue
    return keys


class TokenVerifier:
    """Checks signature, time claims, issuer, token_use and audience/client_id."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache, leeway: int) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._jwks = jwks
        self._leeway = leeway

    def verify(self, token: str) -> User:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed token") from error
        # Refuse alg=none and every HMAC variant before a key is even looked up.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        key = self._jwks.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                leeway=self._leeway,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use"],
                    # aud exists only on IdTokens; checked below per token_use.
                    "verify_aud": False,
                },
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("token expired") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidToken("token not yet valid") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidToken("token issuer not accepted") from error
        except jwt.PyJWTError as error:
            raise InvalidToken("token invalid") from error
        return self._user_from(claims)

    def _user_from(self, claims: dict[str, Any]) -> User:
        use = claims.get("token_use")
        if use == "id":
            if claims.get("aud") != self._client_id:
                raise InvalidToken("token audience not accepted")
        elif use == "access":
            if claims.get("client_id") != self._client_id:
                raise InvalidToken("token client not accepted")
        else:
            raise InvalidToken("token_use not accepted")
        sub = claims.get("sub")
        # The sub becomes a key prefix: allow only what Cognito issues.
        if not isinstance(sub, str) or not _is_safe_subject(sub):
            raise InvalidToken("token subject not accepted")
        username = claims.get("cognito:username") or claims.get("username")
        return User(
            sub=sub,
            username=str(username) if username else None,
            token_use=str(use),
        )


def _is_safe_subject(sub: str) -> bool:
    return 0 < len(sub) <= 128 and all(
        char.isascii() and (char.isalnum() or char == "-") for char in sub
    )


def bearer_token(authorization: str | None) -> str:
    """Accept `Authorization: <jwt>` (Cognito's examples) and `Bearer <jwt>`."""
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, rest = authorization.strip().partition(" ")
    if rest and scheme.lower() == "bearer":
        token = rest.strip()
    elif not rest:
        token = scheme
    else:
        raise InvalidToken("unsupported Authorization scheme")
    if token.count(".") != 2:
        raise InvalidToken("malformed token")
    return token


def unauthorized(reason: str) -> ApiError:
    # RFC 6750: tell the client which scheme and why, without echoing the token.
    challenge = f'Bearer error="invalid_token", error_description="{reason}"'
    return ApiError(401, "unauthorized", reason, headers={"WWW-Authenticate": challenge})
