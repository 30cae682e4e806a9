"""Every listener of the local stack answers only a Host naming loopback
(tests.devstack.loopback): a page whose own host name re-resolves to 127.0.0.1 (DNS
rebinding) gets 403 from the emulator, the upload API and the web app's server, each as
the local stack runs it."""

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
from tests.devstack.loopback import REFUSAL, AsgiLoopbackOnly, is_loopback_host
from tests.devstack.ports import HOST, free_port
from tests.devstack.web_server import CONFIG_PATH, WebServer
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


def get(
    url: str, path: str, host: str, headers: dict[str, str] | None = None
) -> tuple[int, str | None, bytes]:
    """GET `path` from the listener at `url` with this Host header, as sent."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host.format(port=address.port))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def assert_refused(answer: tuple[int, str | None, bytes]) -> None:
    status, content_type, body = answer
    assert status == 403
    assert content_type == "application/json"
    assert "DNS rebinding" in json.loads(body)["error"]


# ------------------------------------------------------------------ the emulator


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
            endpoint, throttling.CONTROL_PATH, "127.0.0.1:{port}", {"Sec-Fetch-Site": site}
        )
        assert status == 200, site


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
