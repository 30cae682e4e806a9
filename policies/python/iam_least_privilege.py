"""CKV_SUP_3 and CKV_SUP_4: least-privilege identity policies.

CKV_SUP_3: no Allow statement uses a wildcard in an action (`*`, `s3:*`,
`s3:Get*`) or NotAction. Built-ins only reject full admin (`*:*`) and a few
service-wide wildcards; we list every action so a review sees the grant.
CKV_SUP_4: no Allow statement grants an action on a broad resource: `*`,
NotResource, an ARN with a wildcard region or account, or an ARN with no
concrete name before its wildcard (`key/*`, `table/*`, `*/*`). Only the short
list of actions AWS offers on `*` alone is allowed there (an allow-list: an
action nobody listed fails). A statement that selects its resources by tag or
KMS alias (`aws:ResourceTag/...`, `kms:ResourceAliases` with StringEquals)
is narrow enough.

Identity policies only: resource policies (statements with a Principal, such
as KMS key policies whose root statement is AWS's documented default) are
governed by their own rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from document_check import PolicyDocumentCheck
from sup_common import (
    Statement,
    actions,
    as_list,
    conditions,
    document_statements,
    has_principal,
    has_wildcard,
    is_allow,
    is_broad_resource,
    is_reference,
    is_set,
    parse_policy,
    policy_statements,
    resources,
    unwrap,
)

IDENTITY_POLICY_RESOURCES = [
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_role",
]

# Actions AWS offers on "*" only (no resource-level permissions), so "*" is
# the narrowest Resource they can have. Everything else must name ARNs. The
# policies write their grants out instead of reading this list: checkov
# evaluates neither file() nor jsondecode(), so a grant read from a shared
# file would be invisible to every check, this one included.
ACCOUNT_LEVEL_ACTIONS = frozenset(
    a.lower()
    for a in (
        # X-Ray tracing from functions and the state machine.
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        # docker login token; it grants nothing beyond repository permissions.
        "ecr:GetAuthorizationToken",
        # Vended-log delivery set-up (Step Functions, Pipes, HTTP API access logs).
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DeleteResourcePolicy",
        "logs:DescribeLogGroups",
        # Creation calls: the resource does not exist yet.
        "kms:CreateKey",
        "cognito-idp:CreateUserPool",
        # Listing and account-wide reads.
        "kms:ListAliases",
        "kms:ListKeys",
        "ssm:DescribeParameters",
        "sts:GetCallerIdentity",
        # SNS subscriptions have no resource type of their own.
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:Unsubscribe",
    )
)
# Tagging during creation (CreateKey/CreateUserPool with Tags) is authorised on
# the resource being created, which has no ARN yet; a malware protection plan's
# id is random, so its creation is bounded by its tags too. Allowed on "*" only when
# the statement pins the tags it may set with aws:RequestTag.
TAG_ON_CREATE_ACTIONS = frozenset(
    {
        "kms:tagresource",
        "cognito-idp:tagresource",
        "guardduty:createmalwareprotectionplan",
        "guardduty:tagresource",
    }
)
# Condition keys that select resources by an attribute we control, which
# narrows a broad Resource (a key selected by its alias, a resource by tag).
_NARROWING_KEYS = ("aws:resourcetag/", "kms:resourcealiases")
_EXACT_OPERATORS = frozenset(
    {"stringequals", "forallvalues:stringequals", "foranyvalue:stringequals", "arnequals"}
)


def resource_identity_statements(
    entity_type: str, conf: Mapping[str, Any]
) -> list[Statement] | None:
    """Identity-policy statements of an IAM resource; None if a policy is unreadable.

    References (a data.aws_iam_policy_document's json) are skipped: the
    document is checked on its own. Anything else we cannot read fails closed.
    """
    if entity_type == "aws_iam_role":
        raw = [
            inline.get("policy")
            for inline in as_list(conf.get("inline_policy"))
            if isinstance(inline, dict)
        ]
    else:
        raw = [conf.get("policy")]
    statements: list[Statement] = []
    for value in raw:
        policy = parse_policy(value)
        if policy is not None:
            statements.extend(policy_statements(policy))
        elif is_set(value) and not is_reference(unwrap(value)):
            return None
    return statements


def document_identity_statements(conf: Mapping[str, Any]) -> list[Statement]:
    return [s for s in document_statements(conf) if not has_principal(s)]


def wildcard_action(statement: Statement) -> bool:
    return is_allow(statement) and (
        "NotAction" in statement or any(has_wildcard(a) for a in actions(statement))
    )


def _pinned_by(statement: Statement, key_prefixes: tuple[str, ...]) -> bool:
    """A condition pins one of the keys to exact, wildcard-free values."""
    for operator, entries in conditions(statement).items():
        if operator.lower() not in _EXACT_OPERATORS:
            continue
        for key, values in entries.items():
            if key.startswith(key_prefixes) and values and not any(has_wildcard(v) for v in values):
                return True
    return False


def broad_grant(statement: Statement) -> bool:
    """An Allow on a broad resource (see is_broad_resource) of an action that has narrower ones.

    Fails unless every action is in ACCOUNT_LEVEL_ACTIONS, a tag-on-create
    action pinned by aws:RequestTag, or the statement selects its resources
    by tag or KMS alias.
    """
    if not is_allow(statement):
        return False
    broad = "NotResource" in statement or any(is_broad_resource(r) for r in resources(statement))
    if not broad or "NotAction" in statement:
        return broad
    if "NotResource" not in statement and _pinned_by(statement, _NARROWING_KEYS):
        return False
    request_tags = _pinned_by(statement, ("aws:requesttag/",))
    for action in actions(statement):
        name = action.lower()
        if name in ACCOUNT_LEVEL_ACTIONS:
            continue
        if name in TAG_ON_CREATE_ACTIONS and request_tags:
            continue
        return True
    return False


Predicate = Callable[[Statement], bool]


def _result(statements: list[Statement] | None, failing: Predicate) -> CheckResult:
    if statements is None:
        return CheckResult.FAILED
    if not statements:
        return CheckResult.UNKNOWN
    return CheckResult.FAILED if any(failing(s) for s in statements) else CheckResult.PASSED


class IdentityPolicyCheck(BaseResourceCheck):
    def __init__(self, check_id: str, name: str, failing: Predicate) -> None:
        self.failing = failing
        super().__init__(
            name=name,
            id=check_id,
            categories=[CheckCategories.IAM],
            supported_resources=IDENTITY_POLICY_RESOURCES,
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return _result(resource_identity_statements(self.entity_type, conf), self.failing)


NO_WILDCARD = "Ensure no IAM identity policy statement allows wildcard actions or NotAction"
BROAD = (
    "Ensure IAM identity policies grant actions on named resources, not on '*' or type-wide ARNs"
)

# The same id in the resource and the data registry: one rule, both shapes.
no_wildcard_actions = IdentityPolicyCheck("CKV_SUP_3", NO_WILDCARD, wildcard_action)
no_wildcard_actions_document = PolicyDocumentCheck(
    "CKV_SUP_3",
    NO_WILDCARD,
    lambda conf: _result(document_identity_statements(conf), wildcard_action),
)
no_broad_grants = IdentityPolicyCheck("CKV_SUP_4", BROAD, broad_grant)
no_broad_grants_document = PolicyDocumentCheck(
    "CKV_SUP_4", BROAD, lambda conf: _result(document_identity_statements(conf), broad_grant)
)
