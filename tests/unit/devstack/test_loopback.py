"""Every listener of the local stack answers only a Host naming loopback
(tests.devstack.loopback): a page whose own host name re-resolves to 127.0.0.1 (DNS
rebinding) gets 403 from the emulator, the upload API and the web app's server, each as
the local stack runs it. The emulator also answers a browser only for the local web app's
own requests and navigation GETs: another page on 127.0.0.1 gets 403."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.devstack import throttling
from tests.devstack.api_process import launch_api, stop_api, wait_until_healthy
from tests.devstack.emulator import start_moto
from tests.devstack.loopback import REFUSAL, AsgiLoopbackOnly, is_loopback_host, page_refusal
from tests.devstack.ports import HOST, free_port
from tests.devstack.web_server import CONFIG_PATH, WebServer
from tests.support.aws import server_client
from tests.support.stack_state import stack_state

# {port} is the listener's own.
OTHER_HOSTS = ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", ""]
LOOPBACK_HOSTS = ["127.0.0.1:{port}", "localhost:{port}", "127.0.0.1", "localhost"]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:5000", "localhost", "localhost:8080", "LocalHost:8080"],
)
def test_the_names_the_local_stack_uses_are_loopback(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "evil.example",
        "evil.example:5000",
        "127.0.0.1.evil.example",
        "localhost.evil.example:5000",
        "evil.localhost:5000",
        "127.0.0.1:5000.evil.example",
        "127.0.0.1:5000,evil.example",
        "127.0.0.1:",
        "127.0.0.2:5000",
        "[::1]:5000",  # nothing listens there
    ],
)
def test_any_other_host_is_not(host: str | None) -> None:
    assert not is_loopback_host(host)


def request(
    method: str,
    url: str,
    path: str,
    host: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, str | None, bytes]:
    """Send `method` `path` to the listener at `url` with this Host header, as sent."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host.format(port=address.port))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def get(
    url: str, path: str, host: str, headers: dict[str, str] | None = None
) -> tuple[int, str | None, bytes]:
    """GET `path` from the listener at `url` with this Host header, as sent."""
    return request("GET", url, path, host, headers=headers)


def assert_refused(answer: tuple[int, str | None, bytes]) -> None:
    status, content_type, body = answer
    assert status == 403
    assert content_type == "application/json"
    assert "DNS rebinding" in json.loads(body)["error"]


# ------------------------------------------------------------------ the emulator

# The local web app's origin, and another page on 127.0.0.1: both same-site to the emulator.
WEB_ORIGIN = f"http://{HOST}:5173"
OTHER_PAGE = f"http://{HOST}:9999"
LOOPBACK = "127.0.0.1:{port}"  # the Host the stack's clients send


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The emulator as the local stack starts it, with its web app's origin."""
    server = start_moto(free_port(), web_origin=WEB_ORIGIN)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.parametrize("host", OTHER_HOSTS)
def test_the_emulator_refuses_another_host(endpoint: str, host: str) -> None:
    assert_refused(get(endpoint, "/", host))
    assert_refused(get(endpoint, throttling.CONTROL_PATH, host))


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_the_emulator_answers_a_loopback_host(endpoint: str, host: str) -> None:
    status, _, body = get(endpoint, throttling.CONTROL_PATH, host)

    assert status == 200
    assert "rates" in json.loads(body)


# A page of another site, as browsers mark its requests; and the marks the stack's own
# web app (on 127.0.0.1, same-site whatever the port) and a typed URL carry.
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
ANSWERED_SITES = ("same-site", "same-origin", "none")


def assert_refused_cross_site(answer: tuple[int, str | None, bytes]) -> None:
    status, content_type, body = answer
    assert status == 403
    assert content_type == "application/json"
    assert "Sec-Fetch-Site" in json.loads(body)["error"]


def test_the_emulator_refuses_what_a_page_of_another_site_sends(endpoint: str) -> None:
    # The blind POST /moto-api/reset a page could send is refused before moto sees it.
    assert_refused_cross_site(
        get(endpoint, throttling.CONTROL_PATH, "127.0.0.1:{port}", CROSS_SITE)
    )
    for site in ANSWERED_SITES:
        status, _, _ = get(
            endpoint,
            throttling.CONTROL_PATH,
            "127.0.0.1:{port}",
            {"Sec-Fetch-Site": site, "Origin": WEB_ORIGIN},
        )
        assert status == 200, site


def assert_refused_page(answer: tuple[int, str | None, bytes]) -> None:
    status, content_type, body = answer
    assert status == 403
    assert content_type == "application/json"
    assert "a page that is not the local web app" in json.loads(body)["error"]


def page(origin: str, mode: str = "cors") -> dict[str, str]:
    """The marks a browser puts on a request a page at `origin` sends to the emulator."""
    return {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": mode, "Origin": origin}


# The control path's POST body that leaves throttling off.
RATES = json.dumps({"rates": {}}).encode()


def test_the_emulator_answers_the_web_app_s_own_requests(endpoint: str) -> None:
    status, _, body = request(
        "POST", endpoint, throttling.CONTROL_PATH, LOOPBACK, headers=page(WEB_ORIGIN), body=RATES
    )
    assert status == 200
    assert "rates" in json.loads(body)

    # Not moto's own API, though: the web app never calls it.
    assert_refused_page(
        request("POST", endpoint, "/moto-api/reset", LOOPBACK, headers=page(WEB_ORIGIN))
    )


def planted_form(key: str) -> tuple[dict[str, str], bytes]:
    """An S3 POST-object form, as a page's <form method=post enctype=multipart/form-data>."""
    boundary = "form-boundary"
    fields = {"key": key, "file": "planted by another page"}
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return headers, f"{body}--{boundary}--\r\n".encode()


def test_the_emulator_refuses_another_page_on_loopback(endpoint: str) -> None:
    s3 = server_client(endpoint, "s3")
    bucket = "loopback-uploads"
    s3.create_bucket(Bucket=bucket)
    form, body = planted_form("planted")

    # A page on another port of 127.0.0.1 is same-site: blind, as a no-cors fetch or a form.
    for mode in ("no-cors", "navigate"):
        marks = page(OTHER_PAGE, mode)
        assert_refused_page(
            request("POST", endpoint, f"/{bucket}", LOOPBACK, headers=marks | form, body=body)
        )
        assert_refused_page(request("POST", endpoint, "/moto-api/reset", LOOPBACK, headers=marks))

    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.head_bucket(Bucket=bucket)  # the stack was not reset
    # The same form from a client that is no browser is answered: what the check stopped.
    status, _, _ = request("POST", endpoint, f"/{bucket}", LOOPBACK, headers=form, body=body)
    assert status in (200, 204)
    assert s3.get_object(Bucket=bucket, Key="planted")["Body"].read() == b"planted by another page"


def test_the_emulator_answers_a_navigation_get(endpoint: str) -> None:
    # As the web app opens a download's presigned URL: a top-level GET, no Origin.
    navigation = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}
    status, _, body = get(endpoint, throttling.CONTROL_PATH, LOOPBACK, navigation)

    assert status == 200
    assert "rates" in json.loads(body)
    assert_refused_page(get(endpoint, "/moto-api/data.json", LOOPBACK, navigation))


def test_the_emulator_answers_what_no_browser_sends(endpoint: str) -> None:
    # boto3, Terraform and the tests send no Sec-Fetch headers; a typed URL says `none`.
    for marks in ({}, {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}):
        status, _, _ = request(
            "POST", endpoint, throttling.CONTROL_PATH, LOOPBACK, headers=marks, body=RATES
        )
        assert status == 200, marks


@pytest.mark.parametrize(
    ("method", "path", "marks", "web_origin", "answered"),
    [
        ("POST", "/bucket", page(WEB_ORIGIN), WEB_ORIGIN, True),
        ("OPTIONS", "/bucket/key", page(WEB_ORIGIN), WEB_ORIGIN, True),  # a CORS preflight
        ("POST", "/bucket", page(WEB_ORIGIN), None, False),  # a stack with no web app
        ("POST", "/bucket", page(OTHER_PAGE), WEB_ORIGIN, False),
        ("POST", "/bucket", page("null"), WEB_ORIGIN, False),  # a sandboxed or opaque page
        ("POST", "/bucket", {"Sec-Fetch-Site": "same-origin"}, WEB_ORIGIN, False),
        ("GET", "/bucket/key", page(OTHER_PAGE, "no-cors"), WEB_ORIGIN, False),
        (
            "GET",
            "/bucket/key",
            {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
            None,
            True,
        ),
        ("HEAD", "/bucket/key", page(OTHER_PAGE, "navigate"), WEB_ORIGIN, True),
        ("POST", "/bucket", page(OTHER_PAGE, "navigate"), WEB_ORIGIN, False),  # a form
        ("GET", "/moto-api/data.json", page(WEB_ORIGIN), WEB_ORIGIN, False),
        ("GET", "/moto-api/", page(OTHER_PAGE, "navigate"), WEB_ORIGIN, False),
        ("POST", "/moto-api/reset", {"Sec-Fetch-Site": "none"}, None, True),  # a typed URL
        ("POST", "/moto-api/reset", {}, None, True),  # no browser
    ],
)
def test_which_browser_requests_the_emulator_answers(
    method: str, path: str, marks: dict[str, str], web_origin: str | None, answered: bool
) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path} | {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in marks.items()
    }

    assert (page_refusal(environ, web_origin) is None) == answered


# ------------------------------------------------------------------ the upload API


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The upload API as the local stack launches it; /health touches no AWS."""
    state = stack_state(
        bucket="uploads", table="files", pending_table="pending", usage_table="usage"
    )
    port = free_port()
    process = launch_api(state, port, log_level="warning", reload=False)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_healthy(f"{url}/health", process, timeout=60)
        yield url
    finally:
        stop_api(process)


@pytest.mark.parametrize("host", OTHER_HOSTS)
def test_the_api_refuses_another_host(api_url: str, host: str) -> None:
    assert_refused(get(api_url, "/health", host))


def test_the_api_refuses_what_a_page_of_another_site_sends(api_url: str) -> None:
    assert_refused_cross_site(get(api_url, "/health", "127.0.0.1:{port}", CROSS_SITE))
    for site in ANSWERED_SITES:
        status, _, _ = get(api_url, "/health", "127.0.0.1:{port}", {"Sec-Fetch-Site": site})
        assert status == 200, site


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_the_api_answers_a_loopback_host(api_url: str, host: str) -> None:
    status, _, _ = get(api_url, "/health", host)

    assert status == 200


def test_the_asgi_check_passes_the_lifespan_and_closes_another_host_s_websocket() -> None:
    started = []

    async def websocket(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("reached")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append(True)
        yield

    app = Starlette(
        routes=[
            Route("/", lambda request: PlainTextResponse("reached")),
            WebSocketRoute("/ws", websocket),
        ],
        lifespan=lifespan,
    )
    with TestClient(AsgiLoopbackOnly(app), base_url="http://127.0.0.1:8000") as client:
        with client.websocket_connect("/ws", headers={"Host": "127.0.0.1:8000"}) as socket:
            assert socket.receive_text() == "reached"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws", headers={"Host": "evil.example"}),
        ):
            pass
        assert client.get("/", headers={"Host": "evil.example"}).content == REFUSAL

    assert started == [True]
    assert refused.value.code == 1008


# ------------------------------------------------------------------ the web app's server


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("web")
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    server = WebServer(root, {"apiUrl": "http://127.0.0.1:8000"}, {"X-Frame-Options": "DENY"})
    server.start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("host", OTHER_HOSTS)
@pytest.mark.parametrize("path", ["/", CONFIG_PATH, "/missing.js"])
def test_the_web_server_refuses_another_host(web_url: str, host: str, path: str) -> None:
    assert_refused(get(web_url, path, host))


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_the_web_server_answers_a_loopback_host(web_url: str, host: str) -> None:
    status, _, body = get(web_url, CONFIG_PATH, host)

    assert status == 200
    assert json.loads(body) == {"apiUrl": "http://127.0.0.1:8000"}
