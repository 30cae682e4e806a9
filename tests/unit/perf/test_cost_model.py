"""The cost model: one case computed by hand, each input moving its line, the repo readers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.perf.cost.model import GIB, KIB, MIB, Inputs, Prices, calls, costs, retries_until
from tests.perf.cost.repo import (
    ROOT,
    check_path,
    happy_path,
    load_assumptions,
    load_inputs,
    load_prices,
    scan_waits,
    state_machine,
)
from tests.perf.cost.report import build

# us-east-1 list prices as in prices.toml, written out so the hand computation
# below does not move when the file is updated.
PRICES = Prices(
    http_api_request=0.000001,
    lambda_request=0.0000002,
    lambda_x86_gb_second=0.0000166667,
    lambda_arm_gb_second=0.0000133334,
    s3_put_request=0.000005,
    s3_get_request=0.0000004,
    s3_storage_gb_month=0.023,
    dynamodb_write_unit=0.000000625,
    dynamodb_read_unit=0.000000125,
    dynamodb_stream_read=0.0000002,
    pipes_request=0.0000004,
    eventbridge_custom_event=0.000001,
    sfn_standard_transition=0.000025,
    sfn_express_request=0.000001,
    sfn_express_gb_second=0.00001667,
    kms_request=0.000003,
    guardduty_s3_gb=0.09,
    guardduty_s3_object=0.000215,
    logs_ingestion_gb=0.50,
    logs_storage_gb_month=0.03,
)

INPUTS = Inputs(
    api_memory_mb=1024,
    processor_memory_mb=512,
    architecture="x86_64",
    json_max_bytes=4 * MIB,
    single_put_max_bytes=64 * MIB,
    part_bytes=16 * MIB,
    direct_max_bytes=5 * GIB,
    json_upload_ms={100 * KIB: 15.0, 4 * MIB: 88.0},
    api_call_ms=15.0,
    state_machine_type="STANDARD",
    transitions_per_execution=4,
    transitions_per_record=5,
    scan_waits_s=(10.0, 15.0, 22.5),
    sfn_log_level="ERROR",
    log_retention_days=30,
    bucket_keys=True,
    guardduty=True,
    processor_fixed_ms=40.0,
    processor_verdict_check_ms=20.0,
    processor_stream_mb_per_s=60.0,
    multipart_complete_ms=1000.0,
    malware_scan_fixed_s=5.0,
    malware_scan_mb_per_s=50.0,
    json_envelope_bytes=64,
    file_item_bytes=700,
    pending_record_bytes=900,
    stream_record_bytes=1600,
    stream_reads_per_upload=2,
    records_per_execution=1,
    express_memory_mb=64,
    express_overhead_ms=100.0,
    api_log_bytes=1400,
    processor_log_bytes=1300,
    access_log_bytes=450,
    sfn_all_log_bytes_per_execution=25000,
)


def test_a_100_kib_json_upload_costs_what_the_hand_computation_says() -> None:
    # 102,400 bytes through POST /upload, as configured above.
    # API Gateway: Base64 136,536 + 64 = 136,600 bytes, one 512 KB increment: 1 x $0.000001.
    # Lambda, upload API (1 GB): the upload 15 ms and the object-created event 15 ms:
    #   2 x $0.0000002 + 1 GB x 0.030 s x $0.0000166667 = $0.0000004 + $0.0000005 = $0.0000009.
    # The malware verdict: scan 5 + 0.1024/50 = 5.002 s; the first wait (10 s) covers it:
    #   one retry.
    # Lambda, processor (0.5 GB): 20 ms (no verdict yet) and 40 + 0.1024/60 x 1000 = 41.71
    #   -> 42 ms: 2 x $0.0000002 + 0.5 x 0.062 s x $0.0000166667 = $0.0000004 + $0.000000517
    #   = $0.000000917.
    # S3 requests: PUT class: PutObject, GuardDuty's tag = 2 x $0.000005 = $0.00001;
    #   GET class: GuardDuty's GET, 2 GetObjectTagging, HeadObject, GET = 5 x $0.0000004
    #   = $0.000002. Together $0.000012.
    # S3 storage: 102,400 / 2^30 GB x $0.023 = $0.0000021934.
    # DynamoDB writes: transaction (item 2 + counter 2) + owner index 1 + UpdateItem 1 + index 1
    #   = 7 x $0.000000625 = $0.000004375; reads: event 1 + two processor calls 2
    #   = 3 x $0.000000125 = $0.000000375. Together $0.00000475.
    # Stream reads: 2 x $0.0000002 = $0.0000004. Pipes: one 64 KB chunk, $0.0000004.
    # Step Functions Standard: 4 + 5 states + 1 retry = 10 x $0.000025 = $0.00025.
    # Outcome event: $0.000001. KMS: Bucket Keys on, $0.
    # GuardDuty: $0.000215 + 102,400 / 2^30 GB x $0.09 = $0.000215 + $0.0000085831.
    # Logs: 2 x 1,400 + 2 x 1,300 + 450 = 5,850 bytes = 0.0000054482 GB
    #   x ($0.50 + 1 month x $0.03) = $0.0000028876.
    expected = {
        "API Gateway HTTP API": 0.000001,
        "Lambda: upload API": 0.0000009,
        "Lambda: processor": 0.0000009167,
        "S3 requests": 0.000012,
        "S3 storage, first month": 0.0000021934,
        "DynamoDB reads and writes": 0.00000475,
        "DynamoDB stream reads": 0.0000004,
        "EventBridge Pipes": 0.0000004,
        "Step Functions": 0.00025,
        "EventBridge outcome event": 0.000001,
        "KMS requests": 0.0,
        "GuardDuty malware scan": 0.0002235831,
        "CloudWatch Logs": 0.0000028876,
    }
    got = costs(100 * KIB, INPUTS, PRICES)
    assert got == pytest.approx(expected, rel=1e-4)
    # The sum: $500.03 per million uploads.
    assert sum(got.values()) * 1e6 == pytest.approx(500.03, abs=0.01)


def test_a_1_gib_upload_goes_in_64_parts_of_the_api_part_size() -> None:
    used = calls(GIB, INPUTS)
    assert used.route == "MULTIPART"
    # CreateMultipartUpload, 64 parts, ListParts, CompleteMultipartUpload, GuardDuty's tag.
    assert used.s3_put == 1 + 64 + 2 + 1
    # 5 + 1073.74 / 50 = 26.5 s of scanning: waits of 10, 15 and 22.5 s.
    assert used.scan_wait_s == 47.5
    assert used.kms_without_bucket_keys == 1 + 64 + 1 + 1


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"api_memory_mb": 2048}, "Lambda: upload API"),
        ({"processor_memory_mb": 1024}, "Lambda: processor"),
        ({"architecture": "arm64"}, "Lambda: processor"),
        ({"json_upload_ms": {100 * KIB: 30.0}}, "Lambda: upload API"),
        ({"api_call_ms": 100.0}, "Lambda: upload API"),
        ({"processor_fixed_ms": 400.0}, "Lambda: processor"),
        ({"processor_verdict_check_ms": 200.0}, "Lambda: processor"),
        ({"processor_stream_mb_per_s": 1.0}, "Lambda: processor"),
        ({"transitions_per_execution": 8}, "Step Functions"),
        ({"transitions_per_record": 9}, "Step Functions"),
        ({"scan_waits_s": ()}, "Step Functions"),
        ({"malware_scan_fixed_s": 30.0}, "Step Functions"),
        ({"state_machine_type": "EXPRESS"}, "Step Functions"),
        ({"records_per_execution": 2}, "Step Functions"),
        ({"sfn_log_level": "ALL"}, "CloudWatch Logs"),
        ({"log_retention_days": 365}, "CloudWatch Logs"),
        ({"api_log_bytes": 3000}, "CloudWatch Logs"),
        ({"processor_log_bytes": 3000}, "CloudWatch Logs"),
        ({"access_log_bytes": 3000}, "CloudWatch Logs"),
        ({"bucket_keys": False}, "KMS requests"),
        ({"guardduty": False}, "GuardDuty malware scan"),
        ({"json_envelope_bytes": 600 * KIB}, "API Gateway HTTP API"),
        ({"json_max_bytes": 0}, "API Gateway HTTP API"),
        ({"file_item_bytes": 1500}, "DynamoDB reads and writes"),
        ({"stream_reads_per_upload": 3}, "DynamoDB stream reads"),
        ({"stream_record_bytes": 70 * KIB}, "EventBridge Pipes"),
    ],
)
def test_each_input_moves_its_line(change: dict[str, object], line: str) -> None:
    before = costs(100 * KIB, INPUTS, PRICES)[line]
    after = costs(100 * KIB, dataclasses.replace(INPUTS, **change), PRICES)[line]  # type: ignore[arg-type]
    assert after != pytest.approx(before)


@pytest.mark.parametrize(
    ("base", "change", "line"),
    [
        ({}, {"part_bytes": 32 * MIB}, "S3 requests"),
        ({}, {"multipart_complete_ms": 5000.0}, "Lambda: upload API"),
        ({}, {"pending_record_bytes": 1500}, "DynamoDB reads and writes"),
        ({}, {"malware_scan_mb_per_s": 200.0}, "Step Functions"),
        ({"state_machine_type": "EXPRESS"}, {"express_overhead_ms": 60_000.0}, "Step Functions"),
        ({"state_machine_type": "EXPRESS"}, {"express_memory_mb": 128}, "Step Functions"),
    ],
)
def test_each_direct_upload_input_moves_its_line(
    base: dict[str, object], change: dict[str, object], line: str
) -> None:
    inputs = dataclasses.replace(INPUTS, **base)  # type: ignore[arg-type]
    before = costs(GIB, inputs, PRICES)[line]
    after = costs(GIB, dataclasses.replace(inputs, **change), PRICES)[line]  # type: ignore[arg-type]
    assert after != pytest.approx(before)


@pytest.mark.parametrize(("name", "usd"), [(f.name, 1.0) for f in dataclasses.fields(Prices)])
def test_each_price_is_used(name: str, usd: float) -> None:
    alternatives = [
        INPUTS,
        dataclasses.replace(INPUTS, architecture="arm64"),
        dataclasses.replace(INPUTS, state_machine_type="EXPRESS", bucket_keys=False),
    ]
    raised = dataclasses.replace(PRICES, **{name: usd})
    assert any(
        sum(costs(GIB, i, raised).values()) != pytest.approx(sum(costs(GIB, i, PRICES).values()))
        for i in alternatives
    )


def test_the_verdict_is_retried_until_the_scan_has_had_time() -> None:
    assert retries_until(0.0, (10.0, 15.0)) == 0
    assert retries_until(10.0, (10.0, 15.0)) == 1
    assert retries_until(10.5, (10.0, 15.0)) == 2
    assert retries_until(99.0, (10.0, 15.0)) == 2  # the schedule ends: the file is FAILED


def test_the_happy_path_is_the_real_state_machine() -> None:
    definition = state_machine()
    assert happy_path(definition) == (4, 5)


def test_a_changed_state_machine_stops_the_model() -> None:
    definition = state_machine()
    inner = definition["States"]["ProcessRecords"]["ItemProcessor"]
    inner["States"]["ProcessFile"]["Next"] = "RecordFailure"
    with pytest.raises(ValueError, match="NewOutcome no longer follows ProcessFile"):
        check_path(inner, ("HasFileId", "ProcessFile", "NewOutcome"))


def test_the_scan_wait_schedule_backs_off_and_is_capped() -> None:
    definition = state_machine()
    wait = {"interval_seconds": 10, "backoff_rate": 2, "max_attempts": 4, "max_delay_seconds": 30}
    retried = any(
        "MalwareScanNotFinishedError" in r["ErrorEquals"]
        for r in definition["States"]["ProcessRecords"]["ItemProcessor"]["States"]["ProcessFile"][
            "Retry"
        ]
    )
    assert scan_waits(definition, wait) == ((10, 20, 30, 30) if retried else ())


def test_prices_name_their_page_and_date(tmp_path: Path) -> None:
    load_prices()  # the real file passes
    bad = tmp_path / "prices.toml"
    bad.write_text(
        '[prices.kms_request]\nusd = 1\nunit = "x"\nsource = "https://example.com/"\n'
        'checked = 2026-11-29\nbasis = "x"\n'
    )
    with pytest.raises(ValueError, match=r"aws\.amazon\.com"):
        load_prices(bad)


def test_every_assumption_has_a_reason() -> None:
    for name, assumption in load_assumptions().items():
        assert len(assumption.reason) > 40, name


def test_the_repository_configuration_is_read(tmp_path: Path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(
        json.dumps(
            {
                "upload_overhead": {
                    "100KiB": {"size_bytes": 102400, "app": {"median_ms": 12.5}},
                    "4MiB": {"size_bytes": 4194304, "app": {"median_ms": 80.0}},
                }
            }
        )
    )
    inputs = load_inputs(ROOT, bench)
    # services/template.yaml and the upload API's settings.
    assert (inputs.api_memory_mb, inputs.processor_memory_mb) == (1024, 512)
    assert inputs.architecture == "x86_64"
    assert inputs.json_max_bytes == 4 * MIB
    assert inputs.part_bytes == 16 * MIB
    assert inputs.api_call_ms == 12.5
    # environments/prod.
    assert inputs.state_machine_type == "STANDARD"
    assert inputs.log_retention_days == 365
    report = build(inputs, PRICES)
    assert report["sizes"]["1 GiB"]["route"] == "MULTIPART, 64 parts of 16 MiB"


def test_without_a_bench_run_the_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make bench"):
        load_inputs(ROOT, tmp_path / "bench.json")
