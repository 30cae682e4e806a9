"""The web app as the local stack serves it: the built files of services/web/dist and its
runtime settings, /config.json, on loopback, with the security headers that CloudFront's
response-headers policy adds on AWS.

Only regular files under the root are served, by exact path: no directory listing, and a
path that leaves the root (`..`, an encoded slash, a symlink out) is not found. Only requests
for a loopback host are answered (tests.devstack.loopback: no DNS rebinding).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.devstack.definitions import REPO_ROOT
from tests.devstack.loopback import REFUSAL, REFUSED_STATUS, is_loopback_host
from tests.devstack.ports import HOST
from tests.devstack.stack_state import StackState

WEB_DIST = REPO_ROOT / "services" / "web" / "dist"
CONFIG_PATH = "/config.json"
# The types the app is built from; anything else is served as bytes, never guessed.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
OTHER_TYPE = "application/octet-stream"

log = logging.getLogger("devstack.web")


def app_config(state: StackState) -> dict[str, str]:
    """config.json: where the app finds the API and Cognito (locally, the emulator)."""
    return {
        "apiUrl": state.api_url,
        "region": state.region,
        "cognitoEndpoint": state.moto_endpoint,
        "userPoolClientId": state.client_id,
    }


class WebServer:
    """Serves `root` and `config` on HOST:port (0: a free port) in threads, until stop()."""

    def __init__(
        self,
        root: Path,
        config: Mapping[str, str],
        headers: Mapping[str, str],
        port: int = 0,
    ) -> None:
        if not (root / "index.html").is_file():
            log.warning("%s has no index.html: build the web app with make web", root)
        handler = _handler(root.resolve(), json.dumps(config).encode(), dict(headers))
        self._server = ThreadingHTTPServer((HOST, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="web-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler(root: Path, config: bytes, headers: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            if not is_loopback_host(self.headers.get("Host")):
                self._send(REFUSED_STATUS, REFUSAL, CONTENT_TYPES[".json"], with_body=with_body)
                return
            path = unquote(urlsplit(self.path).path)
            if path == CONFIG_PATH:
                self._send(HTTPStatus.OK, config, CONTENT_TYPES[".json"], with_body=with_body)
                return
            file = _file_under(root, "/index.html" if path == "/" else path)
            if file is None:
                not_found = b"not found\n"
                self._send(
                    HTTPStatus.NOT_FOUND, not_found, CONTENT_TYPES[".txt"], with_body=with_body
                )
                return
            content_type = CONTENT_TYPES.get(file.suffix, OTHER_TYPE)
            self._send(HTTPStatus.OK, file.read_bytes(), content_type, with_body=with_body)

        def _send(
            self, status: HTTPStatus, body: bytes, content_type: str, *, with_body: bool
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler


def _file_under(root: Path, path: str) -> Path | None:
    """The regular file `path` names under `root`, or None."""
    parts = path.split("/")
    if parts[0] != "" or any(_unsafe(part) for part in parts[1:]):
        return None
    candidate = root.joinpath(*parts[1:]).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _unsafe(part: str) -> bool:
    """A path segment that could name something else than a file by that name in its folder."""
    return part in ("", ".", "..") or "\\" in part or "\x00" in part
