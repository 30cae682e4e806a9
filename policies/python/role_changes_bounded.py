"""CKV_SUP_13: roles are created and changed only inside a boundary, and the boundary is a ceiling.

A CI role allowed `iam:CreateRole` and `iam:PutRolePolicy` on `role/<prefix>-*`
can create a role with any policy and trust itself: it can become anything.
So every Allow of a role-shaping action (CreateRole, Put/Attach/Detach/
DeleteRolePolicy, PutRolePermissionsBoundary, or a wildcard covering one) must
carry a condition on `iam:PermissionsBoundary` (StringEquals or ArnEquals, no
wildcard), and no Allow may grant `iam:UpdateAssumeRolePolicy` (re-pointing a
role's trust) or `iam:DeleteRolePermissionsBoundary`.

That condition is only as good as the boundary (finding 3 of the security
review): a boundary that allows `s3:*` lets the CI role create a role that
deletes every object version. So a permissions boundary (an `aws_iam_policy`
whose name ends in `boundary`) must be a ceiling:

- its Allow statements list actions (no `*` or `?`, no NotAction);
- every data-plane and data-protection action in CEILING is denied by a Deny
  on Resource "*" that is unconditional or excepts only named principals
  (`aws:PrincipalArn` with ArnNotEquals, ArnNotLike, StringNotEquals or
  StringNotLike, no `*` in the list): a role the CI role creates has another
  ARN and gets none of the exceptions.

The boundary's document is read inline or from the connected
data.aws_iam_policy_document of the same module; an unreadable one fails.

Runs on aws_iam_policy_document and on inline JSON of aws_iam_policy,
aws_iam_role_policy. A document that grants none of the role-shaping actions
and is no boundary is UNKNOWN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from document_check import PolicyDocumentCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    attached_statements,
    conditions,
    document_statements,
    first,
    has_wildcard,
    is_allow,
    normalise_expression,
    parse_policy,
    policy_statements,
    resources,
)

NAME = "Ensure roles are created and changed only inside a permissions boundary that is a ceiling"
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

# What a boundary must deny, but to named principals: reading, writing and
# deleting objects and items, changing how they are protected, identity
# administration, decryption, and driving the pipeline (starting executions,
# invoking functions, sending messages and events).
CEILING = (
    # S3 objects
    "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateObject",
    "s3:RestoreObject",
    # S3 buckets: how the objects are protected
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    # DynamoDB items and streams
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
    # DynamoDB tables: how the items are protected
    "dynamodb:CreateBackup",
    "dynamodb:DeleteTable",
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:PutResourcePolicy",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
    # identity and keys
    "iam:CreateRole",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "kms:Decrypt",
    "sts:AssumeRole",
    # the pipeline
    "events:PutEvents",
    "lambda:InvokeFunction",
    "sqs:SendMessage",
    "states:StartExecution",
)
_EXCEPTING = ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike")
_BOUNDARY_NAME = re.compile(r"boundary$", re.IGNORECASE)


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


def _named_exceptions_only(statement: Statement) -> bool:
    """No condition, or only aws:PrincipalArn exceptions that name principals."""
    found = conditions(statement)
    if not found:
        return True
    if set(found) - set(_EXCEPTING):
        return False
    for entries in found.values():
        if set(entries) != {"aws:principalarn"}:
            return False
        listed = [normalise_expression(v) for v in entries["aws:principalarn"]]
        if not listed or any("*" in v for v in listed):
            return False
    return True


def _denies(statement: Statement, action: str) -> bool:
    return (
        str(statement.get("Effect", "")).lower() == "deny"
        and "NotResource" not in statement
        and resources(statement) == ["*"]
        and any_action_matches(actions(statement), (action,))
        and _named_exceptions_only(statement)
    )


def ceiling_result(statements: list[Statement]) -> CheckResult:
    """A boundary passes when its Allows list actions and every CEILING action is denied."""
    for statement in statements:
        if is_allow(statement) and (
            "NotAction" in statement or any(has_wildcard(a) for a in actions(statement))
        ):
            return CheckResult.FAILED
    if not all(any(_denies(s, action) for s in statements) for action in CEILING):
        return CheckResult.FAILED
    if result(statements) == CheckResult.FAILED:
        return CheckResult.FAILED
    return CheckResult.PASSED


def is_boundary(conf: Mapping[str, Any]) -> bool:
    names = [first(conf, key) for key in ("name", "name_prefix") if key in conf]
    return any(_BOUNDARY_NAME.search(normalise_expression(n)) for n in names if n is not None)


class RoleChangesBounded(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_13",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_policy", "aws_iam_role_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "aws_iam_policy" and is_boundary(conf):
            found = attached_statements(self.graph, conf, "policy", self.entity_type)
            return CheckResult.FAILED if found is None else ceiling_result(found)
        policy = parse_policy(first(conf, "policy"))
        return result(policy_statements(policy)) if policy else CheckResult.UNKNOWN


check = RoleChangesBounded()
data_check = PolicyDocumentCheck("CKV_SUP_13", NAME, lambda conf: result(document_statements(conf)))
