"""CloudFront response-headers policies in the emulator (tests.devstack.cloudfront), as
Terraform's aws_cloudfront_response_headers_policy calls them, against a real moto server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.devstack import cloudfront
from tests.devstack.emulator import install_extensions, start_moto
from tests.devstack.ports import free_port
from tests.support.aws import server_client

CSP = "default-src 'none'; script-src 'self'; connect-src 'self' https://api.example"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto with the emulator's extensions and these, as start_moto installs them once
    tests/devstack/emulator.py lists them (installing them twice changes nothing)."""
    install_extensions()
    for (cls, name), function in cloudfront.API_EXTENSIONS.items():
        setattr(cls, name, function)
    server = start_moto(free_port())
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def config(name: str, csp: str = CSP) -> dict[str, Any]:
    """A policy configuration as the provider sends modules/web's."""
    return {
        "Name": name,
        "Comment": "Security headers of the web app.",
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": csp},
            "StrictTransportSecurity": {
                "Override": True,
                "AccessControlMaxAgeSec": 63072000,
                "IncludeSubdomains": True,
                "Preload": True,
            },
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "no-referrer"},
        },
        "CustomHeadersConfig": {
            "Quantity": 1,
            "Items": [{"Header": "Cache-Control", "Value": "no-cache", "Override": True}],
        },
    }


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_policy_is_created_read_listed_updated_and_deleted(endpoint: str) -> None:
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    created = api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    assert created["Location"].endswith(f"/response-headers-policy/{policy_id}")

    got = api.get_response_headers_policy(Id=policy_id)
    # Returned as it was sent: the local stack serves the app with these headers.
    assert got["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == config(name)
    assert got["ETag"] == created["ETag"]
    assert api.get_response_headers_policy_config(Id=policy_id)[
        "ResponseHeadersPolicyConfig"
    ] == config(name)
    listed = api.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]
    assert policy_id in {item["ResponseHeadersPolicy"]["Id"] for item in listed["Items"]}
    assert all(item["Type"] == "custom" for item in listed["Items"])
    assert (
        api.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Quantity"]
        == 0
    )

    stricter = config(name, csp="default-src 'none'")
    updated = api.update_response_headers_policy(
        Id=policy_id, IfMatch=got["ETag"], ResponseHeadersPolicyConfig=stricter
    )
    assert updated["ETag"] != got["ETag"]
    assert (
        api.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"][
            "ResponseHeadersPolicyConfig"
        ]
        == stricter
    )

    api.delete_response_headers_policy(Id=policy_id, IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as raised:
        api.get_response_headers_policy(Id=policy_id)
    assert error_of(raised) == ("NoSuchResponseHeadersPolicy", 404)


def test_updates_and_deletes_need_the_current_etag(endpoint: str) -> None:
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    created = api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    policy_id, first = created["ResponseHeadersPolicy"]["Id"], created["ETag"]
    api.update_response_headers_policy(
        Id=policy_id, IfMatch=first, ResponseHeadersPolicyConfig=config(name)
    )
    with pytest.raises(ClientError) as raised:
        api.update_response_headers_policy(
            Id=policy_id, IfMatch=first, ResponseHeadersPolicyConfig=config(name, csp="x")
        )
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        api.delete_response_headers_policy(Id=policy_id, IfMatch=first)
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        api.delete_response_headers_policy(Id=policy_id)
    assert error_of(raised) == ("InvalidIfMatchVersion", 400)
    assert api.get_response_headers_policy_config(Id=policy_id)[
        "ResponseHeadersPolicyConfig"
    ] == config(name)


def test_names_are_unique_and_unknown_ids_are_not_found(endpoint: str) -> None:
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    with pytest.raises(ClientError) as raised:
        api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    assert error_of(raised) == ("ResponseHeadersPolicyAlreadyExists", 409)
    for call in (api.get_response_headers_policy, api.get_response_headers_policy_config):
        with pytest.raises(ClientError) as raised:
            call(Id=str(uuid.uuid4()))
        assert error_of(raised) == ("NoSuchResponseHeadersPolicy", 404)


def distribution(endpoint: str, name: str, policy_id: str) -> dict[str, Any]:
    """A distribution as modules/web asks for it: one bucket origin through an origin
    access control, a managed cache policy, the policy's headers, the default certificate."""
    api = server_client(endpoint, "cloudfront")
    control = api.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": name,
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    created: dict[str, Any] = api.create_distribution(
        DistributionConfig={
            "CallerReference": name,
            "Comment": "web",
            "Enabled": True,
            "DefaultRootObject": "index.html",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "web-files",
                        "DomainName": f"{name}.s3.us-east-1.amazonaws.com",
                        "OriginAccessControlId": control,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "web-files",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                "ResponseHeadersPolicyId": policy_id,
            },
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        }
    )["Distribution"]
    created["control"] = control
    return created


def test_a_distribution_reads_back_as_it_was_sent(endpoint: str) -> None:
    """What the provider compares with the configuration after an apply, and on every plan."""
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    created = api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    made = distribution(endpoint, name, policy_id)
    read = api.get_distribution(Id=made["Id"])["Distribution"]["DistributionConfig"]
    [origin] = read["Origins"]["Items"]
    assert origin["OriginAccessControlId"] == made["control"]
    behaviour = read["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == policy_id
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert "ForwardedValues" not in behaviour  # the cache policy decides
    assert read["ViewerCertificate"]["CloudFrontDefaultCertificate"] is True
    assert "SSLSupportMethod" not in read["ViewerCertificate"]


def test_a_policy_a_distribution_uses_is_not_deleted(endpoint: str) -> None:
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    created = api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    made = distribution(endpoint, name, policy_id)
    with pytest.raises(ClientError) as raised:
        api.delete_response_headers_policy(Id=policy_id, IfMatch=created["ETag"])
    assert error_of(raised) == ("ResponseHeadersPolicyInUse", 409)

    etag = api.get_distribution(Id=made["Id"])["ETag"]
    api.delete_distribution(Id=made["Id"], IfMatch=etag)
    api.delete_response_headers_policy(Id=policy_id, IfMatch=created["ETag"])


def test_a_policy_read_back_gives_the_headers_cloudfront_adds(endpoint: str) -> None:
    api = server_client(endpoint, "cloudfront")
    name = f"web-{uuid.uuid4().hex[:8]}"
    created = api.create_response_headers_policy(ResponseHeadersPolicyConfig=config(name))
    read = api.get_response_headers_policy_config(Id=created["ResponseHeadersPolicy"]["Id"])
    assert cloudfront.response_headers(read["ResponseHeadersPolicyConfig"]) == {
        "Content-Security-Policy": CSP,
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


@pytest.mark.parametrize(
    "extra",
    [
        {"CorsConfig": {"AccessControlAllowCredentials": False}},
        {"SecurityHeadersConfig": {"XSSProtection": {"Override": True, "Protection": True}}},
        # The origin's own value would win where it has one: not what the stack serves.
        {"CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-A", "Value": "1"}]}},
        {"SecurityHeadersConfig": {"FrameOptions": {"Override": False, "FrameOption": "DENY"}}},
    ],
)
def test_a_policy_with_headers_the_local_stack_does_not_add_is_refused(
    extra: dict[str, Any],
) -> None:
    policy = config("web")
    for part, value in extra.items():
        policy[part] = {**policy.get(part, {}), **value}
    with pytest.raises(ValueError, match="does not add"):
        cloudfront.response_headers(policy)
