"""The smoke role and the smoke-user secret as modules/github-oidc/smoke.tf declares them.

Finding 4 of the review: the smoke role held the pool's Admin* calls (enough to take over any
user without MFA) and the deploy role's trust. These pin the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from smoke import client
from tests.unit.smoke import terraform
from tests.unit.smoke.terraform import SMOKE_TF, blocks, statements

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = ROOT / "services" / "contract" / "upload_contract" / "contract.json"
SECRET_ARN = "${aws_secretsmanager_secret.smoke_user.arn}"


def _allows() -> dict[str, list[dict[str, object]]]:
    by_action: dict[str, list[dict[str, object]]] = {}
    for statement in statements(SMOKE_TF, "smoke"):
        assert statement.get("effect", "Allow") == "Allow"
        for action in statement["actions"]:
            by_action.setdefault(action, []).append(statement)
    return by_action


def test_the_smoke_role_holds_no_cognito_permission() -> None:
    assert not [action for action in _allows() if action.startswith("cognito-idp:")]


def test_no_role_of_the_module_may_call_cognito_admin_apis() -> None:
    # Neither the smoke role nor any other CI role: creating the smoke user is a person's job.
    for statement in terraform.module_statements():
        if statement.get("effect", "Allow") != "Allow":
            continue
        actions = statement.get("actions", [])
        assert not [a for a in actions if re.match(r"cognito-idp:(Admin|\*)", a)], statement


def test_the_smoke_role_reads_its_secret_its_parameters_and_the_endpoint_only() -> None:
    allows = _allows()
    assert set(allows) == {
        "ssm:GetParameter",
        "cloudformation:DescribeStacks",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
    }
    assert [s["resources"] for s in allows["secretsmanager:GetSecretValue"]] == [[SECRET_ARN]]
    assert [s["resources"] for s in allows["ssm:GetParameter"]] == ["${local.smoke_parameter_arns}"]
    assert [s["resources"] for s in allows["cloudformation:DescribeStacks"]] == [
        ["${local.stack_arn}"]
    ]
    # The key only through Secrets Manager, and only for this secret.
    (decrypt,) = allows["kms:Decrypt"]
    assert decrypt["resources"] == ["${var.kms_key_arn}"]
    conditions = {c["variable"]: (c["test"], c["values"]) for c in decrypt["condition"]}  # type: ignore[attr-defined]
    assert conditions == {
        "kms:ViaService": ("StringEquals", ["secretsmanager.${local.region}.amazonaws.com"]),
        "kms:EncryptionContext:SecretARN": ("StringEquals", [SECRET_ARN]),
    }


def test_the_parameters_are_the_two_the_client_reads() -> None:
    local = next(
        entry["smoke_parameter_arns"]
        for entry in terraform.load(SMOKE_TF)["locals"]
        if "smoke_parameter_arns" in entry
    )
    keys = re.search(r"for key in \[([^\]]*)\]", local)
    assert keys
    # The module names the contract's keys; the contract maps them to the names.
    published = json.loads(CONTRACT.read_text())["ssm_parameters"]
    declared = {published[terraform.text(key.strip())] for key in keys.group(1).split(",")}
    assert declared == {client.POOL_PARAMETER, client.CLIENT_PARAMETER}


def test_the_smoke_role_has_its_own_trust() -> None:
    role = blocks(SMOKE_TF, "resource", "aws_iam_role")["smoke"]
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.smoke_assume.json}"


def test_the_secret_is_the_one_the_client_reads_and_uses_the_environment_key() -> None:
    secret = blocks(SMOKE_TF, "resource", "aws_secretsmanager_secret")["smoke_user"]
    assert terraform.text(secret["name"]) == "${var.name_prefix}-smoke-user"
    # name_prefix is <project>-<env>.
    assert client.smoke_user_secret_name("dev") == f"{client.PROJECT}-dev-smoke-user"
    assert secret["kms_key_id"] == "${var.kms_key_arn}"
    # Terraform never holds the value: no secret version resource anywhere.
    assert "aws_secretsmanager_secret_version" not in SMOKE_TF.read_text()


def test_only_the_smoke_role_and_break_glass_may_read_the_secret() -> None:
    policy = blocks(SMOKE_TF, "resource", "aws_secretsmanager_secret_policy")["smoke_user"]
    assert policy["policy"] == "${data.aws_iam_policy_document.smoke_user_secret.json}"
    assert policy["block_public_policy"] is True
    read, write = statements(SMOKE_TF, "smoke_user_secret")
    assert read["effect"] == "Deny"
    assert read["actions"] == ["secretsmanager:GetSecretValue"]
    assert read["principals"] == [{"type": "AWS", "identifiers": ["*"]}]
    (condition,) = read["condition"]
    assert (condition["test"], condition["variable"]) == ("ArnNotEquals", "aws:PrincipalArn")
    assert condition["values"] == ["${aws_iam_role.smoke.arn}", "${local.break_glass_role_arn}"]
    # Break-glass by its exact name (a pattern would match roles Terraform may create).
    local = next(
        entry["break_glass_role_arn"]
        for entry in terraform.load(SMOKE_TF)["locals"]
        if "break_glass_role_arn" in entry
    )
    assert terraform.text(local).endswith(":role/${local.smoke_project}-break-glass")
    assert "*" not in local
    # No role of the environment writes the value.
    assert write["effect"] == "Deny"
    assert "secretsmanager:PutSecretValue" in write["actions"]
    (condition,) = write["condition"]
    assert condition["test"] == "ArnLike"
    assert condition["values"] == ["${local.smoke_environment_role_arns}"]
