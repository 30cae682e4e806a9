"""CKV_SUP_12: no AWS managed policy is attached to an IAM identity.

CKV_SUP_3 and CKV_SUP_4 read the policies we write; an attachment of an AWS
managed policy (`arn:<partition>:iam::aws:policy/...`, e.g.
AdministratorAccess) grants what AWS put in it, unseen by either. Attach
customer-managed policies (`aws_iam_policy.x.arn`) or write inline policies.
An ARN we cannot see (a variable, a data source, a module output) fails
closed. A deliberate exception is waived next to the attachment with a reason.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import as_list, normalise_expression

_ATTRIBUTES = {
    "aws_iam_role_policy_attachment": "policy_arn",
    "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn",
    "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns",
    "aws_iam_role_policy_attachments_exclusive": "policy_arns",
    "aws_iam_user_policy_attachments_exclusive": "policy_arns",
    "aws_iam_group_policy_attachments_exclusive": "policy_arns",
}
_AWS_MANAGED = re.compile(r"^arn:[^:]*:iam::aws:policy/", re.IGNORECASE)
_CUSTOMER_ARN = re.compile(r"^arn:[^:]*:iam::[0-9]{12}:policy/", re.IGNORECASE)
_OWN_POLICY = re.compile(r"^aws_iam_policy\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.(arn|id)$")


def customer_managed(value: Any) -> bool:
    text = normalise_expression(value)
    if _AWS_MANAGED.match(text):
        return False
    return bool(_CUSTOMER_ARN.match(text) or _OWN_POLICY.match(text))


class NoAwsManagedPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure no AWS managed policy is attached to an IAM role, user or group",
            id="CKV_SUP_12",
            categories=[CheckCategories.IAM],
            supported_resources=list(_ATTRIBUTES),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        attribute = _ATTRIBUTES[self.entity_type]
        if attribute not in conf:
            # Only aws_iam_role may omit it (no managed policies at all).
            return CheckResult.UNKNOWN if self.entity_type == "aws_iam_role" else CheckResult.FAILED
        arns = as_list(conf[attribute])
        if self.entity_type == "aws_iam_role" and not arns:
            return CheckResult.PASSED
        ok = bool(arns) and all(customer_managed(arn) for arn in arns)
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = NoAwsManagedPolicy()
