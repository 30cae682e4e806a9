"""prod's tfvars hold the settings that protect real users' data.

checkov sees the table's name and tags only as variables, so CKV_SUP_6 cannot
tell prod apart; these settings are checked where they are written.
"""

from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]


def tfvars(environment: str) -> dict[str, Any]:
    with (ROOT / "environments" / environment / "terraform.tfvars").open(
        encoding="utf-8"
    ) as handle:
        values: dict[str, Any] = hcl2.load(handle)
    return {
        name: value.strip('"') if isinstance(value, str) else value
        for name, value in values.items()
    }


def test_prod_protects_its_data_and_users() -> None:
    prod = tfvars("prod")
    assert prod["deletion_protection"] is True
    assert prod["force_destroy_buckets"] is False
    assert prod["mfa_configuration"] == "ON"
    assert '"ALLOW_USER_PASSWORD_AUTH"' not in prod["explicit_auth_flows"]
    assert prod["alarm_email"]


@pytest.mark.parametrize("name", ["log_retention_days", "access_log_retention_days"])
def test_prod_keeps_logs_at_least_as_long_as_any_other_environment(name: str) -> None:
    assert tfvars("prod")[name] >= max(tfvars("dev")[name], tfvars("stage")[name])
