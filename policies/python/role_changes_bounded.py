"""CKV_SUP_13: a policy that lets a principal create or change roles keeps them inside a boundary.

A CI role allowed `iam:CreateRole` and `iam:PutRolePolicy` on `role/<prefix>-*`
can create a role with any policy and trust itself: it can become anything.
So every Allow of a role-shaping action (CreateRole, Put/Attach/Detach/
DeleteRolePolicy, PutRolePermissionsBoundary, or a wildcard covering one) must
carry a condition on `iam:PermissionsBoundary` (StringEquals or ArnEquals, no
wildcard), and no Allow may grant `iam:UpdateAssumeRolePolicy` (re-pointing a
role's trust) or `iam:DeleteRolePermissionsBoundary`.

Runs on aws_iam_policy_document and on inline JSON of aws_iam_policy,
aws_iam_role_policy. A document that grants none of these is UNKNOWN.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from document_check import PolicyDocumentCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    conditions,
    document_statements,
    first,
    has_wildcard,
    is_allow,
    parse_policy,
    policy_statements,
)

NAME = "Ensure role creation and role policy changes are allowed only with a permissions boundary"
ROLE_SHAPING = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
NEVER = ("iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary")
BOUNDARY_KEY = "iam:permissionsboundary"


def _bounded(statement: Statement) -> bool:
    for operator, entries in conditions(statement).items():
        values = entries.get(BOUNDARY_KEY)
        if values and operator in {"StringEquals", "ArnEquals"}:
            return not any(has_wildcard(v) for v in values)
    return False


def result(statements: list[Statement]) -> CheckResult:
    granted = [s for s in statements if is_allow(s)]
    shaping = [s for s in granted if any_action_matches(actions(s), ROLE_SHAPING)]
    never = [s for s in granted if any_action_matches(actions(s), NEVER)]
    if never:
        return CheckResult.FAILED
    if not shaping:
        return CheckResult.UNKNOWN
    return CheckResult.PASSED if all(_bounded(s) for s in shaping) else CheckResult.FAILED


class RoleChangesBounded(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_13",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_policy", "aws_iam_role_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        policy = parse_policy(first(conf, "policy"))
        return result(policy_statements(policy)) if policy else CheckResult.UNKNOWN


check = RoleChangesBounded()
data_check = PolicyDocumentCheck("CKV_SUP_13", NAME, lambda conf: result(document_statements(conf)))
