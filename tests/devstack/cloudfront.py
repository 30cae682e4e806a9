"""CloudFront in the emulator: response-headers policies, and distributions read back as sent.

- Response-headers policies: moto 5.2.5 answers none of the calls Terraform's
  `aws_cloudfront_response_headers_policy` makes (the web app's security
  headers, modules/web): Create/Get/GetConfig/Update/Delete/List. They are
  answered here as CloudFront answers them: the configuration is kept as it
  was sent and returned unchanged, with an Id, an ETag that changes on every
  update, If-Match checked on update and delete, and no deletion of a policy a
  distribution uses. The local stack serves the web app with the headers of
  the policy read back from here. The policies live on moto's CloudFront
  backend of the account, so moto's reset clears them and the local stack's
  snapshot keeps them, as it keeps the distributions.
- `response_headers(config)`: the headers CloudFront adds to every answer
  under a policy's configuration, for the local stack's web server.
- Distributions: moto drops an origin's OriginAccessControlId, answers
  ForwardedValues for a cache behaviour that names a cache policy instead, and
  an SSLSupportMethod for the default certificate. CloudFront does none of
  these, and each made every plan after the apply want to change the
  distribution: the emulator keeps the origin access control and leaves out
  what was not sent.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion
from moto.cloudfront.models import (
    CloudFrontBackend,
    DefaultCacheBehaviour,
    Origin,
    ViewerCertificate,
)
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.base_backend import BaseBackend
from moto.core.responses import ActionResult, EmptyResult

# ------------------------------------------------------------------ response-headers policies

Policy = dict[str, Any]

_API = "/2020-05-31/response-headers-policy"
# moto's server routes a request to the backend by these paths (the regular
# expressions of moto/cloudfront/urls.py).
_URL_PATHS = {
    f"{{0}}{_API}$": CloudFrontResponse.dispatch,
    f"{{0}}{_API}/(?P<policy_id>[^/]+)$": CloudFrontResponse.dispatch,
    f"{{0}}{_API}/(?P<policy_id>[^/]+)/config$": CloudFrontResponse.dispatch,
}
# Where the policies are kept on the backend (an attribute moto does not have).
_STORE = "response_headers_policies"
_lock = threading.Lock()


class _NoSuchPolicy(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "NoSuchResponseHeadersPolicy", "The response headers policy does not exist."
        )


class _PolicyAlreadyExists(CloudFrontException):
    def __init__(self, name: str) -> None:
        super().__init__(
            "ResponseHeadersPolicyAlreadyExists",
            f"A response headers policy with the name {name} already exists.",
        )


class _StaleIfMatch(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "PreconditionFailed", "The If-Match version does not match the resource's ETag."
        )


class _PolicyInUse(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "ResponseHeadersPolicyInUse",
            "Cannot delete the response headers policy because a distribution uses it.",
        )


def _url_paths(backend: CloudFrontBackend) -> dict[str, Any]:
    """moto's paths for CloudFront, and those of the response-headers policies."""
    paths: dict[str, Any] = BaseBackend.url_paths.fget(backend)  # type: ignore[attr-defined]
    return {**paths, **{path.format(""): handler for path, handler in _URL_PATHS.items()}}


def _policies(response: CloudFrontResponse) -> dict[str, Policy]:
    backend = response.backend
    if not hasattr(backend, _STORE):
        setattr(backend, _STORE, {})
    policies: dict[str, Policy] = getattr(backend, _STORE)
    return policies


def _policy(response: CloudFrontResponse) -> Policy:
    policy = _policies(response).get(response._get_param("Id"))
    if policy is None:
        raise _NoSuchPolicy
    return policy


def _checked(response: CloudFrontResponse) -> Policy:
    """The policy the request names, if its If-Match is the policy's current ETag."""
    policy = _policy(response)
    if_match = response._get_param("IfMatch")
    if not if_match:
        raise InvalidIfMatchVersion
    if if_match != policy["ETag"]:
        raise _StaleIfMatch
    return policy


def _in_use(response: CloudFrontResponse, policy_id: str) -> bool:
    # moto sets a distribution's configuration fields as attributes, by their API names.
    behaviours = [
        vars(d.distribution_config)["DefaultCacheBehavior"]
        for d in response.backend.distributions.values()
    ]
    return any(b.response_headers_policy_id == policy_id for b in behaviours)


def _new_etag() -> str:
    return uuid.uuid4().hex.upper()[:14]


def _described(policy: Policy) -> dict[str, Any]:
    return {key: policy[key] for key in ("Id", "LastModifiedTime", "ResponseHeadersPolicyConfig")}


def _create_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    config = self._get_param("ResponseHeadersPolicyConfig")
    with _lock:
        policies = _policies(self)
        if any(
            p["ResponseHeadersPolicyConfig"]["Name"] == config["Name"] for p in policies.values()
        ):
            raise _PolicyAlreadyExists(config["Name"])
        policy_id = str(uuid.uuid4())
        policies[policy_id] = policy = {
            "Id": policy_id,
            "LastModifiedTime": datetime.now(UTC),
            "ResponseHeadersPolicyConfig": config,
            "ETag": _new_etag(),
        }
    return ActionResult(
        {
            "ResponseHeadersPolicy": _described(policy),
            "Location": f"https://cloudfront.amazonaws.com{_API}/{policy_id}",
            "ETag": policy["ETag"],
        }
    )


def _get_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    policy = _policy(self)
    return ActionResult({"ResponseHeadersPolicy": _described(policy), "ETag": policy["ETag"]})


def _get_response_headers_policy_config(self: CloudFrontResponse) -> ActionResult:
    policy = _policy(self)
    return ActionResult(
        {
            "ResponseHeadersPolicyConfig": policy["ResponseHeadersPolicyConfig"],
            "ETag": policy["ETag"],
        }
    )


def _update_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    with _lock:
        policy = _checked(self)
        policy["ResponseHeadersPolicyConfig"] = self._get_param("ResponseHeadersPolicyConfig")
        policy["LastModifiedTime"] = datetime.now(UTC)
        policy["ETag"] = _new_etag()
    return ActionResult({"ResponseHeadersPolicy": _described(policy), "ETag": policy["ETag"]})


def _delete_response_headers_policy(self: CloudFrontResponse) -> EmptyResult:
    with _lock:
        policy = _checked(self)
        if _in_use(self, policy["Id"]):
            raise _PolicyInUse
        del _policies(self)[policy["Id"]]
    return EmptyResult()


def _list_response_headers_policies(self: CloudFrontResponse) -> ActionResult:
    # Only custom policies: the emulator holds none of AWS's managed ones.
    kind = self._get_param("Type") or "custom"
    items = [] if kind == "managed" else list(_policies(self).values())
    return ActionResult(
        {
            "ResponseHeadersPolicyList": {
                "MaxItems": 100,
                "Quantity": len(items),
                "Items": [
                    {"Type": "custom", "ResponseHeadersPolicy": _described(p)} for p in items
                ],
            }
        }
    )


# ------------------------------------------------------------------ the headers a policy adds


def _hsts(part: Mapping[str, Any]) -> str:
    flags = [("IncludeSubdomains", "includeSubDomains"), ("Preload", "preload")]
    return "; ".join(
        [f"max-age={part['AccessControlMaxAgeSec']}", *(v for k, v in flags if part.get(k))]
    )


# The policy's fields that name no header, or that the code below reads.
_NOT_HEADERS = {"Name", "Comment", "SecurityHeadersConfig", "CustomHeadersConfig"}
# SecurityHeadersConfig part -> (the header, its value from the part).
_SECURITY_HEADERS: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "ContentSecurityPolicy": ("Content-Security-Policy", lambda p: p["ContentSecurityPolicy"]),
    "StrictTransportSecurity": ("Strict-Transport-Security", _hsts),
    "ContentTypeOptions": ("X-Content-Type-Options", lambda _: "nosniff"),
    "FrameOptions": ("X-Frame-Options", lambda p: p["FrameOption"]),
    "ReferrerPolicy": ("Referrer-Policy", lambda p: p["ReferrerPolicy"]),
}


def response_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The headers CloudFront adds to every answer under a response-headers policy's
    configuration (as GetResponseHeadersPolicyConfig answers it): the security headers
    and custom headers modules/web sets, each replacing the origin's (Override). A policy
    with other parts, or a header that would keep the origin's, is refused, not
    half-served."""
    security = {
        name: part for name, part in (config.get("SecurityHeadersConfig") or {}).items() if part
    }
    unserved = {name for name, part in config.items() if part and name not in _NOT_HEADERS}
    unserved |= set(security) - set(_SECURITY_HEADERS)
    if unserved:
        raise ValueError(
            f"CloudFront would add headers the local stack does not add: {sorted(unserved)}"
        )
    custom = (config.get("CustomHeadersConfig") or {}).get("Items") or []
    kept = [item["Header"] for item in custom if not item.get("Override")]
    kept += [name for name, part in security.items() if not part.get("Override")]
    if kept:
        raise ValueError(
            f"headers that keep the origin's value, which the local stack does not add: {kept}"
        )
    return {
        **{
            header: value(security[name])
            for name, (header, value) in _SECURITY_HEADERS.items()
            if name in security
        },
        **{item["Header"]: item["Value"] for item in custom},
    }


# ------------------------------------------------------------------ distributions

_origin_init = Origin.__init__
_cache_behaviour_init = DefaultCacheBehaviour.__init__
_viewer_certificate_init = ViewerCertificate.__init__


def _origin_keeps_its_access_control(self: Origin, origin: dict[str, Any]) -> None:
    _origin_init(self, origin)
    vars(self)["origin_access_control_id"] = origin.get("OriginAccessControlId") or ""


def _cache_behaviour_as_sent(self: DefaultCacheBehaviour, config: dict[str, Any]) -> None:
    _cache_behaviour_init(self, config)
    if "ForwardedValues" not in config:  # a cache policy decides instead (CachePolicyId)
        self.forwarded_values = None  # type: ignore[assignment]


def _certificate_as_sent(self: ViewerCertificate, config: dict[str, Any]) -> None:
    _viewer_certificate_init(self, config)
    if "SSLSupportMethod" not in config:  # only a custom certificate has one
        self.ssl_support_method = None


API_EXTENSIONS: dict[tuple[type[Any], str], Any] = {
    (Origin, "__init__"): _origin_keeps_its_access_control,
    (DefaultCacheBehaviour, "__init__"): _cache_behaviour_as_sent,
    (ViewerCertificate, "__init__"): _certificate_as_sent,
    (CloudFrontBackend, "url_paths"): property(_url_paths),
    (CloudFrontResponse, "create_response_headers_policy"): _create_response_headers_policy,
    (CloudFrontResponse, "get_response_headers_policy"): _get_response_headers_policy,
    (CloudFrontResponse, "get_response_headers_policy_config"): _get_response_headers_policy_config,
    (CloudFrontResponse, "update_response_headers_policy"): _update_response_headers_policy,
    (CloudFrontResponse, "delete_response_headers_policy"): _delete_response_headers_policy,
    (CloudFrontResponse, "list_response_headers_policies"): _list_response_headers_policies,
}
