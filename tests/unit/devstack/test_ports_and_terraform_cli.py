"""Restarting the local stack at once, and the project's own Terraform CLI configuration."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.devstack import terraform
from tests.devstack.ports import HOST, ensure_port_free, free_port


def test_a_port_left_in_time_wait_by_a_stopped_stack_is_free_again() -> None:
    port = free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, port))
    server.listen()
    client = socket.create_connection((HOST, port))
    accepted, _ = server.accept()
    # The server side closes first, as a stopping stack does: its end sits in TIME_WAIT.
    accepted.close()
    server.close()
    client.close()
    ensure_port_free(port, "--moto-port")


def test_a_port_in_use_gets_the_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"{port} is already in use; pick another port"):
            ensure_port_free(port, "--moto-port")


def make_mirror(root: Path) -> Path:
    build = root / terraform.AWS_PROVIDER / "5.100.0" / "linux_amd64"
    build.mkdir(parents=True)
    (build / "terraform-provider-aws_v5.100.0_x5").write_bytes(b"")
    return root


def test_the_mirror_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    monkeypatch.setenv(terraform.MIRROR_VARIABLE, str(mirror))
    assert terraform.find_mirror() == mirror.resolve()
    config = terraform.cli_config(terraform.find_mirror())
    assert f'path    = "{mirror.resolve()}"' in config
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in config


def test_a_mirror_variable_without_the_provider_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(terraform.MIRROR_VARIABLE, str(tmp_path))
    with pytest.raises(
        terraform.TerraformError, match=r"holds no registry\.terraform\.io/hashicorp/aws"
    ):
        terraform.find_mirror()


def test_no_mirror_and_no_registry_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(terraform.MIRROR_VARIABLE, raising=False)
    monkeypatch.setattr(terraform, "_SEARCH_ROOTS", (tmp_path,))
    monkeypatch.setattr(terraform, "_registry_reachable", lambda: False)
    with pytest.raises(terraform.TerraformError, match=f"set {terraform.MIRROR_VARIABLE}"):
        terraform.write_cli_config(tmp_path / "cli.tfrc")


def test_a_mirror_one_level_below_a_search_root_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(terraform.MIRROR_VARIABLE, raising=False)
    mirror = make_mirror(tmp_path / "vendor-plugins")
    monkeypatch.setattr(terraform, "_SEARCH_ROOTS", (tmp_path / "empty", tmp_path))
    assert terraform.find_mirror() == mirror.resolve()
