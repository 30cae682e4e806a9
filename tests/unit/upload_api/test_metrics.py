"""The API's metrics: files and bytes stored, and refusals by error code (EMF lines)."""

import base64
import json
from typing import Any

import pytest

from tests.support.api import Api


def emitted(output: str) -> list[dict[str, Any]]:
    """The embedded-metric-format lines among the logs."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def names(metric: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in metric["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def test_a_stored_file_counts_once_with_its_bytes(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"hello metrics"
    capsys.readouterr()
    response = api.client.post(
        "/upload",
        json={"file_name": "m.txt", "file_data": base64.b64encode(data).decode()},
        headers=api.auth(),
    )
    assert response.status_code == 201

    metrics = emitted(capsys.readouterr().out)

    stored = [m for m in metrics if "FilesStored" in names(m)]
    size = [m for m in metrics if "BytesStored" in names(m)]
    assert [(m["FilesStored"], m["path"], m["service"]) for m in stored] == [
        ([1.0], "json", "upload-api")
    ]
    assert [m["BytesStored"] for m in size] == [[float(len(data))]]


def test_a_refusal_counts_under_its_error_code(
    api_small_limit: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = api_small_limit.client.post(
        "/upload",
        json={"file_name": "big.bin", "file_data": base64.b64encode(b"x" * 2048).decode()},
        headers=api_small_limit.auth(),
    )
    assert response.status_code == 413

    refusals = [m for m in emitted(capsys.readouterr().out) if "Rejections" in names(m)]

    assert [m["reason"] for m in refusals] == [response.json()["error"]]


def test_metrics_can_be_switched_off(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    api.client.post("/upload", json={}, headers=api.auth())

    assert emitted(capsys.readouterr().out) == []
