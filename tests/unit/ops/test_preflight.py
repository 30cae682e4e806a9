"""`make init` / `make plan` say what an environment needs before Terraform fails obscurely."""

from pathlib import Path

import pytest
from moto import mock_aws

from ops import preflight

MOTO_ACCOUNT = "123456789012"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "environments" / "prod"
    root.mkdir(parents=True)
    (root / "terraform.tfvars").write_text(f'account_id = "{MOTO_ACCOUNT}"\nregion = "us-east-1"\n')
    monkeypatch.setattr(preflight, "REPO_ROOT", tmp_path)
    return root


def initialise(root: Path) -> None:
    (root / ".terraform").mkdir()
    (root / ".terraform" / "terraform.tfstate").write_text("{}")


def test_the_pinned_account_comes_from_the_real_tfvars() -> None:
    assert preflight.pinned_account("prod") == "333333333333"


def test_no_credentials_are_named_as_such(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(repo / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(repo / "none"))

    assert preflight.main(["plan", "prod"]) == 2

    err = capsys.readouterr().err
    assert "error: no usable AWS credentials" in err
    assert f"credentials of account {MOTO_ACCOUNT}" in err
    assert "secure-upload-prod-github-plan" in err
    assert "make init ENV=prod" in err
    assert "make plan ENV=prod OFFLINE=1" in err


@mock_aws
def test_credentials_of_another_account_are_refused(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "terraform.tfvars").write_text('account_id = "333333333333"\n')
    initialise(repo)

    (problem,) = preflight.problems("prod", "plan")

    assert problem.startswith(f"these credentials are for account {MOTO_ACCOUNT}")
    assert problem.endswith("environments/prod deploys to 333333333333")


@mock_aws
def test_plan_needs_the_backend_initialised_but_init_does_not(repo: Path) -> None:
    assert preflight.problems("prod", "plan") == [
        "environments/prod is not initialised with its backend"
    ]
    assert preflight.problems("prod", "init") == []
    initialise(repo)
    assert preflight.problems("prod", "plan") == []
    assert preflight.main(["plan", "prod"]) == 0
