"""CKV_SUP_10: bucket policies deny every request to their bucket that is not over TLS.

Built-in CKV_AWS_379 looks at ACLs, not at the policy. The check runs on each
aws_s3_bucket_policy and reads the policy it attaches: inline JSON
(jsonencode or heredoc) or the connected `data.aws_iam_policy_document`,
found in checkov's graph in the same module. Anything else (a module output,
a variable, a document we cannot find) fails closed.

Passing needs Deny statements for every principal, on `s3:*` (or `*`), with
`Bool aws:SecureTransport = false`, that together name exactly this policy's
bucket ARN and that ARN + `/*`. A deny on another bucket's ARNs or on an
object prefix (`<bucket>/uploads/*`) does not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    as_str_list,
    attached_statements,
    conditions,
    find_block,
    first,
    graph_blocks,
    module_prefix,
    normalise_expression,
    reference_target,
    resources,
)

NAME = "Ensure S3 bucket policies deny requests to their bucket that do not use TLS"
_S3_ARN = re.compile(r"^arn:[^:]+:s3:::(?P<name>[^/]+)$")


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_str_list(ids) for ids in principal.values())
    return False


def is_tls_deny(statement: Statement) -> bool:
    """Deny, every principal, every S3 action, only when the request is not over TLS."""
    if str(statement.get("Effect", "")).lower() != "deny" or "NotPrincipal" in statement:
        return False
    if not _everyone(statement.get("Principal")):
        return False
    if not {"s3:*", "*"} & {a.lower() for a in actions(statement)}:
        return False
    secure = conditions(statement).get("Bool", {}).get("aws:securetransport", [])
    return [v.lower() for v in secure] == ["false"]


def bucket_arns(bucket: Any, graph: Any, prefix: str) -> set[str]:
    """Spellings of the bucket's ARN: the reference (`aws_s3_bucket.b.arn`) and literal names."""
    names: set[str] = set()
    target = reference_target(bucket)
    arns: set[str] = set()
    if target is not None and target.startswith("aws_s3_bucket."):
        arns.add(f"{target}.arn")
        bucket_conf = find_block(graph, "resource", prefix + target)
        if bucket_conf is not None and first(bucket_conf, "bucket") is not None:
            names.add(normalise_expression(first(bucket_conf, "bucket")))
    elif bucket is not None:
        names.add(normalise_expression(bucket))
        # checkov may have rendered `aws_s3_bucket.b.bucket` to the literal name.
        for attrs in graph_blocks(graph):
            address = str(attrs.get("__address__", ""))
            if (
                attrs.get("resource_type") == "aws_s3_bucket"
                and address.startswith(prefix)
                and normalise_expression(attrs.get("bucket")) in names
            ):
                arns.add(f"{address[len(prefix) :]}.arn")
    return arns | {f"arn:*:s3:::{name}" for name in names if name}


def _matches(arn: str, wanted: set[str], suffix: str) -> bool:
    text = normalise_expression(arn)
    if not text.endswith(suffix):
        return False
    base = text[: len(text) - len(suffix)] if suffix else text
    literal = _S3_ARN.match(base)
    if literal:
        base = f"arn:*:s3:::{literal['name']}"
    return base in wanted


def tls_result(statements: list[Statement], wanted: set[str]) -> CheckResult:
    if not wanted:
        return CheckResult.FAILED  # the bucket cannot be identified: fail closed
    denied = [r for s in statements if is_tls_deny(s) for r in resources(s)]
    bucket = any(_matches(r, wanted, "") for r in denied)
    objects = any(_matches(r, wanted, "/*") for r in denied)
    return CheckResult.PASSED if bucket and objects else CheckResult.FAILED


class BucketPolicyTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_10",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        prefix = module_prefix(str(conf.get("__address__", "")), "aws_s3_bucket_policy")
        statements = attached_statements(self.graph, conf, "policy", "aws_s3_bucket_policy")
        if statements is None:
            return CheckResult.FAILED  # unreadable policy: fail closed
        return tls_result(statements, bucket_arns(first(conf, "bucket"), self.graph, prefix))


check = BucketPolicyTls()
