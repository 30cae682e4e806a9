"""CKV_SUP_5: web-identity (GitHub OIDC) trust pins `aud` and a `sub` bound to workflow and ref.

Built-in CKV_AWS_358 accepts `StringLike` with wildcards such as
`repo:org/repo:*`, which lets any branch, tag or pull request assume the
role. `repo:ORG/REPO:environment:<env>` alone lets any branch whose workflow
declares that environment in. And the workflow file alone
(`job_workflow_ref:.../deploy-environment.yml@refs/heads/main`) is not enough
either: any branch can call main's copy of a reusable workflow (finding 1 of
the review). So the repository customises GitHub's subject to carry the
caller's ref as well (include_claim_keys repo, context, ref,
job_workflow_ref), and the trust names all of them.

For GitHub's provider (`token.actions.githubusercontent.com:` keys):
- `aud` is pinned by StringEquals to exactly ["sts.amazonaws.com"];
- every `sub` value is one of (R the same repository in both places):
  - `repo:R:environment:<name>:ref:refs/heads/main:job_workflow_ref:R/<file>@refs/heads/main`
    (StringEquals), <file> deploy-environment.yml or smoke-environment.yml;
  - `repo:R:ref:refs/heads/main:ref:refs/heads/main:job_workflow_ref:R/<file>@refs/heads/main`
    (StringEquals; also with the ref written once), <file> deploy-environment.yml:
    the promotion workflow's plan job, which declares no environment;
  - `repo:R:pull_request:ref:refs/pull/*/merge:job_workflow_ref:R/<file>@refs/pull/*/merge`
    (StringLike; those `*` are the only wildcards allowed), <file> plan.yml;
- the right jobs for the role, by its Terraform name: a trust named *plan*
  takes only the plan job on main and pull requests (never an environment's
  job); one named *smoke* only smoke-environment.yml in an environment; any
  other (deploy, Terraform) only deploy-environment.yml in an environment. So
  the deploy job cannot assume the smoke role, the smoke job cannot assume
  the deploy or Terraform roles, and the plan job (no environment, so no
  reviewers) reaches none of them.
R and the environment's name may be Terraform references; the refs and the
files are written out, so that this check can read them.
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
DEPLOY_WORKFLOW = ".github/workflows/deploy-environment.yml"
SMOKE_WORKFLOW = ".github/workflows/smoke-environment.yml"
PLAN_WORKFLOW = ".github/workflows/plan.yml"
_REF = r"(?:var|local)\.[A-Za-z0-9_.]+"
_REPO = rf"(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+|{_REF})"
_NAME = rf"(?:[A-Za-z0-9_.-]+|{_REF})"
_FILE = r"(?P<file>\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml)"
_MAIN = "refs/heads/main"
# A job that declares an environment: context `environment:<name>`, then `ref`.
ENVIRONMENT_SUBJECT = re.compile(
    rf"^repo:(?P<repo>{_REPO}):environment:{_NAME}:ref:{_MAIN}"
    rf":job_workflow_ref:(?P=repo)/{_FILE}@{_MAIN}$"
)
# A job without one: context `ref:<ref>`, then `ref` again (or once).
MAIN_SUBJECT = re.compile(
    rf"^repo:(?P<repo>{_REPO}):ref:{_MAIN}(?::ref:{_MAIN})?"
    rf":job_workflow_ref:(?P=repo)/{_FILE}@{_MAIN}$"
)
# Pull requests: any merge ref, but only through one workflow file (StringLike).
PULL_REQUEST_SUBJECT = re.compile(
    rf"^repo:(?P<repo>{_REPO}):pull_request:ref:refs/pull/\*/merge"
    rf":job_workflow_ref:(?P=repo)/{_FILE}@refs/pull/\*/merge$"
)
ENVIRONMENT_WORKFLOWS = (DEPLOY_WORKFLOW, SMOKE_WORKFLOW)


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
                and all(PULL_REQUEST_SUBJECT.match(t) for t in texts)
            )
            if not pull_requests and (operator != "StringEquals" or any(map(has_wildcard, texts))):
                return None  # StringLike/ForAnyValue or a wildcard widens the trust
            exact.extend(texts)
    return exact


def _is_github(statement: Statement) -> bool:
    return any(
        key.startswith(GITHUB) for entries in conditions(statement).values() for key in entries
    )


def github_subject(subject: str) -> tuple[str, str] | None:
    """(kind, workflow file) of an allowed GitHub subject, or None.

    kind is "environment", "main" or "pull_request"; the file must be the one
    that kind of job runs in this repository.
    """
    for kind, pattern, files in (
        ("environment", ENVIRONMENT_SUBJECT, ENVIRONMENT_WORKFLOWS),
        ("main", MAIN_SUBJECT, (DEPLOY_WORKFLOW,)),
        ("pull_request", PULL_REQUEST_SUBJECT, (PLAN_WORKFLOW,)),
    ):
        match = pattern.match(subject)
        if match:
            return (kind, match["file"]) if match["file"] in files else None
    return None


def trust_is_pinned(statement: Statement) -> bool:
    """True unless the statement allows web-identity federation without pinned claims."""
    if not (is_allow(statement) and any_action_matches(actions(statement), WEB_IDENTITY)):
        return True
    aud = _claim_values(statement, "aud")
    sub = _claim_values(statement, "sub")
    if not aud or not sub or not all(aud) or not all(sub):
        return False
    if not _is_github(statement):
        return True
    return sorted(set(aud)) == GITHUB_AUDIENCE and all(github_subject(v) for v in sub)


def _subjects(statement: Statement) -> list[str]:
    return [
        normalise_expression(v)
        for entries in conditions(statement).values()
        for key, values in entries.items()
        if key.startswith(GITHUB) and key.endswith(":sub")
        for v in values
    ]


def trust_fits_its_role(statements: list[Statement], name: str) -> bool:
    """The whole trust (every federated statement) names the right jobs for `name`.

    A trust named *plan* takes the plan job on main and pull requests, never an
    environment's job; one named *smoke* only smoke-environment.yml in an
    environment; any other (deploy, Terraform) only deploy-environment.yml in
    an environment. Trusts without GitHub subjects are not concerned.
    """
    found = [github_subject(s) for st in statements for s in _subjects(st)]
    if not found:
        return True
    if None in found:
        return False
    kinds = {kind for kind, _ in filter(None, found)}
    files = {file for kind, file in filter(None, found) if kind == "environment"}
    lowered = name.lower()
    if "plan" in lowered:
        return kinds <= {"main", "pull_request"}
    wanted = SMOKE_WORKFLOW if "smoke" in lowered else DEPLOY_WORKFLOW
    return kinds == {"environment"} and files == {wanted}


def _block_name(conf: dict[str, Any]) -> str:
    """The Terraform name of the checked block (`deploy` of `...aws_iam_role.deploy`)."""
    return str(conf.get("__address__", "")).rsplit(".", 1)[-1]


def _result(statements: list[Statement], name: str) -> CheckResult:
    federated = [
        s for s in statements if is_allow(s) and any_action_matches(actions(s), WEB_IDENTITY)
    ]
    if not federated:
        return CheckResult.UNKNOWN
    pinned = all(trust_is_pinned(s) for s in federated)
    fits = trust_fits_its_role(federated, name)
    return CheckResult.PASSED if pinned and fits else CheckResult.FAILED


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
        return _result(policy_statements(policy) if policy else [], _block_name(conf))


check = RoleTrust()
data_check = PolicyDocumentCheck(
    "CKV_SUP_5", NAME, lambda conf: _result(document_statements(conf), _block_name(dict(conf)))
)
