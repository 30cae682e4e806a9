"""The roots' committed provider locks: the gate refuses a provider build they do not list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.devstack import terraform
from tests.devstack.definitions import REPO_ROOT

ROOT_LOCKS = [REPO_ROOT / "environments" / name / terraform.LOCK_FILE for name in terraform.ROOTS]


def _root(tmp_path: Path, lock: str | None) -> Path:
    """A root with the environments' provider requirement and the given lock."""
    (tmp_path / "versions.tf").write_text(
        (REPO_ROOT / "environments" / "dev" / "versions.tf").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    if lock is not None:
        (tmp_path / terraform.LOCK_FILE).write_text(lock, encoding="utf-8")
    return tmp_path


def _committed_lock() -> str:
    return ROOT_LOCKS[1].read_text(encoding="utf-8")


@pytest.mark.parametrize("lock", ROOT_LOCKS, ids=lambda p: p.parent.name)
def test_every_root_commits_a_lock_that_pins_one_provider_build(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    assert re.search(r'version\s+=\s+"5\.100\.0"', text)
    assert re.search(r'"h1:[A-Za-z0-9+/=]+"', text), "no checksum of an unpacked build"
    assert re.search(r'"zh:[0-9a-f]{64}"', text), "no checksum of the registry's packages"


def test_the_gate_admits_the_mirror_build_the_lock_lists(tmp_path: Path) -> None:
    results = terraform._check_one(
        _root(tmp_path, _committed_lock()), terraform.environment(), locked=True
    )
    assert [r.returncode for r in results] == [0, 0], results[-1].output


def test_the_gate_refuses_a_build_the_lock_does_not_list(tmp_path: Path) -> None:
    tampered = re.sub(r'"(h1|zh):[^"]+",\n', "", _committed_lock())
    tampered = tampered.replace(
        "hashes = [", 'hashes = [\n    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",'
    )
    results = terraform._check_one(_root(tmp_path, tampered), terraform.environment(), locked=True)
    assert results[0].returncode != 0
    assert "checksum" in results[0].output


def test_the_gate_refuses_a_root_without_a_lock(tmp_path: Path) -> None:
    results = terraform._check_one(_root(tmp_path, None), terraform.environment(), locked=True)
    assert [(r.step, r.returncode) for r in results] == [("lock", 1)]
    assert "make providers-lock" in results[0].output


def test_a_configuration_with_tests_is_still_validated(tmp_path: Path) -> None:
    """The gate runs terraform test instead of validate there: an invalid block elsewhere in
    the configuration must still fail it."""
    root = _root(tmp_path, _committed_lock())
    (root / "main.tf").write_text(
        'output "ok" {\n  value = "ok"\n}\n\n'
        'resource "aws_s3_bucket" "b" {\n  no_such_argument = 1\n}\n',
        encoding="utf-8",
    )
    (root / "tests").mkdir()
    (root / "tests" / "ok.tftest.hcl").write_text(
        'run "ok" {\n  command = plan\n  assert {\n    condition     = output.ok == "ok"\n'
        '    error_message = "ok"\n  }\n}\n',
        encoding="utf-8",
    )
    results = terraform._check_one(root, terraform.environment(), locked=True)
    assert [(r.step, r.returncode != 0) for r in results][-1] == ("test", True)
    assert "no_such_argument" in results[-1].output
