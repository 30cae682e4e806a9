"""The arithmetic: each limit's utilisation (demand / capacity) at an upload rate.

Pure functions of the deployed Config, the assumptions (ModelInputs, the size
Mix), the Quotas and the cost model's per-upload calls. A limit is a row of
LIMITS: what one upload asks of it, what it can give, and what lifts it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tests.perf.cost.model import Calls, calls
from tests.perf.cost.model import Inputs as CostInputs

WRITE_UNIT_BYTES = 1024
EXPRESS = "EXPRESS"


@dataclass(frozen=True)
class Config:
    """The deployed settings that bound throughput (config.py reads them)."""

    region: str
    api_rate_limit: float  # services/template.yaml ThrottlingRateLimit
    api_reserved_concurrency: float  # UploadApiReservedConcurrency
    processor_reserved_concurrency: float  # ProcessorReservedConcurrency
    pipe_batch_size: float  # modules/platform pipe_batch_size
    pipe_parallelization: float  # modules/pipeline/pipe.tf parallelization_factor
    pipe_polls_per_second: float  # GetRecords polls per shard (the cost model's input)
    state_machine_type: str  # STANDARD or EXPRESS
    bucket_keys: bool


@dataclass(frozen=True)
class ModelInputs:
    """inputs.toml [model]: each has its reason there."""

    status_polls_per_upload: float
    uploads_per_authentication: float
    busiest_user_share: float
    start_execution_ms: float
    kms_requests_per_upload_with_bucket_keys: float


@dataclass(frozen=True)
class Quotas:
    """quotas.toml: AWS's defaults, each with its unit and source there."""

    api_account_rps: float
    lambda_concurrent_executions: float
    lambda_scaling_per_10s: float
    dynamodb_partition_wcu: float
    dynamodb_table_wcu: float
    dynamodb_initial_partitions: float
    s3_prefix_writes: float
    s3_prefix_reads: float
    sfn_standard_start_execution: float
    sfn_standard_transitions: float
    sfn_express_start_execution: float
    kms_symmetric_rps: float
    cognito_user_authentication_rps: float


@dataclass(frozen=True)
class Mix:
    label: str
    bytes: int
    share: float  # weights; the model divides by their sum


@dataclass(frozen=True)
class PerUpload:
    """What one upload, averaged over the size mix, asks of each service."""

    api_requests: float
    api_busy_s: float  # upload-API function time (concurrency = rate x time)
    processor_busy_s: float
    processor_retries: float  # verdict checks before the final call: transitions too
    s3_writes: float
    s3_reads: float
    kms_without_bucket_keys: float
    table_write_units: float  # files table
    owner_index_write_units: float  # the owner's partition of the owner index
    usage_write_units: float  # the owner's usage item


@dataclass(frozen=True)
class Model:
    config: Config
    inputs: ModelInputs
    quotas: Quotas
    per_upload: PerUpload
    transitions_per_execution: float
    transitions_per_record: float


@dataclass(frozen=True)
class Load:
    uploads_per_s: float
    per_user_per_s: float  # the busiest user's share of it (all of it for one user)


def aggregate(uploads_per_s: float, inputs: ModelInputs) -> Load:
    return Load(uploads_per_s, uploads_per_s * inputs.busiest_user_share)


def one_user(uploads_per_s: float) -> Load:
    return Load(uploads_per_s, uploads_per_s)


def per_upload(mix: Iterable[Mix], cost: CostInputs, inputs: ModelInputs) -> PerUpload:
    """The mix's weighted mean of the cost model's calls, plus what the client adds."""
    entries = list(mix)
    total = sum(entry.share for entry in entries)
    item_units = math.ceil(cost.file_item_bytes / WRITE_UNIT_BYTES)

    def mean(value: Callable[[Calls], float]) -> float:
        return sum(entry.share * value(calls(entry.bytes, cost)) for entry in entries) / total

    polls = inputs.status_polls_per_upload
    return PerUpload(
        api_requests=mean(lambda c: c.http_requests) + polls,
        api_busy_s=(mean(lambda c: sum(c.api_ms)) + polls * cost.api_call_ms) / 1000,
        processor_busy_s=mean(lambda c: sum(c.processor_ms)) / 1000,
        processor_retries=mean(lambda c: len(c.processor_ms) - 1),
        s3_writes=mean(lambda c: c.s3_put),
        s3_reads=mean(lambda c: c.s3_get),
        kms_without_bucket_keys=mean(lambda c: c.kms_without_bucket_keys),
        # The item's transactional put (2 units per KB) and the outcome's update.
        table_write_units=3 * item_units,
        # The owner index copies both writes (projection ALL), all under one key.
        owner_index_write_units=2 * item_units,
        # A transactional update of the owner's usage item (2 units): once for a
        # JSON upload, twice for a direct one (the reservation, then completion).
        usage_write_units=mean(lambda c: 2.0 if c.route == "JSON" else 4.0),
    )


# ------------------------------------------------------------------ the limits


def shards(model: Model, load: Load) -> float:
    """Stream shards: one per partition, at least a new table's, at most 1,000 WCU each."""
    written = load.uploads_per_s * model.per_upload.table_write_units
    return max(
        model.quotas.dynamodb_initial_partitions,
        math.ceil(written / model.quotas.dynamodb_partition_wcu),
    )


def records_per_execution(model: Model, load: Load) -> float:
    """What one poll of a shard finds, at least one record, at most a batch."""
    per_poll = load.uploads_per_s / shards(model, load) / model.config.pipe_polls_per_second
    return min(model.config.pipe_batch_size, max(1.0, per_poll))


def executions_per_s(model: Model, load: Load) -> float:
    return load.uploads_per_s / records_per_execution(model, load)


def _express(model: Model) -> bool:
    return model.config.state_machine_type == EXPRESS


def _api_stage(m: Model, load: Load) -> float:
    return load.uploads_per_s * m.per_upload.api_requests / m.config.api_rate_limit


def _api_account(m: Model, load: Load) -> float:
    return load.uploads_per_s * m.per_upload.api_requests / m.quotas.api_account_rps


def _api_reserved(m: Model, load: Load) -> float:
    return load.uploads_per_s * m.per_upload.api_busy_s / m.config.api_reserved_concurrency


def _processor_reserved(m: Model, load: Load) -> float:
    busy = load.uploads_per_s * m.per_upload.processor_busy_s
    return busy / m.config.processor_reserved_concurrency


def _account_concurrency(m: Model, load: Load) -> float:
    busy = m.per_upload.api_busy_s + m.per_upload.processor_busy_s
    return load.uploads_per_s * busy / m.quotas.lambda_concurrent_executions


def _scaling(m: Model, load: Load) -> float:
    # A step from idle to this load: environments one function needs at once.
    busiest = max(m.per_upload.api_busy_s, m.per_upload.processor_busy_s)
    return load.uploads_per_s * busiest / m.quotas.lambda_scaling_per_10s


def _table_writes(m: Model, load: Load) -> float:
    return load.uploads_per_s * m.per_upload.table_write_units / m.quotas.dynamodb_table_wcu


def _owner_index(m: Model, load: Load) -> float:
    written = load.per_user_per_s * m.per_upload.owner_index_write_units
    return written / m.quotas.dynamodb_partition_wcu


def _usage_item(m: Model, load: Load) -> float:
    return load.per_user_per_s * m.per_upload.usage_write_units / m.quotas.dynamodb_partition_wcu


def _s3_writes(m: Model, load: Load) -> float:
    return load.per_user_per_s * m.per_upload.s3_writes / m.quotas.s3_prefix_writes


def _s3_reads(m: Model, load: Load) -> float:
    return load.per_user_per_s * m.per_upload.s3_reads / m.quotas.s3_prefix_reads


def _pipe(m: Model, load: Load) -> float:
    # Each shard hands one batch at a time (per parallelization) to StartExecution.
    per_shard = m.config.pipe_parallelization * m.config.pipe_batch_size
    records_per_s = shards(m, load) * per_shard * 1000 / m.inputs.start_execution_ms
    return load.uploads_per_s / records_per_s


def _start_execution(m: Model, load: Load) -> float:
    quota = (
        m.quotas.sfn_express_start_execution
        if _express(m)
        else m.quotas.sfn_standard_start_execution
    )
    return executions_per_s(m, load) / quota


def _transitions(m: Model, load: Load) -> float:
    if _express(m):
        return 0.0  # Express workflows have no state-transition quota
    # Every state entered, and every retry, is a transition.
    per_upload = (
        m.transitions_per_execution / records_per_execution(m, load)
        + m.transitions_per_record
        + m.per_upload.processor_retries
    )
    return load.uploads_per_s * per_upload / m.quotas.sfn_standard_transitions


def _kms(m: Model, load: Load) -> float:
    per_upload = (
        m.inputs.kms_requests_per_upload_with_bucket_keys
        if m.config.bucket_keys
        else m.per_upload.kms_without_bucket_keys
    )
    return load.uploads_per_s * per_upload / m.quotas.kms_symmetric_rps


def _cognito(m: Model, load: Load) -> float:
    per_s = load.uploads_per_s / m.inputs.uploads_per_authentication
    return per_s / m.quotas.cognito_user_authentication_rps


@dataclass(frozen=True)
class Limit:
    key: str
    name: str
    utilisation: Callable[[Model, Load], float]
    lift: str  # our setting (file and variable) or the quota increase (Service Quotas name)
    alarm: str | None  # the CloudWatch metric ("namespace metric") that shows it is reached


LIMITS = (
    Limit(
        "api_stage_throttle",
        "API Gateway stage throttle (ours)",
        _api_stage,
        "ThrottlingRateLimit (and ThrottlingBurstLimit) in services/template.yaml",
        "SecureUpload ApiThrottled",
    ),
    Limit(
        "api_account_throttle",
        "API Gateway account throttle",
        _api_account,
        "quota increase: Throttle rate (API Gateway)",
        "SecureUpload ApiThrottled",
    ),
    Limit(
        "lambda_api_reserved",
        "Upload API reserved concurrency (ours)",
        _api_reserved,
        "UploadApiReservedConcurrency in services/template.yaml",
        "AWS/Lambda Throttles",
    ),
    Limit(
        "lambda_processor_reserved",
        "Processor reserved concurrency (ours)",
        _processor_reserved,
        "ProcessorReservedConcurrency in services/template.yaml (and the Map's "
        "map_concurrency in modules/pipeline/main.tf)",
        "AWS/Lambda Throttles",
    ),
    Limit(
        "lambda_account_concurrency",
        "Lambda account concurrency",
        _account_concurrency,
        "quota increase: Concurrent executions (Lambda)",
        "AWS/Lambda ConcurrentExecutions",
    ),
    Limit(
        "lambda_scaling_rate",
        "Lambda scaling rate (a step from idle)",
        _scaling,
        "none (fixed): ramp up over minutes, or provisioned concurrency",
        "AWS/Lambda Throttles",
    ),
    Limit(
        "dynamodb_table_writes",
        "DynamoDB files table writes",
        _table_writes,
        "quota increase: Table-level write throughput limit (DynamoDB)",
        "AWS/DynamoDB WriteThrottleEvents",
    ),
    Limit(
        "dynamodb_owner_index_partition",
        "DynamoDB owner index, one user's partition",
        _owner_index,
        "none (1,000 WCU per partition is fixed): spread the index key "
        "(owner_index in the data contract)",
        "AWS/DynamoDB WriteThrottleEvents",
    ),
    Limit(
        "dynamodb_usage_item",
        "DynamoDB usage counter, one user's item",
        _usage_item,
        "none (1,000 WCU per item is fixed): count usage in several items per user",
        "AWS/DynamoDB WriteThrottleEvents",
    ),
    Limit(
        "s3_prefix_writes",
        "S3 writes, one user's prefix",
        _s3_writes,
        "none (S3 splits a busy prefix itself within minutes; 503 SlowDown meanwhile)",
        "AWS/S3 5xxErrors",
    ),
    Limit(
        "s3_prefix_reads",
        "S3 reads, one user's prefix",
        _s3_reads,
        "none (S3 splits a busy prefix itself within minutes; 503 SlowDown meanwhile)",
        "AWS/S3 5xxErrors",
    ),
    Limit(
        "pipe_shard_throughput",
        "Pipe, records per stream shard",
        _pipe,
        "parallelization_factor in modules/pipeline/pipe.tf (unset: 1, up to 10) "
        "and pipe_batch_size (modules/platform)",
        None,  # Pipes publishes no iterator age for a stream source
    ),
    Limit(
        "sfn_start_execution",
        "Step Functions StartExecution",
        _start_execution,
        "pipe_batch_size (fewer executions), state_machine_type EXPRESS "
        "(environments/prod), or quota increase: StartExecution throttle token refill rate",
        "AWS/States ExecutionThrottled",
    ),
    Limit(
        "sfn_state_transitions",
        "Step Functions state transitions",
        _transitions,
        "state_machine_type EXPRESS (environments/prod), or quota increase: "
        "StateTransition throttle token refill rate",
        "AWS/States ExecutionThrottled",
    ),
    Limit(
        "kms_requests",
        "KMS symmetric requests",
        _kms,
        "Bucket Keys (bucket_key_enabled, modules/secure-bucket), or quota increase: "
        "Cryptographic operations (symmetric) request rate",
        "AWS/Usage CallCount",
    ),
    Limit(
        "cognito_user_authentication",
        "Cognito UserAuthentication",
        _cognito,
        "quota increase: Rate of UserAuthentication requests (Cognito)",
        "AWS/Cognito ThrottleCount",
    ),
)
BY_KEY = {limit.key: limit for limit in LIMITS}


def utilisations(model: Model, load: Load) -> dict[str, float]:
    return {limit.key: limit.utilisation(model, load) for limit in LIMITS}


def first_to_saturate(model: Model, load: Load) -> tuple[str, float]:
    ranked = utilisations(model, load)
    key = max(ranked, key=lambda k: ranked[k])
    return key, ranked[key]


def headroom(
    model: Model, key: str, scenario: Callable[[float], Load], ceiling: float = 1e7
) -> float | None:
    """The upload rate at which the limit reaches 100 % (None: not below `ceiling`).

    Bisection on a log scale: utilisation grows with load (in steps where shards
    are added), so the first crossing is what matters."""
    limit = BY_KEY[key]
    if limit.utilisation(model, scenario(ceiling)) < 1:
        return None
    low, high = 1e-3, ceiling
    for _ in range(100):
        middle = math.sqrt(low * high)
        if limit.utilisation(model, scenario(middle)) >= 1:
            high = middle
        else:
            low = middle
    return high
