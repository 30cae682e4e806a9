"""CKV_SUP_14: key policies and data-bucket policies name the principals that may read.

With `Principal: <account root>` a key policy delegates to IAM: whoever can
write IAM policies decides who decrypts. Confidentiality must not rest on IAM
alone, so:

- every aws_kms_key policy has a Deny of `kms:Decrypt` (or `kms:*`, `*`) for
  every AWS principal unless `aws:PrincipalArn` is one of a list
  (ArnNotEquals, ArnNotLike, StringNotEquals or StringNotLike), with no "*"
  in that list;
- every bucket policy of a data bucket (one whose policy refuses uploads
  without SSE-KMS: a Deny of s3:PutObject on `s3:x-amz-server-side-encryption`)
  has the same kind of Deny for `s3:GetObject`.

The policy is read inline (jsonencode, heredoc) or from the connected
data.aws_iam_policy_document in the same module; one we cannot read fails
closed. A bucket policy of another kind is UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    as_str_list,
    attached_statements,
    conditions,
    normalise_expression,
)

NAME = "Ensure key and data-bucket policies allow reads only to listed principals"
_NEGATED = ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike")


def _every_principal(statement: Statement) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and any(
        "*" in as_str_list(ids) for ids in principal.values()
    )


def is_allow_list(statement: Statement, action: str) -> bool:
    if str(statement.get("Effect", "")).lower() != "deny" or not _every_principal(statement):
        return False
    if not any_action_matches(actions(statement), (action,)):
        return False
    for operator, entries in conditions(statement).items():
        listed = entries.get("aws:principalarn")
        if operator.removesuffix("IfExists") in _NEGATED and listed:
            return "*" not in [normalise_expression(v) for v in listed]
    return False


def _requires_kms_uploads(statements: list[Statement]) -> bool:
    return any(
        str(s.get("Effect", "")).lower() == "deny"
        and any_action_matches(actions(s), ("s3:PutObject",))
        and any("s3:x-amz-server-side-encryption" in e for e in conditions(s).values())
        for s in statements
    )


class _PolicyCheck(BaseResourceCheck):
    def statements(self, conf: Mapping[str, Any], attribute: str) -> list[Statement] | None:
        return attached_statements(self.graph, conf, attribute, self.entity_type)


class KeyPolicyAllowList(_PolicyCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_14",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_kms_key"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        statements = self.statements(conf, "policy")
        if statements is None:
            return CheckResult.FAILED  # no policy (the default delegates to IAM) or unreadable
        listed = any(is_allow_list(s, "kms:Decrypt") for s in statements)
        return CheckResult.PASSED if listed else CheckResult.FAILED


class DataBucketAllowList(_PolicyCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_14",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        statements = self.statements(conf, "policy")
        if statements is None:
            return CheckResult.FAILED
        if not _requires_kms_uploads(statements):
            return CheckResult.UNKNOWN
        listed = any(is_allow_list(s, "s3:GetObject") for s in statements)
        return CheckResult.PASSED if listed else CheckResult.FAILED


check = KeyPolicyAllowList()
bucket_check = DataBucketAllowList()
