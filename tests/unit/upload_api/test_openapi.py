"""The OpenAPI document says how to authenticate, and /docs works without the internet."""

from __future__ import annotations

import re

import pytest

from tests.support.api import Api

BEARER_JWT = {
    "CognitoToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID or access token of the environment's user pool.",
    }
}


def test_every_route_but_health_declares_the_bearer_token(api: Api) -> None:
    document = api.client.get("/openapi.json").json()  # what /docs reads
    assert document["components"]["securitySchemes"] == BEARER_JWT
    operations = {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert operations.pop(("GET", "/health")).get("security") is None
    assert len(operations) == 7
    for operation in operations.values():
        assert operation["security"] == [{"CognitoToken": []}]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_everything_from_the_app_itself(api: Api, page: str) -> None:
    response = api.client.get(page)
    assert response.status_code == 200
    assert "://" not in response.text  # no CDN: nothing outside the app is loaded
    assets = re.findall(r"""(?:src|href)=["']([^"']+)""", response.text)
    assert len(assets) >= 2  # the script and the favicon at least
    for asset in assets:
        assert asset.startswith("/")
        assert api.client.get(asset).status_code == 200, asset
    assert "/openapi.json" in response.text


def test_the_swagger_ui_script_is_served(api: Api) -> None:
    page = api.client.get("/docs").text
    (script,) = re.findall(r"""<script src=["']([^"']+\.js)""", page)
    served = api.client.get(script)
    assert served.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in served.content
