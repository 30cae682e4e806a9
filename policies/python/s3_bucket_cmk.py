"""CKV_SUP_2: every S3 bucket's default encryption uses a customer-managed KMS key.

Built-in CKV_AWS_145 accepts `aws:kms` without a key id, which silently means
the AWS-managed aws/s3 key (no key policy of ours, no per-env separation);
naming that key (`alias/aws/s3`, by alias or alias ARN) is no better.

The key lives on a separate aws_s3_bucket_server_side_encryption_configuration,
found in checkov's graph in the bucket's module by its `bucket` attribute
(`aws_s3_bucket.b.id`/`.bucket` or the literal name). A Python check rather
than YAML: YAML value conditions turn UNKNOWN on any unrendered reference
(`kms_master_key_id = var.kms_key_arn`), which is every real key.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    as_list,
    first,
    graph_blocks,
    is_set,
    module_prefix,
    normalise_expression,
    reference_target,
    unwrap,
)

SSE_TYPE = "aws_s3_bucket_server_side_encryption_configuration"
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})


def customer_key(value: Any) -> bool:
    return is_set(value) and "alias/aws/" not in normalise_expression(value)


def rule_uses_customer_key(rule: Any) -> bool:
    if not isinstance(rule, dict):
        return False
    default = unwrap(rule.get("apply_server_side_encryption_by_default"))
    if not isinstance(default, dict):
        return False
    algorithm = str(unwrap(default.get("sse_algorithm")))
    return algorithm in KMS_ALGORITHMS and customer_key(default.get("kms_master_key_id"))


def _targets_bucket(value: Any, address: str, name: str | None) -> bool:
    target = reference_target(value)
    if target is not None:
        return target == address
    return name is not None and normalise_expression(value) == name


class BucketCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every S3 bucket's default encryption uses a customer-managed KMS key",
            id="CKV_SUP_2",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        full = str(conf.get("__address__", ""))
        prefix = module_prefix(full, "aws_s3_bucket")
        own = full[len(prefix) :]
        name = normalise_expression(first(conf, "bucket")) if "bucket" in conf else None
        configs = [
            attrs
            for attrs in graph_blocks(self.graph)
            if attrs.get("resource_type") == SSE_TYPE
            and str(attrs.get("__address__", "")).startswith(prefix)
            and str(attrs.get("__address__", ""))[len(prefix) :].count(".") == 1
            and _targets_bucket(attrs.get("bucket"), own, name)
        ]
        if not configs:
            return CheckResult.FAILED
        for attrs in configs:
            config = (attrs.get("config_") or {}).get(SSE_TYPE) or {}
            for sse in config.values():
                rules = as_list(sse.get("rule")) if isinstance(sse, dict) else []
                if not rules or not all(rule_uses_customer_key(r) for r in rules):
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = BucketCustomerManagedKey()
