"""Cognito IdP's `RevokeToken` in the emulator: moto 5.2.5 does not implement it.

The web app revokes the refresh token of every sign-in, which it never uses.
Answered as AWS documents the call (API reference, RevokeToken; developer
guide, "Revoking tokens"): `{Token, ClientId[, ClientSecret]}`, public
(unsigned, as InitiateAuth), an empty answer. It revokes the refresh token (a
`REFRESH_TOKEN_AUTH` with it then fails `NotAuthorizedException`, "Refresh
Token has been revoked", moto's own answer for a revoked token) and the access
tokens issued with it (Cognito's user APIs, GetUser..., then refuse them).
Other sign-ins' tokens are untouched, and so are the ID token and the access
token as JWTs: whoever checks only signature and expiry (API Gateway's JWT
authorizer, the upload API) accepts them until they expire, as on AWS.

AWS does not document which refusal answers which case: these are errors
botocore's model declares for the call, matched to the revoke endpoint's
(invalid_client, unsupported_token_type...). A client the emulator does not
know, or one whose secret does not match, `UnauthorizedException`; a client with
token revocation off, `UnsupportedOperationException`; a token that is no refresh
token of the client's pool, `UnsupportedTokenTypeException`; a refresh token of
another client, `InvalidParameterException`. Revoking a revoked token succeeds
again, as OAuth's token revocation (RFC 7009) does.
"""

from __future__ import annotations

from typing import Any

import jwt
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult


class _UnauthorizedError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UnauthorizedException", message)


class _UnsupportedOperationError(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "UnsupportedOperationException", "Token revocation is not enabled for this client."
        )


class _UnsupportedTokenTypeError(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("UnsupportedTokenTypeException", "The token is not a refresh token.")


def _pool_of_client(client_id: str) -> CognitoIdpUserPool | None:
    # An unsigned call names no region or account: look in every one, as moto's
    # RegionAgnosticBackend does for InitiateAuth.
    for account_backends in cognitoidp_backends.values():
        for region, backend in account_backends.items():
            if region == "global":
                continue
            for pool in backend.user_pools.values():
                if client_id in pool.clients:
                    return pool
    return None


def _origin_jti(token: str) -> Any:
    # moto signed the token itself; only its claim is read.
    return jwt.decode(token, options={"verify_signature": False}).get("origin_jti")


def _revoke_token(self: CognitoIdpResponse) -> EmptyResult:
    token = self._get_param("Token")
    client_id = self._get_param("ClientId")
    pool = _pool_of_client(client_id)
    if pool is None:
        raise _UnauthorizedError(f"Client {client_id} does not exist.")
    client = pool.clients[client_id]
    if client.generate_secret and self._get_param("ClientSecret") != client.secret:
        raise _UnauthorizedError("The client secret does not match the client.")
    if not client.extended_config.get("EnableTokenRevocation"):
        raise _UnsupportedOperationError()
    if token not in pool.refresh_tokens:
        raise _UnsupportedTokenTypeError()
    issued = pool.refresh_tokens[token]
    if issued is None:  # revoked already (or signed out globally)
        return EmptyResult()
    issued_to, _, origin_jti = issued
    if issued_to != client_id:
        raise InvalidParameterException("The refresh token was not issued to this client.")
    # None is how moto marks a refresh token signed out: InitiateAuth then refuses it.
    pool.refresh_tokens[token] = None
    for access_token in [t for t in pool.access_tokens if _origin_jti(t) == origin_jti]:
        del pool.access_tokens[access_token]
    return EmptyResult()


API_EXTENSIONS: dict[tuple[type[Any], str], Any] = {
    (CognitoIdpResponse, "revoke_token"): _revoke_token,
}
