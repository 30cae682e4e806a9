"""CKV_SUP_6: tables keep point-in-time recovery and decide deletion protection.

Built-in CKV_AWS_28 covers PITR alone. The metadata table is the only index
of stored files, so we also require `deletion_protection_enabled` to be set
explicitly (each environment decides in its tfvars) and true for prod.

A table is prod when its `environment` tag (in `tags` or `tags_all`) is
`prod`/`production`, or when its name has `prod` or `production` as a whole
word between separators (`secure-upload-prod-files`, `app_production.files`,
case-insensitive; not `products`). Either one suffices. Provider
default_tags do not reach the graph, and where checkov cannot render the
name (a module variable) neither signal is visible: tests of the prod tfvars
must hold the line there.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import block, first, is_set, is_true, unwrap

_PROD_WORD = re.compile(r"(^|[-_./:\s])(prod|production)($|[-_./:\s])", re.IGNORECASE)
_PROD_TAG = frozenset({"prod", "production"})


def is_prod(conf: dict[str, list[Any]]) -> bool:
    for key in ("tags", "tags_all"):
        tags = first(conf, key)
        if isinstance(tags, dict):
            value = str(unwrap(tags.get("environment", ""))).strip().lower()
            if value in _PROD_TAG:
                return True
    return _PROD_WORD.search(str(first(conf, "name") or "")) is not None


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
        if is_prod(conf) and not is_true(protection):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = TableRecovery()
