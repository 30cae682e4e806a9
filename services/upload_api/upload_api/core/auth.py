"""Cognito JWT verification: RS256 against the user pool's JWKS, nothing else accepted.

API Gateway's JWT authorizer checks the same token on AWS; the app checks it
again (defence in depth) and is the only check in the local stack.
"""

import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import jwt

from upload_api.core.errors import ApiError

ALGORITHM = "RS256"
_JWKS_TIMEOUT_SECONDS = 3
# An unknown kid triggers at most one refetch per interval, so a stream of
# forged kids cannot turn the app into a JWKS request amplifier.
_MIN_REFETCH_INTERVAL_SECONDS = 30.0
# Cognito rotates by adding a key with a new kid (refetched on sight); the
# cached set is refreshed anyway once a day.
_JWKS_LIFESPAN_SECONDS = 86400.0
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
    """The user pool's signing keys, through PyJWT's PyJWKClient.

    PyJWKClient fetches and caches the JWKS and refetches it on an unknown kid
    at most once per cooldown (`min_refetch_interval`), so forged kids cannot
    turn the app into a JWKS request amplifier. What it does not do, done
    here: after a failed fetch, no request fetches again for a quiet period
    (an unreachable endpoint would otherwise cost every request a timeout),
    and the keys already cached keep working meanwhile.
    """

    def __init__(
        self,
        url: str,
        min_refetch_interval: float = _MIN_REFETCH_INTERVAL_SECONDS,
        retry_after_failure: float = _RETRY_AFTER_FAILURE_SECONDS,
    ) -> None:
        if not is_allowed_jwks_url(url):
            raise ValueError("JWKS URL must be https (or http on loopback)")
        # Checked just above: https, or http on loopback for the local stack.
        self._client = jwt.PyJWKClient(
            url,
            lifespan=_JWKS_LIFESPAN_SECONDS,
            timeout=_JWKS_TIMEOUT_SECONDS,
            cooldown_duration=min_refetch_interval,
        )
        self._retry_after_failure = retry_after_failure
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> Any:
        with self._lock:
            if self._in_quiet_period():
                return self._cached_key(kid)
            try:
                key = self._client.get_signing_key(kid)
            except jwt.PyJWKClientConnectionError as error:
                self._failed_at = time.monotonic()
                raise InvalidToken("signing keys unavailable") from error
            except (jwt.PyJWKClientError, jwt.PyJWKSetError) as error:
                raise InvalidToken("token signed by an unknown key") from error
            self._failed_at = None
            return key.key

    def _in_quiet_period(self) -> bool:
        return (
            self._failed_at is not None
            and time.monotonic() - self._failed_at < self._retry_after_failure
        )

    def _cached_key(self, kid: str) -> Any:
        """A key of the set cached before the failure, without touching the network."""
        cached = self._client.jwk_set_cache.get() if self._client.jwk_set_cache else None
        if cached is None:
            raise InvalidToken("signing keys unavailable")
        for jwk in cached.keys:
            if jwk.key_id == kid:
                return jwk.key
        raise InvalidToken("token signed by an unknown key")


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
