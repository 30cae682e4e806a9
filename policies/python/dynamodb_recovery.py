"""CKV_SUP_6: tables keep point-in-time recovery and decide deletion protection.

Built-in CKV_AWS_28 covers PITR alone. The metadata table is the only index
of stored files, so we also require `deletion_protection_enabled` to be set
explicitly (each environment decides in its tfvars) and true for prod, which
the contract's naming (`<project>-prod-...`) identifies.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import block, first, is_set, is_true

_PROD_NAME = re.compile(r"(^|-)prod(-|$)")


class TableRecovery(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure DynamoDB tables have PITR and explicit deletion protection (on in prod)",
            id="CKV_SUP_6",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_dynamodb_table"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        pitr = block(conf, "point_in_time_recovery") or {}
        if not is_true(pitr.get("enabled")):
            return CheckResult.FAILED
        protection = first(conf, "deletion_protection_enabled")
        if not is_set(protection):
            return CheckResult.FAILED
        if _PROD_NAME.search(str(first(conf, "name"))) and not is_true(protection):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = TableRecovery()
