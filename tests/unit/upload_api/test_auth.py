"""Every way a token can be wrong is a 401 with WWW-Authenticate, never a 5xx."""

import base64
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.api import Api
from tests.support.tokens import CLIENT_ID, ISSUER, JwksServer, TokenIssuer
from upload_api.core.auth import (
    InvalidToken,
    JwksCache,
    TokenVerifier,
    bearer_token,
    is_allowed_jwks_url,
)


def assert_401(api: Api, authorization: str) -> None:
    response = api.client.get("/uploads", headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["error"] == "unauthorized"
    assert authorization not in response.text


def test_valid_id_token_and_access_token_are_accepted(api: Api, token_issuer: TokenIssuer) -> None:
    for token_use in ("id", "access"):
        token = token_issuer.token(token_issuer.claims(token_use=token_use))
        assert api.client.get("/uploads", headers={"Authorization": token}).status_code == 200


def test_missing_header(api: Api) -> None:
    response = api.client.get("/uploads")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


NOW = int(time.time())


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": NOW - 120}, id="expired"),
        pytest.param({"nbf": NOW + 600}, id="not-yet-valid"),
        pytest.param({"iat": NOW + 600}, id="issued-in-the-future"),
        pytest.param(
            {"iss": ISSUER.replace("TestPool1", "OtherPool")},
            id="wrong-issuer",
        ),
        pytest.param({"iss": ISSUER + "/"}, id="issuer-with-suffix"),
        pytest.param({"aud": "another-client"}, id="wrong-audience"),
        pytest.param({"token_use": "refresh"}, id="refresh-token"),
        pytest.param({"token_use": None}, id="no-token-use"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"sub": "../other"}, id="subject-with-path"),
    ],
)
def test_bad_id_token_claims(
    api: Api, token_issuer: TokenIssuer, overrides: dict[str, Any]
) -> None:
    assert_401(api, token_issuer.token(token_issuer.claims(**overrides)))


def test_access_token_for_another_client(api: Api, token_issuer: TokenIssuer) -> None:
    claims = token_issuer.claims(token_use="access", client_id="another-client")
    assert_401(api, token_issuer.token(claims))


def test_id_token_claims_with_access_use_lacks_client_id(
    api: Api, token_issuer: TokenIssuer
) -> None:
    # An IdToken relabelled as an access token carries aud, not client_id.
    claims = token_issuer.claims(token_use="id")
    claims["token_use"] = "access"
    assert_401(api, token_issuer.token(claims))


def test_small_clock_skew_is_tolerated(api: Api, token_issuer: TokenIssuer) -> None:
    token = token_issuer.token(token_issuer.claims(exp=int(time.time()) - 5))
    assert api.client.get("/uploads", headers={"Authorization": token}).status_code == 200


def test_tampered_signature(api: Api, token_issuer: TokenIssuer) -> None:
    header, payload, signature = token_issuer.token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_401(api, f"{header}.{payload}.{flipped}")


def test_tampered_payload(api: Api, token_issuer: TokenIssuer) -> None:
    header, _, signature = token_issuer.token().split(".")
    claims = token_issuer.claims(sub="33333333-3333-4333-8333-333333333333")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_401(api, f"{header}.{payload}.{signature}")


def test_alg_none(api: Api, token_issuer: TokenIssuer) -> None:
    token = jwt.encode(
        token_issuer.claims(), key="", algorithm="none", headers={"kid": token_issuer.kid}
    )
    assert_401(api, token)


def test_hmac_with_the_public_key_as_secret(api: Api, token_issuer: TokenIssuer) -> None:
    # The classic RS256 -> HS256 confusion attack.
    public_pem = token_issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": token_issuer.kid}).encode()
    ).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(token_issuer.claims()).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + payload, "sha256").digest()
    ).rstrip(b"=")
    assert_401(api, (header + b"." + payload + b"." + signature).decode())


def test_unknown_kid(api: Api) -> None:
    stranger = TokenIssuer(kid="not-in-the-jwks", key_name="stranger")
    assert_401(api, stranger.token(stranger.claims()))


def test_right_kid_wrong_key(api: Api, token_issuer: TokenIssuer) -> None:
    impostor = TokenIssuer(kid=token_issuer.kid, key_name="stranger")
    assert_401(api, impostor.token(impostor.claims()))


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "not-a-jwt", "a.b", "a.b.c", "Bearer a.b.c d"],
)
def test_malformed_headers(api: Api, authorization: str) -> None:
    response = api.client.get("/uploads", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_bearer_token_accepts_bare_and_bearer_forms() -> None:
    assert bearer_token("x.y.z") == "x.y.z"
    assert bearer_token("Bearer x.y.z") == "x.y.z"
    assert bearer_token("bearer   x.y.z ") == "x.y.z"
    with pytest.raises(InvalidToken):
        bearer_token("Token x.y.z")


def test_keys_are_cached_and_refetched_once_on_rotation(token_issuer: TokenIssuer) -> None:
    rotated = TokenIssuer(kid="rotated-key", key_name="rotated")
    server = JwksServer([token_issuer])
    with server.running():
        verifier = TokenVerifier(
            ISSUER, CLIENT_ID, JwksCache(server.url, min_refetch_interval=0), 30
        )
        for _ in range(3):
            verifier.verify(token_issuer.token())
        assert server.fetches == 1

        # The pool rotates: the new key appears in the JWKS, an unknown kid triggers one refetch.
        server.keys.append(rotated.jwk())
        assert (
            verifier.verify(rotated.token(rotated.claims(sub="rotated-user"))).sub == "rotated-user"
        )
        assert server.fetches == 2
        verifier.verify(rotated.token())
        assert server.fetches == 2


def test_unknown_kids_cannot_force_a_refetch_storm(token_issuer: TokenIssuer) -> None:
    stranger = TokenIssuer(kid="forged", key_name="stranger")
    server = JwksServer([token_issuer])
    with server.running():
        verifier = TokenVerifier(ISSUER, CLIENT_ID, JwksCache(server.url), 30)
        verifier.verify(token_issuer.token())
        for _ in range(5):
            with pytest.raises(InvalidToken):
                verifier.verify(stranger.token())
        assert server.fetches == 1


def test_unreachable_jwks_is_a_401_not_a_500(token_issuer: TokenIssuer) -> None:
    verifier = TokenVerifier(ISSUER, CLIENT_ID, JwksCache("http://127.0.0.1:9/jwks.json"), 30)
    with pytest.raises(InvalidToken, match="signing keys unavailable"):
        verifier.verify(token_issuer.token())


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json", True),
        ("http://127.0.0.1:5000/pool/.well-known/jwks.json", True),
        ("http://localhost:5000/jwks.json", True),
        ("http://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json", False),
        ("http://127.0.0.1.attacker.example/jwks.json", False),
        ("file:///etc/passwd", False),
        ("ftp://127.0.0.1/jwks.json", False),
    ],
)
def test_signing_keys_come_only_over_tls_or_loopback(url: str, allowed: bool) -> None:
    assert is_allowed_jwks_url(url) is allowed
    if not allowed:
        with pytest.raises(ValueError, match="JWKS"):
            JwksCache(url)


def test_a_malformed_key_in_the_jwks_is_skipped(token_issuer: TokenIssuer) -> None:
    server = JwksServer([token_issuer])
    server.keys.insert(0, {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"})
    server.keys.insert(0, {"kty": "RSA", "kid": 7})
    with server.running():
        verifier = TokenVerifier(ISSUER, CLIENT_ID, JwksCache(server.url), 30)
        assert (
            verifier.verify(token_issuer.token(token_issuer.claims(sub="ok-user"))).sub == "ok-user"
        )


def test_a_failing_jwks_is_retried_only_after_a_quiet_period(token_issuer: TokenIssuer) -> None:
    server = JwksServer([token_issuer])
    cache = JwksCache(server.url, retry_after_failure=3600)
    verifier = TokenVerifier(ISSUER, CLIENT_ID, cache, 30)
    with server.running():
        server.failing = True
        for _ in range(3):
            with pytest.raises(InvalidToken, match="signing keys unavailable"):
                verifier.verify(token_issuer.token())
        assert server.fetches == 1

        server.failing = False
        cache._retry_after_failure = 0  # the quiet period is over
        verifier.verify(token_issuer.token())
        assert server.fetches == 2
