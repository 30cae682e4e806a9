"""make dev's reload: the processor re-imported when its code changes, the API under
uvicorn's reloader; the e2e tests' and the bench's stacks without either."""

from __future__ import annotations

import logging
import os
import subprocess  # nosec B404  # only replaced here, never run
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import upload_api
import upload_contract
from tests.devstack import child
from tests.devstack.__main__ import parse_args
from tests.devstack.api_process import API_SOURCE_DIRS, api_command
from tests.devstack.application import ReloadingHandler

RELOADED = "code changed: reloaded"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway package: `handler` answers the VALUE of its `values` module."""
    name = f"reload_demo_{uuid.uuid4().hex}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "values.py").write_text("VALUE = 1\n")
    (tmp_path / name / "handler.py").write_text(
        f"from {name}.values import VALUE\n\n\ndef handler(event, context):\n    return VALUE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def edit(path: Path, text: str) -> None:
    """Write `text` with a later modification time, as a save a while after the last one."""
    before = path.stat().st_mtime
    path.write_text(text)
    # Later by whole seconds: the import system checks cached bytecode by the second.
    os.utime(path, (before + 10, before + 10))


def reloading(package: str) -> ReloadingHandler:
    return ReloadingHandler(f"{package}.handler", [package])


def package_dir(package: str) -> Path:
    return Path(sys.modules[package].__path__[0])


def test_unchanged_code_is_not_reloaded(package: str, caplog: pytest.LogCaptureFixture) -> None:
    handler = reloading(package)
    caplog.set_level(logging.INFO, logger="devstack")

    assert handler({}, None) == 1
    assert handler({}, None) == 1

    assert RELOADED not in caplog.text


def test_a_changed_dependency_reaches_the_handler_once_per_change(
    package: str, caplog: pytest.LogCaptureFixture
) -> None:
    handler = reloading(package)
    caplog.set_level(logging.INFO, logger="devstack")

    edit(package_dir(package) / "values.py", "VALUE = 2\n")

    assert handler({}, None) == 2
    assert handler({}, None) == 2
    assert caplog.messages.count(f"{package} {RELOADED}") == 1


def test_code_that_does_not_import_keeps_the_old_code_until_fixed(
    package: str, caplog: pytest.LogCaptureFixture
) -> None:
    handler = reloading(package)
    caplog.set_level(logging.INFO, logger="devstack")
    values = package_dir(package) / "values.py"

    edit(values, "VALUE = = 3\n")

    assert handler({}, None) == 1
    assert "does not import" in caplog.text
    assert "SyntaxError" in caplog.text
    assert RELOADED not in caplog.text
    assert handler({}, None) == 1  # not retried until the next change

    edit(values, "VALUE = 3\n")

    assert handler({}, None) == 3
    assert f"{package} {RELOADED}" in caplog.messages


def test_a_handler_raising_is_the_invocation_error_not_a_reload_problem(package: str) -> None:
    handler = reloading(package)
    edit(package_dir(package) / "values.py", "VALUE = 1 // 0\n")

    # The import raises ZeroDivisionError: the old code stays.
    assert handler({}, None) == 1

    edit(package_dir(package) / "handler.py", "def handler(event, context):\n    raise KeyError\n")

    with pytest.raises(KeyError):
        handler({}, None)


def test_make_dev_reloads_unless_told_not_to() -> None:
    assert parse_args([]).reload is True
    assert parse_args(["--no-reload"]).reload is False


def test_the_api_reloads_on_its_code_and_the_contract_only_when_asked() -> None:
    plain = api_command(8000, log_level="info", reload=False)
    reloading_ = api_command(8000, log_level="info", reload=True)

    assert not any(argument.startswith("--reload") for argument in plain)
    assert reloading_[: len(plain)] == plain
    assert reloading_[len(plain) :] == [
        "--reload",
        "--reload-dir",
        str(API_SOURCE_DIRS[0]),
        "--reload-dir",
        str(API_SOURCE_DIRS[1]),
    ]
    assert [directory.resolve() for directory in API_SOURCE_DIRS] == [
        Path(upload_api.__path__[0]).resolve(),
        Path(upload_contract.__path__[0]).resolve(),
    ]


def test_the_e2e_and_bench_stacks_run_without_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []

    class ExitedAtOnce:
        returncode = 1

        def __init__(self, command: list[str], **_: Any) -> None:
            started.append(command)

        def poll(self) -> int:
            return self.returncode

    monkeypatch.setattr(subprocess, "Popen", ExitedAtOnce)

    with pytest.raises(RuntimeError, match="did not start"):
        child.ChildStack(tmp_path)

    [command] = started
    arguments = command[command.index("tests.devstack") + 1 :]
    assert parse_args(arguments).reload is False
