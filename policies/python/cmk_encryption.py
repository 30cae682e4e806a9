"""CKV_SUP_1: data at rest is encrypted with a customer-managed KMS key.

Built-ins check these types one by one and several accept the AWS-managed
key (alias/aws/sns, aws/dynamodb by default, ECR "KMS" without a key) or do
not cover the type at all (Pipes, Step Functions). One rule keeps the whole
platform on our per-environment key, whose policy we control.
S3 buckets are covered by CKV_SUP_2 (the key lives on a separate resource).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import block, first, is_set, is_true


def _customer_key(value: Any) -> bool:
    """Set, and not an AWS-managed alias such as alias/aws/sqs."""
    return is_set(value) and "alias/aws/" not in str(value)


def _dynamodb(conf: Mapping[str, Any]) -> bool:
    sse = block(conf, "server_side_encryption") or {}
    return is_true(sse.get("enabled")) and _customer_key(sse.get("kms_key_arn"))


def _state_machine(conf: Mapping[str, Any]) -> bool:
    enc = block(conf, "encryption_configuration") or {}
    return first(enc, "type") == "CUSTOMER_MANAGED_KMS_KEY" and _customer_key(enc.get("kms_key_id"))


def _ecr(conf: Mapping[str, Any]) -> bool:
    enc = block(conf, "encryption_configuration") or {}
    return first(enc, "encryption_type") in ("KMS", "KMS_DSSE") and _customer_key(
        enc.get("kms_key")
    )


def _attribute(name: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda conf: _customer_key(first(conf, name))


_RULES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "aws_dynamodb_table": _dynamodb,
    "aws_cloudwatch_log_group": _attribute("kms_key_id"),
    "aws_sqs_queue": _attribute("kms_master_key_id"),
    "aws_sns_topic": _attribute("kms_master_key_id"),
    "aws_sfn_state_machine": _state_machine,
    "aws_pipes_pipe": _attribute("kms_key_identifier"),
    # A bus without a key uses an AWS-owned one.
    "aws_cloudwatch_event_bus": _attribute("kms_key_identifier"),
    "aws_ecr_repository": _ecr,
}


class CustomerManagedKeyEncryption(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure data at rest is encrypted with a customer-managed KMS key",
            id="CKV_SUP_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=list(_RULES),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        rule = _RULES[self.entity_type]
        return CheckResult.PASSED if rule(conf) else CheckResult.FAILED


check = CustomerManagedKeyEncryption()
