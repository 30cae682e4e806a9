"""CKV_SUP_8: every state machine logs ALL or ERROR to a log group and traces with X-Ray.

Built-ins CKV_AWS_284/285 accept a logging block at level FATAL and do not
require a destination; incident response needs every failed execution. The
destination must be ARN-shaped: a log-group ARN, a log group's `arn`
(optionally with `:*`), or a reference checkov cannot render (var, local,
module). "" or free text fails. Python rather than YAML: YAML value
conditions turn UNKNOWN on the interpolated `${...arn}:*` every real
destination uses.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import block, first, is_true, normalise_expression

NAME = "Ensure every state machine logs at level ALL or ERROR to a log group and traces with X-Ray"
LEVELS = frozenset({"ALL", "ERROR"})
_DESTINATION = re.compile(
    r"^(arn:[^:]+:logs:[^:]+:[^:]+:log-group:[^:*]+(:\*)?"
    r"|aws_cloudwatch_log_group\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.arn(:\*)?"
    r"|(var|local|module)\.[A-Za-z0-9_.\[\]\"-]+)$"
)


def log_destination_ok(value: Any) -> bool:
    return value is not None and _DESTINATION.match(normalise_expression(value)) is not None


class StateMachineLogging(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CKV_SUP_8",
            categories=[CheckCategories.LOGGING],
            supported_resources=["aws_sfn_state_machine"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        logging = block(conf, "logging_configuration") or {}
        tracing = block(conf, "tracing_configuration") or {}
        ok = (
            str(first(logging, "level")) in LEVELS
            and log_destination_ok(first(logging, "log_destination"))
            and is_true(tracing.get("enabled"))
        )
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = StateMachineLogging()
