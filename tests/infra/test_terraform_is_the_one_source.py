"""Terraform creates the infrastructure, locally too: no Python in services/ creates any of it.

The local stack applies environments/local and then adds only what SAM owns
(the processor function) and data (the demo user).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_OWNED = re.compile(
    r"\.(create_bucket|create_table|create_key|create_alias|create_user_pool|"
    r"create_user_pool_client|create_queue|create_role|put_role_policy|create_state_machine|"
    r"create_pipe|put_parameter)\("
)


def test_no_python_creates_what_terraform_owns() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sorted((REPO_ROOT / "services").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TERRAFORM_OWNED.search(line)
    ]
    assert found == []


def test_the_pattern_catches_a_provisioning_call() -> None:
    assert TERRAFORM_OWNED.search('s3.create_bucket(Bucket="b")')
    assert TERRAFORM_OWNED.search("iam.create_role(RoleName=n, AssumeRolePolicyDocument=d)")
