"""The arithmetic: what one upload of a given size costs, line by line.

Pure functions of Inputs and Prices (cost/repo.py reads both); counts follow
the code paths of services/upload_api and services/processor, and each count
says which call it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from upload_api.direct_plan import SINGLE, UploadPlan, plan_upload

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
# DynamoDB's units: 1 KB written, 4 KB read (strongly consistent).
WRITE_UNIT_BYTES = 1024
HTTP_API_METERING_BYTES = 512 * KIB
EVENT_CHUNK_BYTES = 64 * KIB
EXPRESS_BILLING_MS = 100
DAYS_PER_MONTH = 30
JSON = "JSON"


@dataclass(frozen=True)
class Prices:
    """USD per unit; the units are in prices.toml."""

    http_api_request: float
    lambda_request: float
    lambda_x86_gb_second: float
    lambda_arm_gb_second: float
    s3_put_request: float
    s3_get_request: float
    s3_storage_gb_month: float
    dynamodb_write_unit: float
    dynamodb_read_unit: float
    dynamodb_stream_read: float
    pipes_request: float
    eventbridge_custom_event: float
    sfn_standard_transition: float
    sfn_express_request: float
    sfn_express_gb_second: float
    kms_request: float
    guardduty_s3_gb: float
    guardduty_s3_object: float
    logs_ingestion_gb: float
    logs_storage_gb_month: float


@dataclass(frozen=True)
class Inputs:
    """Configuration read from the repository, then the assumptions of inputs.toml."""

    # services/template.yaml
    api_memory_mb: int
    processor_memory_mb: int
    architecture: str  # x86_64 or arm64
    json_max_bytes: int  # MAX_UPLOAD_BYTES: larger files go through a direct upload
    # services/upload_api (config defaults)
    single_put_max_bytes: int
    part_bytes: int
    direct_max_bytes: int
    # tests/perf/results/bench.json: median of POST /upload by file size, and of a
    # small API call (the 100 KiB upload's median)
    json_upload_ms: Mapping[int, float]
    api_call_ms: float
    # Terraform: environments/prod, modules/pipeline, modules/secure-bucket
    state_machine_type: str  # STANDARD or EXPRESS
    transitions_per_execution: int
    transitions_per_record: int
    scan_waits_s: tuple[float, ...]  # the Retry schedule while a verdict is missing
    sfn_log_level: str  # ERROR or ALL
    log_retention_days: int
    bucket_keys: bool
    guardduty: bool
    # inputs.toml
    processor_fixed_ms: float
    processor_verdict_check_ms: float
    processor_stream_mb_per_s: float
    multipart_complete_ms: float
    malware_scan_fixed_s: float
    malware_scan_mb_per_s: float
    json_envelope_bytes: int
    file_item_bytes: int
    pending_record_bytes: int
    stream_record_bytes: int
    stream_reads_per_upload: float
    records_per_execution: float
    express_memory_mb: int
    express_overhead_ms: float
    api_log_bytes: int
    processor_log_bytes: int
    access_log_bytes: int
    sfn_all_log_bytes_per_execution: int


@dataclass(frozen=True)
class Calls:
    """What one upload makes each service do."""

    route: str  # JSON, PUT (one presigned PUT) or MULTIPART
    http_requests: int  # requests the client sends to the API
    http_billed: int  # the same, metered in 512 KB increments
    api_ms: tuple[float, ...]  # one duration per upload-API invocation
    processor_ms: tuple[float, ...]  # one duration per processor invocation
    scan_wait_s: float  # time the execution waits for the malware verdict
    s3_put: int
    s3_get: int
    write_units: int
    read_units: int
    kms_without_bucket_keys: int


def direct_plan(size: int, inputs: Inputs) -> UploadPlan:
    """The API's own plan for a direct upload: one PUT, or parts of its part size."""
    return plan_upload(
        size,
        single_put_max_bytes=inputs.single_put_max_bytes,
        part_bytes=inputs.part_bytes,
        max_bytes=inputs.direct_max_bytes,
    )


def route(size: int, inputs: Inputs) -> str:
    """JSON (POST /upload) up to MAX_UPLOAD_BYTES, else the direct plan's method."""
    return JSON if size <= inputs.json_max_bytes else direct_plan(size, inputs).method


def calls(size: int, inputs: Inputs) -> Calls:
    item = math.ceil(inputs.file_item_bytes / WRITE_UNIT_BYTES)
    pending = math.ceil(inputs.pending_record_bytes / WRITE_UNIT_BYTES)
    how = route(size, inputs)
    if how == JSON:
        body = 4 * math.ceil(size / 3) + inputs.json_envelope_bytes
        http_requests, http_billed = 1, math.ceil(body / HTTP_API_METERING_BYTES)
        # The upload; then the object-created event, which finds no pending upload.
        api_ms: tuple[float, ...] = (inputs.json_upload_ms[size], inputs.api_call_ms)
        s3_put, s3_get = 1, 0  # PutObject
        # One transaction: the file item and the owner's usage counter (2 units
        # per KB each), then the owner index's copy of the item (projection ALL).
        write_units = 2 * item + 2 + item
        read_units = 1  # the event's GetItem on the pending-uploads table
        kms = 1  # PutObject: GenerateDataKey
    else:
        plan = direct_plan(size, inputs)
        http_requests = http_billed = 2  # POST /uploads, POST .../complete
        # Start: PutItem of the pending record. Completion: one transaction (file
        # item, delete of the pending record, usage counter), the owner index.
        write_units = pending + 2 * item + 2 * pending + 2 + item
        if plan.method == SINGLE:
            # Start; the object-created event completes (ListObjectVersions, a
            # LIST-class request priced as a PUT, then the transaction); the
            # client's complete then finds the file.
            api_ms = (inputs.api_call_ms, inputs.api_call_ms, inputs.api_call_ms)
            s3_put, s3_get = 2, 0
            # Quota check at start, both signals' pending GetItem, complete's file GetItem.
            read_units = 4
            kms = 1
        else:
            # Start; complete (ListParts, CompleteMultipartUpload, transaction); the
            # object-created event then finds no pending upload.
            api_ms = (inputs.api_call_ms, inputs.multipart_complete_ms, inputs.api_call_ms)
            # CreateMultipartUpload, the part PUTs, ListParts, CompleteMultipartUpload.
            s3_put, s3_get = 1 + plan.part_count + 2, 0
            read_units = 3  # quota check, complete's and the event's pending GetItem
            # CreateMultipartUpload generates the data key; each part decrypts it.
            kms = 1 + plan.part_count

    waits = 0
    if inputs.guardduty:
        scan_s = inputs.malware_scan_fixed_s + size / 1e6 / inputs.malware_scan_mb_per_s
        waits = retries_until(scan_s, inputs.scan_waits_s)
        s3_put += 1  # GuardDuty's verdict tag (PutObjectTagging)
        s3_get += 1 + waits + 1  # GuardDuty's GET; each processor call's GetObjectTagging
        kms += 1  # GuardDuty's GET decrypts
    stream_ms = size / 1e6 / inputs.processor_stream_mb_per_s * 1000
    processor_ms = (inputs.processor_verdict_check_ms,) * waits + (
        inputs.processor_fixed_ms + stream_ms,
    )
    s3_get += 2  # the processor's HeadObject and GET
    kms += 1  # the processor's GET decrypts
    read_units += len(processor_ms)  # each processor call reads the item
    write_units += 2 * item  # the outcome's UpdateItem, and the owner index
    return Calls(
        route=how,
        http_requests=http_requests,
        http_billed=http_billed,
        api_ms=api_ms,
        processor_ms=processor_ms,
        scan_wait_s=sum(inputs.scan_waits_s[:waits]),
        s3_put=s3_put,
        s3_get=s3_get,
        write_units=write_units,
        read_units=read_units,
        kms_without_bucket_keys=kms,
    )


def retries_until(seconds: float, schedule: tuple[float, ...]) -> int:
    """Retries of the verdict check before `seconds` have passed (at most the schedule)."""
    waited = 0.0
    for done, wait in enumerate(schedule):
        if waited >= seconds:
            return done
        waited += wait
    return len(schedule)


def lambda_cost(
    memory_mb: int, durations_ms: tuple[float, ...], gb_second: float, request: float
) -> float:
    """Lambda bills each invocation, and its duration rounded up to the millisecond."""
    seconds = sum(math.ceil(ms) for ms in durations_ms) / 1000
    return len(durations_ms) * request + memory_mb / 1024 * seconds * gb_second


def costs(size: int, inputs: Inputs, prices: Prices) -> dict[str, float]:
    """USD that one upload of `size` bytes costs, by line (storage: its first month)."""
    c = calls(size, inputs)
    gb = size / GIB
    per_record = 1 / inputs.records_per_execution
    gb_second = (
        prices.lambda_arm_gb_second
        if inputs.architecture == "arm64"
        else prices.lambda_x86_gb_second
    )
    if inputs.state_machine_type == "EXPRESS":
        run_ms = sum(c.processor_ms) + c.scan_wait_s * 1000 + inputs.express_overhead_ms
        billed_s = math.ceil(run_ms / EXPRESS_BILLING_MS) * EXPRESS_BILLING_MS / 1000
        step_functions = per_record * (
            prices.sfn_express_request
            + inputs.express_memory_mb / 1024 * billed_s * prices.sfn_express_gb_second
        )
    else:
        # Every state entered, and every retry, is a transition.
        transitions = (
            inputs.transitions_per_execution * per_record
            + inputs.transitions_per_record
            + len(c.processor_ms)
            - 1
        )
        step_functions = transitions * prices.sfn_standard_transition
    log_bytes = (
        inputs.api_log_bytes * len(c.api_ms)
        + inputs.processor_log_bytes * len(c.processor_ms)
        + inputs.access_log_bytes * c.http_requests
        + (
            inputs.sfn_all_log_bytes_per_execution * per_record
            if inputs.sfn_log_level == "ALL"
            else 0
        )
    )
    log_months = inputs.log_retention_days / DAYS_PER_MONTH
    return {
        "API Gateway HTTP API": c.http_billed * prices.http_api_request,
        "Lambda: upload API": lambda_cost(
            inputs.api_memory_mb, c.api_ms, gb_second, prices.lambda_request
        ),
        "Lambda: processor": lambda_cost(
            inputs.processor_memory_mb, c.processor_ms, gb_second, prices.lambda_request
        ),
        "S3 requests": c.s3_put * prices.s3_put_request + c.s3_get * prices.s3_get_request,
        "S3 storage, first month": gb * prices.s3_storage_gb_month,
        "DynamoDB reads and writes": c.write_units * prices.dynamodb_write_unit
        + c.read_units * prices.dynamodb_read_unit,
        "DynamoDB stream reads": inputs.stream_reads_per_upload * prices.dynamodb_stream_read,
        "EventBridge Pipes": math.ceil(inputs.stream_record_bytes / EVENT_CHUNK_BYTES)
        * prices.pipes_request,
        "Step Functions": step_functions,
        "EventBridge outcome event": prices.eventbridge_custom_event,
        "KMS requests": 0.0
        if inputs.bucket_keys
        else c.kms_without_bucket_keys * prices.kms_request,
        "GuardDuty malware scan": (prices.guardduty_s3_object + gb * prices.guardduty_s3_gb)
        if inputs.guardduty
        else 0.0,
        "CloudWatch Logs": log_bytes
        / GIB
        * (prices.logs_ingestion_gb + log_months * prices.logs_storage_gb_month),
    }
