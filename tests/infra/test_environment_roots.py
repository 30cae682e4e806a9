"""The dev, stage and prod roots have one shape; they differ only in backend.tf and tfvars."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_ROOT_FILES = ("main.tf", "variables.tf", "providers.tf", "versions.tf", "outputs.tf")


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_environment_roots_differ_only_in_backend_and_tfvars(env: str) -> None:
    dev, other = REPO_ROOT / "environments/dev", REPO_ROOT / f"environments/{env}"
    assert sorted(p.name for p in other.iterdir() if p.is_file()) == sorted(
        p.name for p in dev.iterdir() if p.is_file()
    )
    for name in SHARED_ROOT_FILES:
        assert (other / name).read_text() == (dev / name).read_text(), name


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_backend_locks_and_encrypts_in_the_tfvars_account(env: str) -> None:
    root = REPO_ROOT / "environments" / env
    backend = (root / "backend.tf").read_text()
    tfvars = (root / "terraform.tfvars").read_text()
    account = re.search(r'^account_id\s*=\s*"(\d{12})"', tfvars, re.M)
    assert account is not None
    assert "use_lockfile = true" in backend
    assert "encrypt      = true" in backend
    assert f'key          = "{env}/terraform.tfstate"' in backend
    assert f'bucket       = "secure-upload-tfstate-{account.group(1)}"' in backend
    assert re.search(rf'^environment\s*=\s*"{env}"', tfvars, re.M)


GUIDE_OUTPUTS = {
    "s3_bucket_name",
    "dynamodb_table_name",
    "cognito_user_pool_id",
    "cognito_app_client_id",
    "sfn_state_machine_arn",
}


@pytest.mark.parametrize("env", ["dev", "stage", "prod", "local"])
def test_every_root_has_the_usage_guides_outputs(env: str) -> None:
    outputs = (REPO_ROOT / "environments" / env / "outputs.tf").read_text()
    assert set(re.findall(r'^output "(\w+)"', outputs, re.M)) >= GUIDE_OUTPUTS


def test_every_backend_names_the_state_key_by_the_bootstrap_alias() -> None:
    """The state bucket policy accepts the alias ARN and the backends send it.

    The bucket comes from modules/secure-bucket, whose terraform test checks that
    kms_key_aliases are accepted; here, that bootstrap passes the state alias."""
    bootstrap = (REPO_ROOT / "environments/bootstrap/main.tf").read_text()
    # The state key is modules/kms, whose alias is alias/<name>.
    key = re.search(
        r'module "state_key" \{\s*source\s*=\s*"../../modules/kms"\s*name\s*=\s*"([^"]+)"',
        bootstrap,
    )
    assert key is not None
    kms = (REPO_ROOT / "modules/kms/main.tf").read_text()
    assert re.search(r'resource "aws_kms_alias" "this" \{\s*name\s*=\s*"alias/\$\{var.name\}"', kms)
    alias = f"alias/{key.group(1)}"
    state_bucket = (REPO_ROOT / "environments/bootstrap/state-bucket.tf").read_text()
    assert re.search(r"kms_key_aliases\s*=\s*\[module\.state_key\.alias_arn\]", state_bucket)
    for env in ("dev", "stage", "prod"):
        root = REPO_ROOT / "environments" / env
        backend = (root / "backend.tf").read_text()
        account = re.search(
            r'^account_id\s*=\s*"(\d{12})"', (root / "terraform.tfvars").read_text(), re.M
        )
        assert account is not None
        region = re.search(r'region\s*=\s*"([a-z0-9-]+)"', backend)
        assert region is not None
        expected = f"arn:aws:kms:{region.group(1)}:{account.group(1)}:{alias}"
        assert f'kms_key_id   = "{expected}"' in backend, env
