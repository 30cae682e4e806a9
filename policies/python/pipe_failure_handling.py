"""CKV_SUP_7: stream-sourced Pipes cap retries and record age and have a DLQ.

For DynamoDB and Kinesis stream sources both caps default to infinite, so
one poison record blocks its shard for the stream's whole retention and is
then lost. No built-in covers aws_pipes_pipe. A Pipe without stream
parameters is treated as stream-sourced (fail closed): queue-sourced Pipes
must say so with `sqs_queue_parameters`, where the queue's redrive applies.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import block, first, is_set

# AWS limits: retries -1 (infinite) or 0..10000; age -1 (infinite) or 60..604800.
MAX_RETRIES = 10_000
MIN_AGE, MAX_AGE = 60, 604_800
_STREAMS = ("dynamodb_stream_parameters", "kinesis_stream_parameters")


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def stream_parameters_safe(params: dict[str, Any]) -> bool:
    dlq = block(params, "dead_letter_config") or {}
    retries = _int(first(params, "maximum_retry_attempts"))
    age = _int(first(params, "maximum_record_age_in_seconds"))
    return (
        is_set(dlq.get("arn"))
        and retries is not None
        and 0 <= retries <= MAX_RETRIES
        and age is not None
        and MIN_AGE <= age <= MAX_AGE
    )


class PipeFailureHandling(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure stream-sourced Pipes have a DLQ and finite retries and record age",
            id="CKV_SUP_7",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_pipes_pipe"],
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        source = block(conf, "source_parameters") or {}
        streams = [block(source, key) for key in _STREAMS if block(source, key) is not None]
        if not streams:
            if block(source, "sqs_queue_parameters") is not None:
                return CheckResult.PASSED
            return CheckResult.FAILED
        ok = all(stream_parameters_safe(params) for params in streams if params is not None)
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = PipeFailureHandling()
