"""CORS in the emulator as AWS answers it (tests.devstack.cors): S3 from the bucket's CORS
configuration only, Cognito IdP's public operations for any origin, nothing else at all;
against a real moto server, as a browser at the local web app's origin would call it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.devstack import cors
from tests.devstack.emulator import install_extensions, start_moto
from tests.devstack.ports import free_port
from tests.support.aws import server_client

WEB = "http://127.0.0.1:5173"
OTHER = "http://127.0.0.1:5174"
PART_RULE = {
    "AllowedOrigins": [WEB],
    "AllowedMethods": ["PUT", "GET"],
    "AllowedHeaders": ["content-type"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 300,
}
COGNITO_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
PASSWORD = "Correct-Horse-1"  # pragma: allowlist secret  (a throwaway user of a throwaway pool)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto with the emulator's extensions and the CORS ones, as start_moto installs them
    once tests/devstack/emulator.py lists them (installing them twice changes nothing)."""
    install_extensions()
    for (cls, name), function in cors.API_EXTENSIONS.items():
        setattr(cls, name, function)
    cors.install()
    server = start_moto(free_port())
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def new_bucket(endpoint: str, *rules: dict[str, Any]) -> str:
    name = f"cors-{uuid.uuid4().hex[:12]}"
    s3 = server_client(endpoint, "s3")
    s3.create_bucket(Bucket=name)
    if rules:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": list(rules)})
    return name


def preflight(url: str, origin: str, method: str = "PUT", headers: str = "") -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return httpx.options(url, headers=asked)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("access-control-") or name == "vary"
    }


def error_code(response: httpx.Response) -> str:
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


# ------------------------------------------------------------------ S3


def part_url(endpoint: str, bucket: str, key: str = "uploads/part") -> str:
    s3 = server_client(endpoint, "s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    url: str = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": 1},
    )
    return url


def test_a_preflight_to_a_presigned_part_url_gets_the_matching_rule(endpoint: str) -> None:
    url = part_url(endpoint, new_bucket(endpoint, PART_RULE))

    answer = preflight(url, WEB, "PUT", "Content-Type")

    assert answer.status_code == 200, answer.text
    assert cors_headers(answer) == {
        "access-control-allow-origin": WEB,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "PUT, GET",
        "access-control-allow-headers": "content-type",
        "access-control-expose-headers": "ETag",
        "access-control-max-age": "300",
        "vary": cors.S3_VARY,
    }


def test_a_part_put_and_a_download_from_the_allowed_origin_can_read_the_answer(
    endpoint: str,
) -> None:
    bucket = new_bucket(endpoint, PART_RULE)
    part = httpx.put(part_url(endpoint, bucket), content=b"part", headers={"Origin": WEB})
    assert part.status_code == 200, part.text
    assert part.headers["access-control-allow-origin"] == WEB
    assert part.headers["access-control-expose-headers"] == "ETag"
    assert "Origin" in part.headers["vary"]
    assert part.headers["etag"]

    server_client(endpoint, "s3").put_object(Bucket=bucket, Key="uploads/file", Body=b"file")
    url = server_client(endpoint, "s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "uploads/file"}
    )
    download = httpx.get(url, headers={"Origin": WEB})
    assert download.content == b"file"
    assert download.headers["access-control-allow-origin"] == WEB


def test_another_origin_is_refused_the_preflight_and_gets_no_cors_headers(
    endpoint: str,
) -> None:
    bucket = new_bucket(endpoint, PART_RULE)

    answer = preflight(part_url(endpoint, bucket), OTHER)

    assert answer.status_code == 403
    assert error_code(answer) == "AccessForbidden"
    assert cors_headers(answer) == {}
    server_client(endpoint, "s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    direct = httpx.get(
        server_client(endpoint, "s3").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "k"}
        ),
        headers={"Origin": OTHER},
    )
    assert direct.status_code == 200  # S3 answers; the browser withholds it from the page
    assert cors_headers(direct) == {}


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        (f"{WEB}.evil.example", "PUT", ""),  # moto matched an allowed origin as a prefix
        (WEB, "DELETE", ""),  # not an AllowedMethod
        (WEB, "PUT", "content-type,x-amz-meta-owner"),  # a header no AllowedHeader matches
    ],
)
def test_a_preflight_no_rule_allows_is_refused(
    endpoint: str, origin: str, method: str, headers: str
) -> None:
    answer = preflight(f"{endpoint}/{new_bucket(endpoint, PART_RULE)}/k", origin, method, headers)

    assert answer.status_code == 403
    assert "This CORS request is not allowed" in answer.text
    assert cors_headers(answer) == {}


def test_a_bucket_without_cors_rules_answers_no_cors(endpoint: str) -> None:
    bucket = new_bucket(endpoint)
    server_client(endpoint, "s3").put_object(Bucket=bucket, Key="k", Body=b"x")

    answer = preflight(f"{endpoint}/{bucket}/k", WEB)
    direct = httpx.get(f"{endpoint}/{bucket}/k", headers={"Origin": WEB})

    assert answer.status_code == 403
    assert "CORS is not enabled for this bucket" in answer.text
    assert cors_headers(answer) == {}
    assert cors_headers(direct) == {}


def test_the_first_matching_rule_answers_and_a_rule_for_another_origin_refuses_nothing(
    endpoint: str,
) -> None:
    bucket = new_bucket(
        endpoint,
        {"AllowedOrigins": [OTHER], "AllowedMethods": ["PUT"]},
        {"AllowedOrigins": ["http://127.0.0.1:*"], "AllowedMethods": ["GET"]},
        {"AllowedOrigins": [WEB], "AllowedMethods": ["PUT"], "ExposeHeaders": ["ETag"]},
        {"AllowedOrigins": [WEB], "AllowedMethods": ["PUT"], "ExposeHeaders": ["x-amz-id-2"]},
    )

    put = preflight(f"{endpoint}/{bucket}/k", WEB, "PUT")
    get = preflight(f"{endpoint}/{bucket}/k", WEB, "GET")

    assert put.status_code == 200, put.text
    assert put.headers["access-control-expose-headers"] == "ETag"
    assert get.status_code == 200, get.text
    assert get.headers["access-control-allow-methods"] == "GET"
    assert "access-control-expose-headers" not in get.headers


def test_a_rule_for_any_origin_answers_a_star_without_credentials(endpoint: str) -> None:
    bucket = new_bucket(endpoint, {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]})

    answer = preflight(f"{endpoint}/{bucket}/k", OTHER, "GET")

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


def test_a_preflight_needs_an_origin_and_a_bucket(endpoint: str) -> None:
    bucket = new_bucket(endpoint, PART_RULE)

    no_origin = httpx.options(
        f"{endpoint}/{bucket}/k", headers={"Access-Control-Request-Method": "PUT"}
    )
    no_bucket = preflight(f"{endpoint}/missing-{uuid.uuid4().hex[:12]}/k", WEB)

    assert no_origin.status_code == 400
    assert error_code(no_origin) == "BadRequest"
    assert no_bucket.status_code == 403
    assert "Bucket not found" in no_bucket.text


# ------------------------------------------------------------------ Cognito IdP


def cognito(
    endpoint: str, operation: str, body: dict[str, Any], origin: str = WEB
) -> httpx.Response:
    """An unsigned call to Cognito IdP's JSON API, as the web app makes it with fetch."""
    return httpx.post(
        f"{endpoint}/",
        content=json.dumps(body),
        headers={
            **COGNITO_HEADERS,
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Origin": origin,
        },
    )


def test_cognito_allows_any_origin_to_sign_in_with_a_new_password(endpoint: str) -> None:
    idp = server_client(endpoint, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"cors-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="web@example.com", TemporaryPassword=PASSWORD)

    asked = preflight(f"{endpoint}/", WEB, "POST", "content-type,x-amz-target,x-amz-user-agent")
    challenge = cognito(
        endpoint,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": "web@example.com", "PASSWORD": PASSWORD},
        },
    )
    signed_in = cognito(
        endpoint,
        "RespondToAuthChallenge",
        {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "ClientId": client_id,
            "Session": challenge.json()["Session"],
            "ChallengeResponses": {"USERNAME": "web@example.com", "NEW_PASSWORD": f"{PASSWORD}!"},
        },
    )

    assert asked.status_code == 200
    assert cors_headers(asked) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type, x-amz-target, x-amz-user-agent",
    }
    assert challenge.json()["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge.headers["access-control-allow-origin"] == "*"
    assert "IdToken" in signed_in.json()["AuthenticationResult"]
    assert signed_in.headers["access-control-allow-origin"] == "*"


def test_cognito_errors_are_readable_too(endpoint: str) -> None:
    answer = cognito(endpoint, "InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "x"})

    assert answer.status_code == 400
    assert answer.headers["access-control-allow-origin"] == "*"


def test_only_the_operations_aws_serves_unsigned_are_public() -> None:
    assert {"InitiateAuth", "RespondToAuthChallenge", "SignUp"} <= cors.COGNITO_PUBLIC_OPERATIONS
    assert not {"ListUserPools", "ListUsers", "AdminSetUserPassword", "AdminCreateUser"} & (
        cors.COGNITO_PUBLIC_OPERATIONS
    )


def test_no_page_can_read_what_cognito_answers_only_signed(endpoint: str) -> None:
    # moto answers these unsigned; AWS would not, and a browser cannot sign here (the
    # preflight allows no Authorization header): a page at any origin must not read them.
    idp = server_client(endpoint, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"cors-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    idp.admin_create_user(UserPoolId=pool, Username="web@example.com", TemporaryPassword=PASSWORD)

    for origin in (WEB, "http://evil.example"):
        for operation, body in (
            ("ListUserPools", {"MaxResults": 10}),
            ("ListUsers", {"UserPoolId": pool}),
            ("AdminGetUser", {"UserPoolId": pool, "Username": "web@example.com"}),
        ):
            answer = cognito(endpoint, operation, body, origin)

            assert answer.status_code == 200, operation  # moto served it unsigned...
            assert cors_headers(answer) == {}, operation  # ...but no browser lets a page read it


# ------------------------------------------------------------------ everything else


def test_other_services_answer_no_cors(endpoint: str) -> None:
    dynamodb = server_client(endpoint, "dynamodb")
    dynamodb.meta.events.register(
        "before-sign.dynamodb.*", lambda request, **_: request.headers.add_header("Origin", WEB)
    )

    listed = dynamodb.list_tables()
    # What a browser asks before a signed call to a REST API (Lambda, Step Functions...).
    asked = preflight(f"{endpoint}/2015-03-31/functions", WEB, "GET", "authorization,x-amz-date")

    assert "access-control-allow-origin" not in listed["ResponseMetadata"]["HTTPHeaders"]
    assert asked.status_code == 403
    assert cors_headers(asked) == {}
