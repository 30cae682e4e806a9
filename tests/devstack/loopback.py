"""Requests addressed to this machine only: the local stack's defence against DNS rebinding.

The local stack's listeners (the emulator, the upload API, the web app's server) are on
loopback, and the emulator checks no credentials: it serves every user's files, the user
pool and the tables to whoever reaches it. A web page the developer visits can reach it:
its own host name re-resolves to 127.0.0.1 (DNS rebinding), and its requests are then
same-origin to it, their answers readable. They still name that host in Host, so every
listener answers only a Host naming loopback as the stack's clients address it, and
refuses any other 403 with a JSON body saying why, as dev servers do (webpack, Vite).

The host check cannot stop a page of another site from sending a request blind, with no
answer to read: a POST to the emulator's /moto-api/reset wipes the stack, an unsigned form
POST runs an IAM, SQS or SNS call. Browsers name where a request comes from in
Sec-Fetch-Site, so the emulator and the API also refuse a request marked `cross-site`. The
web app on 127.0.0.1 is same-site to both (a site is the host, whatever the port), and the
stack's other clients (boto3, Terraform, the tests) send no such header. The web app's own
server keeps answering: a link from another site to the app is a cross-site navigation.

The names in use: 127.0.0.1 (tests.devstack.ports.HOST) in every URL the stack hands out,
the S3 presigned URLs included (path-style on the emulator's endpoint), and localhost,
which moto's Step Functions engine calls the emulator by; each with or without a port.
Not [::1]: nothing listens on it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TypeVar

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost)(?::[0-9]+)?", re.IGNORECASE)
REFUSED_STATUS = HTTPStatus.FORBIDDEN
REFUSAL = json.dumps(
    {
        "error": "forbidden host: the local stack answers only requests to 127.0.0.1 or "
        "localhost, so that no web page can reach it by DNS rebinding"
    }
).encode()
CROSS_SITE_REFUSAL = json.dumps(
    {
        "error": "forbidden: the local stack answers no request a page of another site "
        "sends (Sec-Fetch-Site: cross-site)"
    }
).encode()

log = logging.getLogger("devstack.loopback")
App = TypeVar("App")
WsgiCall = Callable[[App, dict[str, Any], Any], Iterable[bytes]]


def is_loopback_host(host: str | None) -> bool:
    """Whether a Host header names this machine as the local stack's clients do; logs a refusal."""
    if host is not None and LOOPBACK_HOST.fullmatch(host):
        return True
    log.warning("refused a request for host %r: only 127.0.0.1 and localhost are answered", host)
    return False


def refusal(host: str | None, fetch_site: str | None) -> bytes | None:
    """Why the emulator and the API refuse a request (a JSON body), or None to answer it."""
    if not is_loopback_host(host):
        return REFUSAL
    if fetch_site == "cross-site":
        log.warning("refused a request a page of another site sent (Sec-Fetch-Site)")
        return CROSS_SITE_REFUSAL
    return None


def _headers_of(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]


def wsgi_loopback_only(call: WsgiCall[App]) -> WsgiCall[App]:
    """A WSGI application's __call__ that refuses other hosts and other sites' pages before
    `call` sees them."""

    def loopback_only(self: App, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = refusal(environ.get("HTTP_HOST"), environ.get("HTTP_SEC_FETCH_SITE"))
        if body is None:
            return call(self, environ, start_response)
        start_response(f"{REFUSED_STATUS.value} {REFUSED_STATUS.phrase}", _headers_of(body))
        return [body]

    return loopback_only


class AsgiLoopbackOnly:
    """An ASGI app that refuses other hosts and other sites' pages before `app` sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = refusal(headers.get("host"), headers.get("sec-fetch-site"))
        if body is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # policy violation
        else:
            raw = [(name.lower().encode(), value.encode()) for name, value in _headers_of(body)]
            await send(
                {"type": "http.response.start", "status": REFUSED_STATUS.value, "headers": raw}
            )
            await send({"type": "http.response.body", "body": body})
