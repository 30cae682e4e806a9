"""API Gateway's CORS in front of the upload API, for the local stack.

On AWS the HttpApi's CorsConfiguration (services/template.yaml) answers CORS
before the app sees a request, and the app answers none itself. Locally the
app runs under uvicorn with nothing in front, so this ASGI layer does what an
HTTP API does with that configuration:

- A preflight (OPTIONS with Origin and Access-Control-Request-Method), on any
  path, never reaches the app: no route and no authorizer runs on it, so it
  needs no Authorization header. It is answered 204, with the configured
  methods, headers and max age for an allowed origin, and without CORS headers
  for any other.
- Every other request reaches the app. The answer loses any CORS header the app
  set (API Gateway ignores them) and gets Access-Control-Allow-Origin when the
  request's Origin is allowed.

The methods, headers, max age and credentials flag are read from the template,
their one source. The allowed origins are given: on AWS the template's
AllowedOrigins parameter holds the web app's CloudFront origin, locally it is
the local web app's own origin. Exact origins only, as the web origin is one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.devstack.api_process import ALLOWED_ORIGINS_ENV
from tests.devstack.cloudformation import load_template
from tests.devstack.definitions import REPO_ROOT
from tests.devstack.loopback import AsgiLoopbackOnly
from upload_api import main

TEMPLATE = REPO_ROOT / "services" / "template.yaml"
# The CorsConfiguration properties this layer implements: another one must be added here first.
_IMPLEMENTED = {"AllowOrigins", "AllowMethods", "AllowHeaders", "MaxAge", "AllowCredentials"}


@dataclass(frozen=True)
class CorsConfiguration:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool

    @classmethod
    def from_template(
        cls, allow_origins: tuple[str, ...], template: Path = TEMPLATE
    ) -> CorsConfiguration:
        """The HttpApi's CorsConfiguration in the SAM template, with these origins."""
        loaded = load_template(template.read_text(encoding="utf-8"))
        http_api = loaded["Resources"]["HttpApi"]["Properties"]
        # !If [HasAllowedOrigins, <the configuration>, !Ref AWS::NoValue]
        _, configuration, _ = http_api["CorsConfiguration"]["Fn::If"]
        unknown = set(configuration) - _IMPLEMENTED
        if unknown:
            raise ValueError(f"CorsConfiguration properties not implemented here: {unknown}")
        return cls(
            allow_origins=allow_origins,
            allow_methods=tuple(configuration["AllowMethods"]),
            allow_headers=tuple(configuration["AllowHeaders"]),
            max_age=configuration.get("MaxAge"),
            allow_credentials=bool(configuration.get("AllowCredentials", False)),
        )


class ApiGatewayCors:
    """An ASGI app behind API Gateway HTTP API's CORS (see the module's docstring)."""

    def __init__(self, app: ASGIApp, cors: CorsConfiguration) -> None:
        self.app = app
        self.cors = cors

    def _allow_origin(self, origin: str) -> list[tuple[bytes, bytes]]:
        allowed = [(b"access-control-allow-origin", origin.encode())]
        if self.cors.allow_credentials:
            allowed.append((b"access-control-allow-credentials", b"true"))
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin if origin in self.cors.allow_origins else None
        if (
            scope["method"] == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in headers
        ):
            await self._preflight(send, allowed)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message["headers"]
                    if not name.lower().startswith(b"access-control-")
                ]
                added = self._allow_origin(allowed) if allowed else []
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send, allowed: str | None) -> None:
        headers = []
        if allowed:
            headers = [
                *self._allow_origin(allowed),
                (b"access-control-allow-methods", ",".join(self.cors.allow_methods).encode()),
                (b"access-control-allow-headers", ",".join(self.cors.allow_headers).encode()),
            ]
            if self.cors.max_age is not None:
                headers.append((b"access-control-max-age", str(self.cors.max_age).encode()))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def create_app() -> ASGIApp:
    """The upload API, behind API Gateway's CORS for the origins in
    DEVSTACK_API_ALLOWED_ORIGINS, or bare without any (no CorsConfiguration, as the
    template has none without AllowedOrigins)."""
    app = main.create_app()
    origins = tuple(o for o in os.environ.get(ALLOWED_ORIGINS_ENV, "").split(",") if o)
    if not origins:
        return app
    return ApiGatewayCors(app, CorsConfiguration.from_template(origins))


def create_local_app() -> ASGIApp:
    """uvicorn's factory for the local stack's API: create_app's, answering only requests
    for a loopback host (tests.devstack.loopback: no DNS rebinding)."""
    return AsgiLoopbackOnly(create_app())
