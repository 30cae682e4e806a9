"""The emulator's /_devstack/pipeline path: the Pipe runner's lag, for tools and people."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.devstack import pipeline_status


@pytest.fixture
def no_runner() -> Iterator[None]:
    pipeline_status.report(None)
    yield
    pipeline_status.report(None)


def test_the_path_answers_the_running_runner_s_status(endpoint: str, no_runner: None) -> None:
    pipeline_status.report(lambda: {"undelivered_records": 3})

    answer = httpx.get(f"{endpoint}{pipeline_status.PATH}")

    assert answer.status_code == 200
    assert answer.json() == {"undelivered_records": 3}


def test_without_a_runner_the_path_is_503(endpoint: str, no_runner: None) -> None:
    answer = httpx.get(f"{endpoint}{pipeline_status.PATH}")

    assert answer.status_code == 503
    assert "no Pipe runner" in answer.json()["error"]


def test_the_path_only_reads(endpoint: str, no_runner: None) -> None:
    pipeline_status.report(lambda: {"undelivered_records": 0})

    answer = httpx.post(f"{endpoint}{pipeline_status.PATH}", json={})

    assert answer.status_code == 405
