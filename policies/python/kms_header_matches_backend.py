"""CKV_SUP_15: a bucket policy that pins the SSE-KMS key also accepts the key's alias ARN.

S3 compares `s3:x-amz-server-side-encryption-aws-kms-key-id` with the header
exactly as the client sent it, and IAM compares strings literally. Terraform's
S3 backend (`kms_key_id` in backend.tf) sends what it is configured with, the
alias ARN in this project; a policy listing only the key ARN refuses every
state write. So where the pinned key (`aws_kms_key.<name>.arn`) has an alias
in the same module, the Deny's values must list that alias's ARN as well.

Runs on aws_s3_bucket_policy (inline or the connected policy document). A
policy that pins no key of this module is UNKNOWN.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    attached_statements,
    conditions,
    graph_blocks,
    module_prefix,
    normalise_expression,
    reference_target,
)

NAME = "Ensure a bucket policy pinning a KMS key accepts the alias ARN the S3 backend sends"
HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
_KEY_ARN = re.compile(r"^aws_kms_key\.(?P<name>[A-Za-z0-9_-]+)\.arn$")
_ALIAS_ARN = re.compile(r"^aws_kms_alias\.(?P<name>[A-Za-z0-9_-]+)\.arn$")


def pinned_values(statements: list[Statement]) -> list[str]:
    values: list[str] = []
    for statement in statements:
        if str(statement.get("Effect", "")).lower() != "deny":
            continue
        if not any_action_matches(actions(statement), ("s3:PutObject",)):
            continue
        for operator, entries in conditions(statement).items():
            if operator.startswith("StringNotEquals") and HEADER in entries:
                values.extend(normalise_expression(v) for v in entries[HEADER])
    return values


class KmsHeaderMatchesBackend(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_15",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def _aliases_of(self, key: str, prefix: str) -> set[str]:
        """aws_kms_alias.<name>.arn of every alias in this module that targets aws_kms_key.<key>."""
        found: set[str] = set()
        for attrs in graph_blocks(self.graph):
            address = str(attrs.get("__address__", ""))
            if attrs.get("resource_type") != "aws_kms_alias" or not address.startswith(prefix):
                continue
            target = reference_target(attrs.get("target_key_id"))
            if target == f"aws_kms_key.{key}":
                found.add(f"{address[len(prefix) :]}.arn")
        return found

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        prefix = module_prefix(str(conf.get("__address__", "")), "aws_s3_bucket_policy")
        statements = attached_statements(self.graph, conf, "policy", "aws_s3_bucket_policy")
        if statements is None:
            return CheckResult.FAILED  # unreadable policy: fail closed
        values = pinned_values(statements)
        keys = {m["name"] for v in values if (m := _KEY_ARN.match(v))}
        if not keys:
            return CheckResult.UNKNOWN
        listed = {v for v in values if _ALIAS_ARN.match(v)}
        for key in keys:
            aliases = self._aliases_of(key, prefix)
            if aliases and not aliases & listed:
                return CheckResult.FAILED
        return CheckResult.PASSED


check = KmsHeaderMatchesBackend()
