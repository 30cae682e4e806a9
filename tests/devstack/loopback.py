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

Same-site is not enough for the emulator: a page served from another port of 127.0.0.1
(any local dev server, notebook or HTML report) is same-site too, and its blind form POST
planted an object in the upload bucket. So the emulator answers what a browser sends for a
page (Sec-Fetch-Site other than `none`, which is a URL the user typed) only when it comes
from the local web app, whose origin the browser names in Origin (the Cognito sign-in
calls, the S3 part PUTs, their CORS preflights), or when it is a navigation GET, as a
download opens a presigned URL (no Origin). /moto-api/ (reset, data) answers no page at
all. The stack hands the web app's origin to the emulator as it starts it; an emulator
started without one, as with no web app, admits no page. The API needs no such check:
every route but /health needs a bearer token.

The names in use: 127.0.0.1 (tests.devstack.ports.HOST) in every URL the stack hands out,
the S3 presigned URLs included (path-style on the emulator's endpoint), and localhost,
which moto's Step Functions engine calls the emulator by; each with or without a port.
Not [::1]: nothing listens on it.
"""

from __future__ import annotations

import json
import logging
import re
import weakref
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

PAGE_REFUSAL = json.dumps(
    {
        "error": "forbidden: the emulator answers a browser only for the local web app's own "
        "requests (its Origin) and navigation GETs, never on /moto-api/; this request came "
        "from a page that is not the local web app"
    }
).encode()
# moto's own API (reset, the data of every service): moto routes every path with this prefix.
MOTO_API_PREFIX = "/moto-api"

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


# The local web app's origin, per emulator application, as the stack started it.
_web_origins: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def admit_web_origin(app: object, origin: str | None) -> None:
    """Let `app`, an emulator's WSGI application, answer a browser for the local web app at
    `origin` (http://127.0.0.1:<web port>); None admits no page."""
    if origin is None:
        _web_origins.pop(app, None)
    else:
        _web_origins[app] = origin


def page_refusal(environ: dict[str, Any], web_origin: str | None) -> bytes | None:
    """Why the emulator refuses what a browser sent for a page (a JSON body), or None to
    answer it: a request of the web app at `web_origin`, or a navigation GET."""
    if environ.get("HTTP_SEC_FETCH_SITE") in (None, "none"):
        return None  # no browser (boto3, Terraform, the tests), or a URL the user typed
    method, origin = environ.get("REQUEST_METHOD"), environ.get("HTTP_ORIGIN")
    from_web_app = web_origin is not None and origin == web_origin
    # How the web app opens a download's presigned URL: it sends no Origin.
    navigation = environ.get("HTTP_SEC_FETCH_MODE") == "navigate" and method in ("GET", "HEAD")
    moto_api = environ.get("PATH_INFO", "").startswith(MOTO_API_PREFIX)
    if (from_web_app or navigation) and not moto_api:
        return None
    log.warning(
        "refused a %s %s a page other than the local web app sent (Origin %r)",
        method,
        environ.get("PATH_INFO"),
        origin,
    )
    return PAGE_REFUSAL


def _headers_of(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]


def wsgi_loopback_only(call: WsgiCall[App]) -> WsgiCall[App]:
    """The emulator's WSGI __call__: refuses other hosts, other sites' pages and every page
    but the web app admit_web_origin gave it, before `call` sees them."""

    def loopback_only(self: App, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = refusal(environ.get("HTTP_HOST"), environ.get("HTTP_SEC_FETCH_SITE"))
        if body is None:
            body = page_refusal(environ, _web_origins.get(self))
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
