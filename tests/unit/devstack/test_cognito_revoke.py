"""Cognito IdP's RevokeToken in the emulator (tests.devstack.cognito_revoke), called with boto3
as any client of Cognito calls it, against a real moto server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.aws import server_client

USER = "web@example.com"
PASSWORD = "Correct-Horse-1"  # pragma: allowlist secret  (a throwaway user of a throwaway pool)


def public_client(endpoint: str) -> Any:
    """Cognito IdP unsigned, as a browser calls its public operations."""
    return server_client(endpoint, "cognito-idp", config=Config(signature_version=UNSIGNED))


def new_pool(endpoint: str) -> tuple[str, str]:
    """A pool with the web app's kind of client (public, USER_PASSWORD_AUTH) and one user."""
    idp = server_client(endpoint, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"revoke-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    idp.admin_create_user(UserPoolId=pool, Username=USER, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=USER, Password=PASSWORD, Permanent=True)
    return pool, new_client(endpoint, pool)


def new_client(endpoint: str, pool: str, **settings: Any) -> str:
    idp = server_client(endpoint, "cognito-idp")
    client: str = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        **settings,
    )["UserPoolClient"]["ClientId"]
    return client


def sign_in(endpoint: str, client_id: str) -> dict[str, Any]:
    result: dict[str, Any] = public_client(endpoint).initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=client_id,
        AuthParameters={"USERNAME": USER, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return result


def refresh(endpoint: str, client_id: str, refresh_token: str) -> dict[str, Any]:
    result: dict[str, Any] = public_client(endpoint).initiate_auth(
        AuthFlow="REFRESH_TOKEN_AUTH",
        ClientId=client_id,
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )["AuthenticationResult"]
    return result


def error_of(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return {"Code": error.get("Code", ""), "Message": error.get("Message", "")}


def test_a_revoked_refresh_token_mints_no_more_tokens(endpoint: str) -> None:
    _, client_id = new_pool(endpoint)
    tokens = sign_in(endpoint, client_id)
    assert "IdToken" in refresh(endpoint, client_id, tokens["RefreshToken"])

    answer = public_client(endpoint).revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    error = error_of(lambda: refresh(endpoint, client_id, tokens["RefreshToken"]))
    assert error == {"Code": "NotAuthorizedException", "Message": "Refresh Token has been revoked"}


def test_revoking_twice_succeeds_and_the_token_stays_revoked(endpoint: str) -> None:
    _, client_id = new_pool(endpoint)
    tokens = sign_in(endpoint, client_id)
    idp = public_client(endpoint)

    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)
    again = idp.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)

    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    error = error_of(lambda: refresh(endpoint, client_id, tokens["RefreshToken"]))
    assert error["Code"] == "NotAuthorizedException"


def test_another_clients_refresh_token_is_refused_and_kept(endpoint: str) -> None:
    pool, client_id = new_pool(endpoint)
    other_client = new_client(endpoint, pool)
    tokens = sign_in(endpoint, client_id)
    idp = public_client(endpoint)

    other = error_of(lambda: idp.revoke_token(Token=tokens["RefreshToken"], ClientId=other_client))
    unknown = error_of(lambda: idp.revoke_token(Token=tokens["RefreshToken"], ClientId="nobody"))

    assert other["Code"] == "InvalidParameterException"
    assert unknown["Code"] == "UnauthorizedException"
    assert "IdToken" in refresh(endpoint, client_id, tokens["RefreshToken"])


def test_only_refresh_tokens_are_revoked(endpoint: str) -> None:
    _, client_id = new_pool(endpoint)
    tokens = sign_in(endpoint, client_id)
    idp = public_client(endpoint)

    for token in (tokens["AccessToken"], tokens["IdToken"], "not-a-token"):
        error = error_of(lambda token=token: idp.revoke_token(Token=token, ClientId=client_id))

        assert error["Code"] == "UnsupportedTokenTypeException"


def test_a_client_with_a_secret_must_send_it(endpoint: str) -> None:
    pool, _ = new_pool(endpoint)
    client_id = new_client(endpoint, pool, GenerateSecret=True)
    secret = server_client(endpoint, "cognito-idp").describe_user_pool_client(
        UserPoolId=pool, ClientId=client_id
    )["UserPoolClient"]["ClientSecret"]
    refresh_token = server_client(endpoint, "cognito-idp").admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": USER, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["RefreshToken"]
    idp = public_client(endpoint)

    without = error_of(lambda: idp.revoke_token(Token=refresh_token, ClientId=client_id))
    wrong = error_of(
        lambda: idp.revoke_token(Token=refresh_token, ClientId=client_id, ClientSecret="x" * 24)
    )
    idp.revoke_token(Token=refresh_token, ClientId=client_id, ClientSecret=secret)

    assert without["Code"] == wrong["Code"] == "UnauthorizedException"


def test_a_client_without_token_revocation_refuses(endpoint: str) -> None:
    pool, _ = new_pool(endpoint)
    client_id = new_client(endpoint, pool, EnableTokenRevocation=False)
    tokens = sign_in(endpoint, client_id)

    error = error_of(
        lambda: public_client(endpoint).revoke_token(
            Token=tokens["RefreshToken"], ClientId=client_id
        )
    )

    assert error["Code"] == "UnsupportedOperationException"
    assert "IdToken" in refresh(endpoint, client_id, tokens["RefreshToken"])


def test_the_tokens_issued_with_it_stay_valid_jwts_but_not_for_cognito(endpoint: str) -> None:
    # As AWS documents it: the revoked sign-in's access token is refused by Cognito's
    # user APIs; its ID and access tokens still pass a signature and expiry check (the
    # upload API's, API Gateway's JWT authorizer's); another sign-in is untouched.
    pool, client_id = new_pool(endpoint)
    revoked = sign_in(endpoint, client_id)
    kept = sign_in(endpoint, client_id)
    idp = public_client(endpoint)

    idp.revoke_token(Token=revoked["RefreshToken"], ClientId=client_id)

    assert error_of(lambda: idp.get_user(AccessToken=revoked["AccessToken"]))["Code"] == (
        "NotAuthorizedException"
    )
    assert idp.get_user(AccessToken=kept["AccessToken"])["Username"] == USER
    assert "IdToken" in refresh(endpoint, client_id, kept["RefreshToken"])
    keys = jwt.PyJWKClient(f"{endpoint}/{pool}/.well-known/jwks.json")
    uses = [
        jwt.decode(
            token, keys.get_signing_key_from_jwt(token), ["RS256"], options={"verify_aud": False}
        )["token_use"]
        for token in (revoked["IdToken"], revoked["AccessToken"])
    ]
    assert uses == ["id", "access"]


def test_a_page_can_read_the_answer(endpoint: str) -> None:
    # The web app calls it with fetch from its own origin: RevokeToken is one of the
    # operations AWS serves unsigned, so the emulator's CORS layer lets the page read it.
    _, client_id = new_pool(endpoint)
    tokens = sign_in(endpoint, client_id)

    answer = httpx.post(
        f"{endpoint}/",
        content=json.dumps({"Token": tokens["RefreshToken"], "ClientId": client_id}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.RevokeToken",
            "Origin": "http://127.0.0.1:5173",
        },
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
