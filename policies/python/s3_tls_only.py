"""CKV_SUP_10: bucket policies deny every request that is not over TLS.

Built-in CKV_AWS_379 looks at ACLs, not at the policy. The deny statement
must apply to every principal and every S3 action on the bucket and its
objects, conditioned on aws:SecureTransport = false.

A policy given as `data.aws_iam_policy_document.x.json` is opaque to a
resource check, so the document itself is checked: a document is treated as
a bucket policy when it names principals and grants or denies only s3:
actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    as_str_list,
    conditions,
    document_statements,
    first,
    has_principal,
    is_reference,
    parse_policy,
    policy_statements,
    resources,
)

NAME = "Ensure S3 bucket policies deny requests that do not use TLS"


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_str_list(ids) for ids in principal.values())
    return False


def denies_insecure_transport(statement: Statement) -> bool:
    if str(statement.get("Effect", "")).lower() != "deny" or not _everyone(
        statement.get("Principal")
    ):
        return False
    if not {"s3:*", "*"} & {a.lower() for a in actions(statement)}:
        return False
    arns = resources(statement)
    covers_bucket_and_objects = "*" in arns or (
        any(a.endswith("/*") for a in arns) and any(not a.endswith("/*") for a in arns)
    )
    secure = conditions(statement).get("Bool", {}).get("aws:securetransport", [])
    return covers_bucket_and_objects and [v.lower() for v in secure] == ["false"]


def tls_result(statements: list[Statement]) -> CheckResult:
    if any(denies_insecure_transport(s) for s in statements):
        return CheckResult.PASSED
    return CheckResult.FAILED


def is_bucket_policy_document(statements: list[Statement]) -> bool:
    all_actions = [a for s in statements for a in actions(s)]
    return (
        any(has_principal(s) for s in statements)
        and bool(all_actions)
        and all(a.lower().startswith("s3:") for a in all_actions)
    )


class BucketPolicyTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_10",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        policy = parse_policy(conf.get("policy"))
        if policy is None:
            # A document reference is checked as a data source below; any other
            # policy we cannot read fails closed rather than passing unseen.
            opaque = is_reference(first(conf, "policy"))
            return CheckResult.UNKNOWN if opaque else CheckResult.FAILED
        return tls_result(policy_statements(policy))


class BucketPolicyTlsDocument(BaseDataCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_10",
            categories=[CheckCategories.NETWORKING],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf: Mapping[str, Any]) -> CheckResult:
        statements = document_statements(conf)
        if not is_bucket_policy_document(statements):
            return CheckResult.UNKNOWN
        return tls_result(statements)


check = BucketPolicyTls()
data_check = BucketPolicyTlsDocument()
