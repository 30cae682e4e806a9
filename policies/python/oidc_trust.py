"""CKV_SUP_5: web-identity (GitHub OIDC) trust pins `aud` and an exact `sub`.

Built-in CKV_AWS_358 accepts `StringLike` with wildcards such as
`repo:org/repo:*`, which lets any branch, tag or pull request assume the
role. An environment role must trust exactly `repo:ORG/REPO:environment:<env>`
so only a job that passed the GitHub environment's protection rules gets in.

For GitHub's provider (`token.actions.githubusercontent.com:` keys) the rule
is exact:
- `aud` is pinned by StringEquals to exactly ["sts.amazonaws.com"];
- every `sub` value has one of three shapes, no wildcards:
  `repo:OWNER/REPO:environment:<name>` (environment roles),
  `repo:OWNER/REPO:pull_request` and `repo:OWNER/REPO:ref:refs/heads/main`
  (the read-only plan role: pull requests plan for review, main publishes
  the plan prod's reviewers approve). Tags, other branches and
  `repo:OWNER/REPO:*` fail.
Other web-identity providers need aud and sub pinned by StringEquals.
No claim may also be matched loosely (StringLike, ForAnyValue, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    conditions,
    document_statements,
    first,
    has_wildcard,
    is_allow,
    normalise_expression,
    parse_policy,
    policy_statements,
)

NAME = "Ensure web-identity role trust pins aud and an exact, wildcard-free sub with StringEquals"
WEB_IDENTITY = ("sts:AssumeRoleWithWebIdentity",)


GITHUB = "token.actions.githubusercontent.com:"
GITHUB_AUDIENCE = ["sts.amazonaws.com"]
_REPO = r"(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+|(?:var|local)\.[A-Za-z0-9_.]+)"
GITHUB_SUBJECT = re.compile(
    rf"^repo:{_REPO}:(?:environment:[A-Za-z0-9_.-]+|environment:(?:var|local)\.[A-Za-z0-9_.]+"
    r"|pull_request|ref:refs/heads/main)$"
)


def _claim_values(statement: Statement, claim: str) -> list[str] | None:
    """StringEquals values of every key ending in :claim; None if matched loosely or wildcarded."""
    suffix = f":{claim}"
    exact: list[str] = []
    for operator, entries in conditions(statement).items():
        for key, values in entries.items():
            if not key.endswith(suffix):
                continue
            if operator != "StringEquals" or any(has_wildcard(v) for v in values):
                return None  # StringLike/ForAnyValue or a wildcard widens the trust
            exact.extend(normalise_expression(v) for v in values)
    return exact


def trust_is_pinned(statement: Statement) -> bool:
    """True unless the statement allows web-identity federation without pinned claims."""
    if not (is_allow(statement) and any_action_matches(actions(statement), WEB_IDENTITY)):
        return True
    aud = _claim_values(statement, "aud")
    sub = _claim_values(statement, "sub")
    if not aud or not sub or not all(aud) or not all(sub):
        return False
    github = any(
        key.startswith(GITHUB) for entries in conditions(statement).values() for key in entries
    )
    if not github:
        return True
    return sorted(set(aud)) == GITHUB_AUDIENCE and all(GITHUB_SUBJECT.match(v) for v in sub)


def _result(statements: list[Statement]) -> CheckResult:
    federated = [
        s for s in statements if is_allow(s) and any_action_matches(actions(s), WEB_IDENTITY)
    ]
    if not federated:
        return CheckResult.UNKNOWN
    return CheckResult.PASSED if all(trust_is_pinned(s) for s in federated) else CheckResult.FAILED


class RoleTrust(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_5",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_role"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        raw = first(conf, "assume_role_policy")
        policy = parse_policy(raw)
        if policy is None and isinstance(raw, str) and "AssumeRoleWithWebIdentity" in raw:
            return CheckResult.FAILED  # a federated trust we cannot read fails closed
        return _result(policy_statements(policy) if policy else [])


class RoleTrustDocument(BaseDataCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_5",
            categories=[CheckCategories.IAM],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf: Mapping[str, Any]) -> CheckResult:
        return _result(document_statements(conf))


check = RoleTrust()
data_check = RoleTrustDocument()
