"""CORS in the emulator as AWS answers it, not for everything as moto's server does.

moto's server puts flask_cors on every service: any origin may read any answer,
and every preflight passes. A browser test would pass against it where AWS
refuses. With that off (moto's DISABLE_GLOBAL_CORS, read as the server builds
each service's app), the emulator answers CORS only where AWS does:

- S3: the bucket's CORS configuration alone decides, as S3 evaluates it. The
  first rule that matches the Origin (AllowedOrigins, `*` standing for any
  characters), the method (a preflight's Access-Control-Request-Method, else
  the request's own) and, for a preflight, every header in its
  Access-Control-Request-Headers (AllowedHeaders) gives the answer's CORS
  headers, on every answer of the bucket, errors included. A preflight is never
  authenticated, and is refused 403 `AccessForbidden` when the bucket has no
  CORS configuration or no rule matches (400 `BadRequest` without an Origin).
  moto 5.2.5 has the pieces but gets them wrong where a browser would notice:
  it authenticates a preflight as the request it precedes (so the emulator's
  presigned-URL check refuses a preflight to a presigned URL), answers 200 to a
  preflight on a bucket without CORS, applies every rule instead of the first
  matching one, checks neither the method nor the headers, matches an origin
  by prefix (`http://a.example` also allows `http://a.example.evil`), and adds
  CORS headers to GetObject's answers only, so a browser could not read a
  part's ETag.
- Cognito IdP: its public endpoint is called from browsers by design and
  allows any origin: `Access-Control-Allow-Origin: *` on the preflight and on
  the answers to its public operations, those AWS serves unsigned
  (InitiateAuth, RespondToAuthChallenge...: botocore's model lists them). Not
  on the answers to the others (ListUsers, AdminSetUserPassword...): AWS
  serves them only signed, which a browser cannot do here (the preflight
  allows no Authorization header), and moto serves them unsigned, so any page
  could read the user pool. The emulator serves every service on one host,
  and a preflight carries neither the X-Amz-Target nor a signature that would
  tell the service: a preflight on `/` that asks for x-amz-target is taken for
  Cognito's. Another JSON API's signed call also asks for authorization, which
  that answer does not allow, so a browser still refuses it; S3 answers no
  CORS at its root.
- Every other service: no CORS headers, and no preflight passes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
import moto.moto_server.werkzeug_app
from moto.core.responses import ActionResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import AccessForbidden, BadRequest, MissingBucket, S3ClientError
from moto.s3.models import CorsRule, FakeBucket
from moto.s3.responses import S3Response
from werkzeug.wrappers import Response

Answer = tuple[int, dict[str, Any], Any]
S3Handler = Callable[[S3Response, Any, str, Any], Answer]

# ------------------------------------------------------------------ S3

# What S3 answers with CORS headers: a cache must keep one answer per origin and preflight.
S3_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
CORS_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution"
    " of Origin, request method / Access-Control-Request-Method or"
    " Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)


def _matches(pattern: str, value: str) -> bool:
    """S3's wildcard: a `*` in an AllowedOrigin or AllowedHeader stands for any characters."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value) is not None


def _header_names(listed: str) -> list[str]:
    """The lower-case names of a comma-separated header list (Access-Control-Request-Headers)."""
    return [name.strip().lower() for name in listed.split(",") if name.strip()]


def _matching_rule(
    bucket: FakeBucket, origin: str, method: str, headers: Iterable[str]
) -> CorsRule | None:
    """The first of the bucket's CORS rules allowing this origin, method and request headers."""
    for rule in bucket.cors:
        allowed_headers = [name.lower() for name in rule.allowed_headers or []]
        if (
            any(_matches(allowed, origin) for allowed in rule.allowed_origins)
            and method in rule.allowed_methods
            and all(any(_matches(allowed, h) for allowed in allowed_headers) for h in headers)
        ):
            return rule
    return None


def _rule_headers(rule: CorsRule, origin: str, requested_headers: list[str]) -> dict[str, str]:
    any_origin = "*" in rule.allowed_origins
    headers = {
        "Access-Control-Allow-Origin": "*" if any_origin else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.allowed_methods),
        "Vary": S3_VARY,
    }
    if not any_origin:
        headers["Access-Control-Allow-Credentials"] = "true"
    if requested_headers:  # a rule that matched allows every one of them
        headers["Access-Control-Allow-Headers"] = ", ".join(requested_headers)
    if rule.exposed_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.exposed_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    return headers


def _preflight(response: S3Response, request: Any) -> Answer:
    origin = request.headers.get("Origin")
    if not origin:
        raise BadRequest("Insufficient information. Origin request header needed.")
    try:
        bucket = response.backend.get_bucket(response.bucket_name)
    except MissingBucket:
        raise AccessForbidden("CORSResponse: Bucket not found") from None
    if not bucket.cors:
        raise AccessForbidden("CORSResponse: CORS is not enabled for this bucket.")
    method = request.headers.get("Access-Control-Request-Method", request.method)
    requested_headers = _header_names(request.headers.get("Access-Control-Request-Headers", ""))
    rule = _matching_rule(bucket, origin, method, requested_headers)
    if rule is None:
        raise AccessForbidden(CORS_NOT_ALLOWED)
    return 200, _rule_headers(rule, origin, requested_headers), ""


def _answer_cors_headers(response: S3Response, request: Any) -> dict[str, str]:
    """What S3 adds to its answer to a request that is not a preflight."""
    origin = request.headers.get("Origin")
    if not origin or not response.bucket_name:
        return {}
    try:
        bucket = response.backend.get_bucket(response.bucket_name)
    except MissingBucket:
        return {}
    rule = _matching_rule(bucket, origin, request.method, ())
    return {} if rule is None else _rule_headers(rule, origin, [])


def _answering_cors(handler: S3Handler) -> S3Handler:
    """moto's bucket or key handler, with S3's preflight and CORS headers."""

    @functools.wraps(handler)
    def answer(self: S3Response, request: Any, full_url: str, headers: Any) -> Answer:
        if request.method == "OPTIONS":
            # Answered before moto authenticates anything: a preflight carries no
            # credentials, and a presigned URL's signature is for the method it presigns.
            self.setup_class(request, full_url)
            try:
                return self._send_response(_preflight(self, request))
            except S3ClientError as error:
                return self._send_response(self.serialized(ActionResult(error)))
        status, response_headers, body = handler(self, request, full_url, headers)
        return status, {**response_headers, **_answer_cors_headers(self, request)}, body

    return answer


def _no_cors_headers(self: S3Response) -> dict[str, Any]:
    # moto's own CORS headers for GetObject: _answering_cors adds S3's to every answer.
    return {}


# ------------------------------------------------------------------ Cognito IdP

COGNITO_ALLOWED_HEADERS = "content-type, x-amz-target, x-amz-user-agent"
COGNITO_IDP = "cognitoidp"  # moto's name for the service
COGNITO_TARGET_SERVICE = "AWSCognitoIdentityProviderService"  # X-Amz-Target: <this>.<operation>
_COGNITO_MODEL = botocore.session.get_session().get_service_model("cognito-idp")
# The operations AWS serves unsigned, to browsers: the only answers any origin may read.
COGNITO_PUBLIC_OPERATIONS = frozenset(
    name
    for name in _COGNITO_MODEL.operation_names
    if _COGNITO_MODEL.operation_model(name).auth_type == "none"
)


def _is_cognito_preflight(environ: dict[str, Any]) -> bool:
    requested = _header_names(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
    return (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and environ.get("PATH_INFO") == "/"
        and "x-amz-target" in requested
    )


def _cognito_preflight(environ: dict[str, Any], start_response: Any) -> Any:
    answer = Response(
        status=200,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": COGNITO_ALLOWED_HEADERS,
        },
    )
    return answer(environ, start_response)


def _is_public_cognito_call(environ: dict[str, Any]) -> bool:
    service, _, operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")
    return service == COGNITO_TARGET_SERVICE and operation in COGNITO_PUBLIC_OPERATIONS


class _AnyOrigin:
    """A service's app whose answers to public operations allow any origin, as Cognito IdP's
    public endpoint's do."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.service = app.service  # the service that answers: the throttling hook reads it

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_ORIGIN" not in environ or not _is_public_cognito_call(environ):
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(
                status, [*headers, ("Access-Control-Allow-Origin", "*")], exc_info
            )

        return self.app(environ, start)


_original_get_application = DomainDispatcherApplication.get_application


def _get_application(self: DomainDispatcherApplication, environ: dict[str, Any]) -> Any:
    """moto's choice of the app that answers a request, Cognito IdP's with CORS."""
    if _is_cognito_preflight(environ):
        return _cognito_preflight
    app = _original_get_application(self, environ)
    return _AnyOrigin(app) if getattr(app, "service", None) == COGNITO_IDP else app


API_EXTENSIONS: dict[tuple[type[Any], str], Any] = {
    (S3Response, "bucket_response"): _answering_cors(S3Response.bucket_response),
    (S3Response, "key_response"): _answering_cors(S3Response.key_response),
    (S3Response, "_get_cors_headers_other"): _no_cors_headers,
    (DomainDispatcherApplication, "get_application"): _get_application,
}


def install() -> None:
    """Turn moto's CORS for every service off (idempotent); servers started from now on
    answer only the CORS above. moto reads the flag as a server builds each service's app."""
    # The module's own copy of moto.settings.DISABLE_GLOBAL_CORS, taken at its import.
    moto.moto_server.werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
