"""The local stack's command-line helpers: the printed curl example and `make token` errors."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.devstack import token
from tests.devstack.__main__ import curl_command, parse_args
from tests.devstack.ports import free_port
from tests.support.stack_state import stack_state

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_printed_curl_is_the_readme_command() -> None:
    printed = curl_command("http://127.0.0.1:8000")
    readme_lines = README.read_text(encoding="utf-8").splitlines()

    assert printed in readme_lines, "README.md's quickstart curl differs from what make dev prints"


def test_token_without_a_stack_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEVSTACK_STATE_DIR", str(tmp_path))

    assert token.main([]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "make dev" in captured.err


def test_token_with_a_stopped_stack_says_it_is_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = stack_state(
        moto_endpoint=f"http://127.0.0.1:{free_port()}", api_url="http://127.0.0.1:1"
    )
    (tmp_path / "state.json").write_text(json.dumps(asdict(stale)))
    monkeypatch.setenv("DEVSTACK_STATE_DIR", str(tmp_path))

    assert token.main([]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not running" in captured.err


def test_every_option_of_make_dev_has_a_help_text_and_its_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no variable name cut by a line break
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--help"])

    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    # Each option's entry: its name, then its help on the same line or the next.
    options = re.split(r"\n  (?=--)", help_text.split("options:")[1])[1:]
    assert [option.split()[0].rstrip(",") for option in options] == [
        "--moto-port",
        "--api-port",
        "--web-port",
        "--state-dir",
        "--api-log-level",
        "--fault-prefix",
        "--reload",
        "--fresh",
        "--keep-data",
    ]
    for option in options:
        assert re.search(r"\S+ \S+\s+\S.*\(default: ", option, re.DOTALL), option
    for variable in (
        "DEVSTACK_STATE_DIR",
        "DEVSTACK_MOTO_PORT",
        "DEVSTACK_API_PORT",
        "DEVSTACK_WEB_PORT",
    ):
        assert variable in help_text
