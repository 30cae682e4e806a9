"""CKV_SUP_5: web-identity (GitHub OIDC) trust pins `aud` and a `sub` bound to workflow and ref.

Built-in CKV_AWS_358 accepts `StringLike` with wildcards such as
`repo:org/repo:*`, which lets any branch, tag or pull request assume the
role. And `repo:ORG/REPO:environment:<env>` alone lets any branch whose
workflow declares that environment in: the environment's protection rules
are settings outside the repository. So the repository customises GitHub's
subject to carry the calling workflow and its ref (include_claim_keys repo,
context, job_workflow_ref), and the trust names them.

For GitHub's provider (`token.actions.githubusercontent.com:` keys):
- `aud` is pinned by StringEquals to exactly ["sts.amazonaws.com"];
- every `sub` value is `repo:R:<context>:job_workflow_ref:R/<workflow file>@<ref>`
  with context `environment:<name>` or `ref:<ref>` (StringEquals, no
  wildcard, ref `refs/heads/...` or `refs/tags/...`), or
  `repo:R:pull_request:job_workflow_ref:R/<workflow file>@refs/pull/*/merge`
  (StringLike; that `*` is the only wildcard allowed). R, the names, the
  file and the ref may be Terraform references.
Other web-identity providers need aud and sub pinned by StringEquals.
"""

from __future__ import annotations

import re
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
    normalise_expression,
    parse_policy,
    policy_statements,
)

NAME = "Ensure web-identity role trust pins aud and an exact, wildcard-free sub with StringEquals"
WEB_IDENTITY = ("sts:AssumeRoleWithWebIdentity",)


GITHUB = "token.actions.githubusercontent.com:"
GITHUB_AUDIENCE = ["sts.amazonaws.com"]
_REF = r"(?:var|local)\.[A-Za-z0-9_.]+"
_REPO = rf"(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+|{_REF})"
_NAME = rf"(?:[A-Za-z0-9_.-]+|{_REF})"
_WORKFLOW = rf"(?:\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml|{_REF})"
_GIT_REF = rf"(?:refs/(?:heads|tags)/[A-Za-z0-9_./-]+|{_REF})"
GITHUB_SUBJECT = re.compile(
    rf"^repo:{_REPO}:(?:environment:{_NAME}|ref:{_GIT_REF})"
    rf":job_workflow_ref:{_REPO}/{_WORKFLOW}@{_GIT_REF}$"
)
# Pull requests: any merge ref, but only through one workflow file (StringLike).
GITHUB_PULL_REQUEST_SUBJECT = re.compile(
    rf"^repo:{_REPO}:pull_request:job_workflow_ref:{_REPO}/{_WORKFLOW}@refs/pull/\*/merge$"
)


def _claim_values(statement: Statement, claim: str) -> list[str] | None:
    """Values of every key ending in :claim; None if matched loosely or wildcarded.

    The one loose match allowed is a GitHub pull-request subject (StringLike,
    `refs/pull/*/merge`), checked against its exact shape.
    """
    suffix = f":{claim}"
    exact: list[str] = []
    for operator, entries in conditions(statement).items():
        for key, values in entries.items():
            if not key.endswith(suffix):
                continue
            texts = [normalise_expression(v) for v in values]
            pull_requests = (
                operator == "StringLike"
                and key.startswith(GITHUB)
                and claim == "sub"
                and all(GITHUB_PULL_REQUEST_SUBJECT.match(t) for t in texts)
            )
            if not pull_requests and (operator != "StringEquals" or any(map(has_wildcard, texts))):
                return None  # StringLike/ForAnyValue or a wildcard widens the trust
            exact.extend(texts)
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
    return sorted(set(aud)) == GITHUB_AUDIENCE and all(
        GITHUB_SUBJECT.match(v) or GITHUB_PULL_REQUEST_SUBJECT.match(v) for v in sub
    )


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


check = RoleTrust()
data_check = PolicyDocumentCheck("CKV_SUP_5", NAME, lambda conf: _result(document_statements(conf)))
