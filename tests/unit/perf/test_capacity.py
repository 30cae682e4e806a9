"""The capacity model: one load point by hand, every input and quota moving a line,
the readers on the real repository, and an alarm on each leading limit."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import hcl2
import pytest

from tests.perf.capacity.config import ROOT, Loaded, load, pipe_parallelization, read_config
from tests.perf.capacity.model import (
    EXPRESS,
    LIMITS,
    Config,
    Load,
    Mix,
    Model,
    ModelInputs,
    PerUpload,
    Quotas,
    aggregate,
    headroom,
    one_user,
    utilisations,
)
from tests.perf.capacity.report import build_model, leading_limits

CONFIG = Config(
    region="us-east-1",
    api_rate_limit=50,
    api_reserved_concurrency=20,
    processor_reserved_concurrency=10,
    pipe_batch_size=10,
    pipe_parallelization=1,
    pipe_polls_per_second=4,
    state_machine_type="STANDARD",
    bucket_keys=True,
)
INPUTS = ModelInputs(
    status_polls_per_upload=3,
    uploads_per_authentication=50,
    busiest_user_share=0.01,
    start_execution_ms=50,
    kms_requests_per_upload_with_bucket_keys=0.001,
)
QUOTAS = Quotas(
    api_account_rps=10_000,
    lambda_concurrent_executions=1000,
    lambda_scaling_per_10s=1000,
    dynamodb_partition_wcu=1000,
    dynamodb_table_wcu=40_000,
    dynamodb_initial_partitions=4,
    s3_prefix_writes=3500,
    s3_prefix_reads=5500,
    sfn_standard_start_execution=300,
    sfn_standard_transitions=1500,
    sfn_express_start_execution=6000,
    kms_symmetric_rps=100_000,
    cognito_user_authentication_rps=120,
)
PER_UPLOAD = PerUpload(
    api_requests=4,
    api_busy_s=0.1,
    processor_busy_s=0.2,
    processor_retries=1,
    s3_writes=3,
    s3_reads=5,
    kms_without_bucket_keys=4,
    table_write_units=3,
    owner_index_write_units=2,
    usage_write_units=2,
)
MODEL = Model(
    CONFIG, INPUTS, QUOTAS, PER_UPLOAD, transitions_per_execution=4, transitions_per_record=5
)


def test_one_load_point_by_hand() -> None:
    # 100 uploads/s from many users; the busiest sends 1 %: 1 upload/s.
    got = utilisations(MODEL, aggregate(100, INPUTS))
    # Files table: 100 x 3 = 300 WCU/s, under 4 x 1,000: the 4 shards of a new table.
    # Each shard: 25 records/s, polled 4 times a second: 6.25 records per execution.
    shards, per_execution = 4, 25 / 4
    expected = {
        "api_stage_throttle": 100 * 4 / 50,  # 400 requests/s over the stage's 50
        "api_account_throttle": 100 * 4 / 10_000,
        "lambda_api_reserved": 100 * 0.1 / 20,  # 10 busy environments of 20
        "lambda_processor_reserved": 100 * 0.2 / 10,
        "lambda_account_concurrency": 100 * (0.1 + 0.2) / 1000,
        "lambda_scaling_rate": 100 * 0.2 / 1000,
        "dynamodb_table_writes": 100 * 3 / 40_000,
        "dynamodb_owner_index_partition": 1 * 2 / 1000,
        "dynamodb_usage_item": 1 * 2 / 1000,
        "s3_prefix_writes": 1 * 3 / 3500,
        "s3_prefix_reads": 1 * 5 / 5500,
        # 4 shards x 1 batch in flight x 10 records per 50 ms: 800 records/s.
        "pipe_shard_throughput": 100 / (shards * 1 * 10 * 1000 / 50),
        "sfn_start_execution": 100 / per_execution / 300,  # 16 executions/s
        # Per upload: 4 execution states over 6.25 records, 5 record states, 1 retry.
        "sfn_state_transitions": 100 * (4 / per_execution + 5 + 1) / 1500,
        "kms_requests": 100 * 0.001 / 100_000,
        "cognito_user_authentication": 100 / 50 / 120,
    }
    assert got == pytest.approx(expected)


def test_one_user_puts_the_whole_rate_on_their_partitions() -> None:
    got = utilisations(MODEL, one_user(500))
    assert got["dynamodb_owner_index_partition"] == pytest.approx(500 * 2 / 1000)
    assert got["s3_prefix_writes"] == pytest.approx(500 * 3 / 3500)


def test_headroom_is_where_the_line_crosses_100_percent() -> None:
    # The stage throttle: 4 requests per upload against 50 a second.
    assert headroom(MODEL, "api_stage_throttle", lambda r: aggregate(r, INPUTS)) == (
        pytest.approx(12.5, rel=1e-6)
    )
    assert headroom(MODEL, "kms_requests", lambda r: aggregate(r, INPUTS)) is None


def test_express_has_no_transition_limit_and_a_larger_start_quota() -> None:
    express = dataclasses.replace(
        MODEL, config=dataclasses.replace(CONFIG, state_machine_type=EXPRESS)
    )
    load = aggregate(100, INPUTS)
    assert utilisations(express, load)["sfn_state_transitions"] == 0
    assert utilisations(express, load)["sfn_start_execution"] == pytest.approx(16 / 6000)


# ------------------------------------------------- every input moves its line

RATES = (10, 100, 1000, 10_000)
USER_RATES = (10, 100, 1000)


def _points(model: Model) -> list[Load]:
    return [aggregate(rate, model.inputs) for rate in RATES] + [one_user(r) for r in USER_RATES]


def _variants(model: Model) -> list[Model]:
    """As configured, and with each alternative the report shows: some quotas bind only
    there (Express's StartExecution, KMS without Bucket Keys)."""
    config = model.config
    return [
        model,
        dataclasses.replace(model, config=dataclasses.replace(config, state_machine_type=EXPRESS)),
        dataclasses.replace(model, config=dataclasses.replace(config, bucket_keys=False)),
    ]


def _lines(model: Model) -> list[list[float]]:
    """Every limit's utilisation at every load point, as configured and switched."""
    return [
        [limit.utilisation(variant, load) for load in _points(variant)]
        for variant in _variants(model)
        for limit in LIMITS
    ]


def _moved(value: float) -> float:
    return value * 2 if value else 1.0


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return load()


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Quotas)])
def test_every_quota_moves_a_line(name: str) -> None:
    changed = dataclasses.replace(QUOTAS, **{name: _moved(getattr(QUOTAS, name))})
    assert _lines(dataclasses.replace(MODEL, quotas=changed)) != _lines(MODEL)


# status_polls_per_upload enters through PerUpload: test_the_mix_and_the_polls_move_the_lines.
@pytest.mark.parametrize(
    "name",
    [f.name for f in dataclasses.fields(ModelInputs) if f.name != "status_polls_per_upload"],
)
def test_every_input_moves_a_line(name: str) -> None:
    changed = dataclasses.replace(INPUTS, **{name: _moved(getattr(INPUTS, name))})
    assert _lines(dataclasses.replace(MODEL, inputs=changed)) != _lines(MODEL)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Config) if f.name != "region"])
def test_every_setting_moves_a_line(name: str) -> None:
    value = getattr(CONFIG, name)
    changed: object
    if isinstance(value, bool):
        changed = not value
    elif isinstance(value, str):
        changed = EXPRESS if value != EXPRESS else "STANDARD"
    else:
        changed = _moved(value)
    model = dataclasses.replace(MODEL, config=dataclasses.replace(CONFIG, **{name: changed}))  # type: ignore[arg-type]  # one field at a time
    points = _points(MODEL)
    after = [[lim.utilisation(model, p) for p in points] for lim in LIMITS]
    assert after != [[lim.utilisation(MODEL, p) for p in points] for lim in LIMITS]


def test_the_mix_and_the_polls_move_the_lines(loaded: Loaded) -> None:
    base = build_model(loaded)
    for index, entry in enumerate(loaded.mix):
        mix = list(loaded.mix)
        mix[index] = Mix(entry.label, entry.bytes, _moved(entry.share))
        assert _lines(build_model(dataclasses.replace(loaded, mix=tuple(mix)))) != _lines(base)
    polls = dataclasses.replace(loaded.inputs, status_polls_per_upload=9.0)
    assert _lines(build_model(dataclasses.replace(loaded, inputs=polls))) != _lines(base)


# ------------------------------------------------------ the repository's files


def test_the_config_is_read_from_the_repository(loaded: Loaded) -> None:
    config = loaded.config
    assert config.region == "us-east-1"
    assert config.api_rate_limit == 50
    assert config.processor_reserved_concurrency == 10
    assert config.pipe_batch_size == 10
    assert config.pipe_parallelization == 1
    assert config.state_machine_type == "STANDARD"
    assert config.bucket_keys is True


def test_a_changed_batch_size_or_parallelization_moves_the_numbers(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in (
        "services/template.yaml",
        "environments/prod/terraform.tfvars",
        "modules/platform/variables.tf",
        "modules/pipeline/pipe.tf",
        "modules/secure-bucket/variables.tf",
    ):
        (copy / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / part, copy / part)
    variables = copy / "modules/platform/variables.tf"
    text = variables.read_text()
    batch = re.compile(r'(variable "pipe_batch_size" \{[^}]*default\s*=\s*)10')
    assert batch.search(text)
    variables.write_text(batch.sub(r"\g<1>25", text))
    pipe = copy / "modules/pipeline/pipe.tf"
    pipe.write_text(
        pipe.read_text().replace(
            "batch_size        = var.batch_size",
            "batch_size        = var.batch_size\n      parallelization_factor = 4",
        )
    )
    assert read_config(copy).pipe_batch_size == 25
    assert pipe_parallelization(pipe) == 4


# --------------------------------------------------------------- the alarms

OBSERVABILITY = ROOT / "modules" / "observability" / "main.tf"
# Alarms on failures, not on a limit: the model has nothing to say about them.
NOT_CAPACITY = {"ApproximateNumberOfMessagesVisible", "Errors", "ExecutionsFailed"}


def _alarm_metrics() -> set[str]:
    """The metric names the module alarms on (the for-expressions name theirs as strings)."""
    with OBSERVABILITY.open(encoding="utf-8") as handle:
        alarms = next(block["alarms"] for block in hcl2.load(handle)["locals"] if "alarms" in block)
    names = set(re.findall(r'metric_name = "(\w+)"', alarms))
    names |= set(
        re.findall(r"for metric in \[([^\]]*)\]", alarms)[0]
        .replace('"', "")
        .replace(" ", "")
        .split(",")
    )
    return names


def test_each_leading_limit_has_an_alarm(loaded: Loaded) -> None:
    model = build_model(loaded)
    leading = leading_limits(
        model,
        10 * loaded.alarms["prod_expected_uploads_per_s"],
        int(loaded.alarms["leading_limits"]),
    )
    metrics = _alarm_metrics()
    by_key = {limit.key: limit for limit in LIMITS}
    for key in leading:
        alarm = by_key[key].alarm
        assert alarm is not None, f"{key} leads at 10x the expected load but has no alarm metric"
        assert alarm.split()[-1] in metrics, (
            f"{key} leads but modules/observability has no {alarm} alarm"
        )


def test_each_alarm_watches_a_limit_or_a_failure() -> None:
    limit_metrics = {limit.alarm.split()[-1] for limit in LIMITS if limit.alarm}
    for metric in _alarm_metrics() - {"ExecutionsTimedOut", "ExecutionsAborted"}:
        assert metric in limit_metrics or metric in NOT_CAPACITY, (
            f"alarm on {metric}: tie it to a limit in tests/perf/capacity/model.py or "
            "list it as a failure alarm here"
        )
