"""CKV_SUP_9: every AWS provider tags every resource with project, environment, owner.

Checkov's graph does not propagate a provider's `default_tags` into the
resources' `tags`, so a per-resource tag rule would either fail everything
or force duplicated tags. Resources get their tags from the provider, so
the provider configuration (aliases included) is where the rule holds.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from sup_common import block, first, is_set

REQUIRED_TAGS = ("project", "environment", "owner")


class ProviderDefaultTags(BaseProviderCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every AWS provider sets default_tags project, environment and owner",
            id="CKV_SUP_9",
            categories=[CheckCategories.CONVENTION],
            supported_provider=["aws"],
        )

    def scan_provider_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        default_tags = block(conf, "default_tags") or {}
        tags = first(default_tags, "tags")
        if not isinstance(tags, dict):
            return CheckResult.FAILED
        ok = all(is_set(tags.get(key)) for key in REQUIRED_TAGS)
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = ProviderDefaultTags()
