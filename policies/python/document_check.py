"""The `data "aws_iam_policy_document"` twin of a policy rule: same id, same decision.

checkov keeps resource and data checks in separate registries, so a rule that
reads IAM policies registers once per shape; this is the data-side half.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck


class PolicyDocumentCheck(BaseDataCheck):
    def __init__(
        self, check_id: str, name: str, decide: Callable[[Mapping[str, Any]], CheckResult]
    ) -> None:
        self.decide = decide
        super().__init__(
            name=name,
            id=check_id,
            categories=[CheckCategories.IAM],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf: Mapping[str, Any]) -> CheckResult:
        return self.decide(conf)
