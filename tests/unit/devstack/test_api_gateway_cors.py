"""API Gateway's CORS in front of the local stack's upload API (tests.devstack.api_gateway_cors):
the preflight answered before the app and its authorizer, the allowed origin on the answers,
the app's own CORS headers dropped, and the configuration read from the SAM template."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.devstack import api_gateway_cors
from tests.devstack.api_gateway_cors import TEMPLATE, ApiGatewayCors, CorsConfiguration
from tests.devstack.api_process import (
    ALLOWED_ORIGINS_ENV,
    launch_api,
    stop_api,
    wait_until_healthy,
)
from tests.devstack.ports import HOST, free_port
from tests.support.api import app_settings
from tests.support.aws import UploadResources
from tests.support.stack_state import stack_state
from upload_api import main

WEB = "http://127.0.0.1:5173"
OTHER = "http://127.0.0.1:5174"
PREFLIGHT = {"Origin": WEB, "Access-Control-Request-Method": "POST"}


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.startswith("access-control-")}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The upload API; the requests below never reach AWS or the JWKS URL."""
    resources = UploadResources("uploads-bucket", "files", "pending", "usage", "arn:aws:kms:k")
    return main.create_app(app_settings(resources, "http://127.0.0.1:9/jwks.json"))


@pytest.fixture(scope="module")
def gateway(app: FastAPI) -> TestClient:
    return TestClient(ApiGatewayCors(app, CorsConfiguration.from_template((WEB,))))


def test_the_configuration_is_the_templates() -> None:
    # services/template.yaml's HttpApi CorsConfiguration, the origins aside.
    assert CorsConfiguration.from_template((WEB,)) == CorsConfiguration(
        allow_origins=(WEB,),
        allow_methods=("GET", "POST", "DELETE", "OPTIONS"),
        allow_headers=("authorization", "content-type"),
        max_age=600,
        allow_credentials=False,
    )


def test_a_property_the_layer_does_not_implement_fails_loudly(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        TEMPLATE.read_text().replace("MaxAge: 600", "MaxAge: 600\n          ExposeHeaders: [date]")
    )

    with pytest.raises(ValueError, match="ExposeHeaders"):
        CorsConfiguration.from_template((WEB,), template)


def test_a_preflight_needs_no_authorization_and_never_reaches_the_app(
    gateway: TestClient, app: FastAPI
) -> None:
    alone = TestClient(app).options("/uploads", headers=PREFLIGHT)
    answer = gateway.options("/uploads", headers=PREFLIGHT)

    assert cors_headers(dict(alone.headers)) == {}  # the app answers no CORS itself
    assert answer.status_code == 204
    assert answer.content == b""
    assert cors_headers(dict(answer.headers)) == {
        "access-control-allow-origin": WEB,
        "access-control-allow-methods": "GET,POST,DELETE,OPTIONS",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "600",
    }


def test_a_preflight_from_another_origin_gets_no_cors_headers(gateway: TestClient) -> None:
    answer = gateway.options("/uploads", headers={**PREFLIGHT, "Origin": OTHER})

    assert answer.status_code == 204
    assert cors_headers(dict(answer.headers)) == {}


def test_an_answer_allows_the_allowed_origin_only(gateway: TestClient) -> None:
    allowed = gateway.get("/health", headers={"Origin": WEB})
    other = gateway.get("/health", headers={"Origin": OTHER})
    unauthenticated = gateway.get("/uploads", headers={"Origin": WEB})

    assert allowed.status_code == 200
    assert cors_headers(dict(allowed.headers)) == {"access-control-allow-origin": WEB}
    assert other.status_code == 200
    assert cors_headers(dict(other.headers)) == {}
    assert unauthenticated.status_code == 401  # errors too: the page can read what went wrong
    assert unauthenticated.headers["access-control-allow-origin"] == WEB


def test_the_apps_own_cors_headers_are_ignored_and_an_options_request_reaches_it() -> None:
    def options(_: Request) -> PlainTextResponse:
        return PlainTextResponse(
            "the app", headers={"Access-Control-Allow-Origin": "*", "X-Kept": "yes"}
        )

    own = Starlette(routes=[Route("/", options, methods=["GET", "OPTIONS"])])
    client = TestClient(ApiGatewayCors(own, CorsConfiguration.from_template((WEB,))))

    other = client.get("/", headers={"Origin": OTHER})
    # No Access-Control-Request-Method: not a preflight.
    plain_options = client.options("/", headers={"Origin": WEB})

    assert cors_headers(dict(other.headers)) == {}
    assert other.headers["x-kept"] == "yes"
    assert plain_options.text == "the app"
    assert cors_headers(dict(plain_options.headers)) == {"access-control-allow-origin": WEB}


def test_the_factory_puts_the_layer_in_front_only_when_given_origins(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    monkeypatch.setattr(main, "create_app", lambda: app)

    monkeypatch.delenv(ALLOWED_ORIGINS_ENV, raising=False)
    assert api_gateway_cors.create_app() is app  # closed, as without AllowedOrigins

    monkeypatch.setenv(ALLOWED_ORIGINS_ENV, WEB)
    layered = api_gateway_cors.create_app()
    assert isinstance(layered, ApiGatewayCors)
    assert layered.app is app
    assert layered.cors.allow_origins == (WEB,)


def test_the_local_stacks_api_process_answers_cors_for_the_given_origin() -> None:
    state = stack_state(
        bucket="uploads", table="files", pending_table="pending", usage_table="usage"
    )
    port = free_port()
    process = launch_api(state, port, log_level="warning", reload=False, allowed_origins=(WEB,))
    try:
        wait_until_healthy(f"http://{HOST}:{port}/health", process, timeout=60)
        answer = httpx.options(f"http://{HOST}:{port}/uploads", headers=PREFLIGHT)
    finally:
        stop_api(process)

    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == WEB
