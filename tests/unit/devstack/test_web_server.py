"""The local stack's web server: the built app and config.json, the security headers on
every answer, the right content types, and nothing outside its root."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devstack.web_server import WebServer, app_config
from tests.support.stack_state import stack_state

CONFIG = {
    "apiUrl": "http://127.0.0.1:8000",
    "region": "us-east-1",
    "cognitoEndpoint": "http://127.0.0.1:5000",
    "userPoolClientId": "client",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built app, a sub-folder, and a secret beside the root that must stay unreachable."""
    tmp_path = tmp_path_factory.mktemp("web")
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    (root / "app.js").write_text("export {};")
    (root / "app.css").write_text("body {}")
    (root / "assets" / "logo.svg").write_text("<svg/>")
    (root / "notes.unknown").write_text("bytes")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture(scope="module")
def url(root: Path) -> Iterator[str]:
    server = WebServer(root, CONFIG, HEADERS)
    server.start()
    yield server.url
    server.stop()


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<!doctype html><title>app</title>"),
        ("/index.html", "text/html; charset=utf-8", b"<!doctype html><title>app</title>"),
        ("/app.js", "text/javascript; charset=utf-8", b"export {};"),
        ("/app.css", "text/css; charset=utf-8", b"body {}"),
        ("/assets/logo.svg", "image/svg+xml", b"<svg/>"),
        ("/app.js?v=1", "text/javascript; charset=utf-8", b"export {};"),
        # Never guessed from the bytes: what the server does not know is only bytes.
        ("/notes.unknown", "application/octet-stream", b"bytes"),
    ],
)
def test_files_are_served_with_their_content_type(
    url: str, path: str, content_type: str, body: bytes
) -> None:
    response = httpx.get(f"{url}{path}")

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == body


def test_config_json_is_the_settings_given(url: str) -> None:
    response = httpx.get(f"{url}/config.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == CONFIG


@pytest.mark.parametrize("path", ["/", "/app.js", "/config.json", "/missing.js", "/../x"])
def test_every_answer_has_the_security_headers(url: str, path: str) -> None:
    response = httpx.get(f"{url}{path}")

    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_head_answers_the_headers_without_the_body(url: str) -> None:
    response = httpx.head(f"{url}/app.js")

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(b"export {};"))
    assert response.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/assets",
        "/assets/",
        "/missing.js",
        "/index.html/",
        "/./index.html",
        "/assets//logo.svg",
    ],
)
def test_no_directory_listing_and_no_other_spelling(url: str, path: str) -> None:
    assert _raw_get(url, path).startswith(b"HTTP/1.0 404")


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets%2f..%2f..%2fsecret.txt",
        "/..\\secret.txt",
        "/%00/../secret.txt",
        "/link.txt",  # a symlink out of the root
    ],
)
def test_no_path_leaves_the_root(url: str, path: str) -> None:
    answer = _raw_get(url, path)

    assert answer.startswith(b"HTTP/1.0 404")
    assert b"secret" not in answer


def test_config_of_a_stack_points_at_its_api_and_emulator() -> None:
    state = stack_state(
        api_url="http://127.0.0.1:8001", moto_endpoint="http://127.0.0.1:5001", client_id="app"
    )

    assert app_config(state) == {
        "apiUrl": "http://127.0.0.1:8001",
        "region": "us-east-1",
        "cognitoEndpoint": "http://127.0.0.1:5001",
        "userPoolClientId": "app",
    }


def test_stop_frees_the_port(root: Path) -> None:
    server = WebServer(root, CONFIG, HEADERS)
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    server.stop()

    again = WebServer(root, CONFIG, HEADERS, port=port)
    again.start()
    assert httpx.get(f"{again.url}/config.json").json() == CONFIG
    again.stop()


def test_config_json_is_served_before_the_app_is_built(tmp_path: Path) -> None:
    server = WebServer(tmp_path / "not-built", CONFIG, HEADERS)
    server.start()
    try:
        assert httpx.get(f"{server.url}/config.json").json() == CONFIG
        assert httpx.get(f"{server.url}/").status_code == 404
    finally:
        server.stop()


def _raw_get(url: str, path: str) -> bytes:
    """The whole answer to a GET of `path` sent as written: httpx would normalise it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer
