"""The pipeline simulation: calibrated against the bench, one case by hand, its monotonicity,
its determinism."""

from __future__ import annotations

import dataclasses

import pytest

from tests.perf.capacity.simulation import (
    CALIBRATION_TOLERANCE,
    FAILED_THROTTLED,
    NO_TIME,
    PROCESSED,
    Config,
    Latency,
    Limits,
    Rate,
    Retrier,
    Stages,
    burst,
    calibrate,
    closed_loop,
    prod_config,
)


def fixed(seconds: float) -> Latency:
    return Latency(seconds, seconds)


def quiet_config(processor_concurrency: int | None = None, api_rate: Rate | None = None) -> Config:
    """Fixed stage times and no quotas unless given: only arrivals and contention vary."""
    stages = Stages(
        upload=fixed(0.1),
        stream=fixed(0.2),
        get_records=fixed(0.01),
        start_execution=fixed(0.03),
        execution=fixed(0.05),
        processor=fixed(0.04),
        verdict_check=fixed(0.02),
        scan=NO_TIME,
        publish=fixed(0.05),
        cold_start_s=0.5,
    )
    return Config(
        limits=Limits(api_rate=api_rate, processor_concurrency=processor_concurrency),
        stages=stages,
        batch_size=10,
        batching_window_s=0.0,
        map_concurrency=5,
        poll_busy_s=0.0,
        poll_idle_s=0.25,
        start_retry=Retrier(0.2, 2, 1_000_000, 5.0),
        lambda_retry=Retrier(2, 2, 8, 60, full_jitter=True),
        scan_retry=Retrier(10, 1.5, 10, 120),
        max_record_age_s=3600,
    )


def test_the_calibration_predicts_the_bench_p95_within_tolerance() -> None:
    calibration = calibrate()
    assert abs(calibration.error) <= CALIBRATION_TOLERANCE, (
        f"simulated p95 {calibration.predicted_p95_s:.3f} s against measured "
        f"{calibration.measured_p95_s:.3f} s"
    )


def test_one_upload_without_contention_takes_its_stages_plus_the_poll_wait() -> None:
    config = quiet_config()
    outcome = closed_loop(config, rounds=1, poll_s=0.01, get_s=0.0)
    # The record is readable after the upload and the stream: 0.1 + 0.2 = 0.3 s. The
    # poller reads at 0.01 s (its first GetRecords), then every 0.25 + 0.01 s while
    # it finds nothing: 0.01, 0.27, 0.53; so it waits 0.23 s.
    poll_wait = 0.53 - 0.3
    # Then StartExecution, the Map, a cold processor and the publishing.
    expected = 0.1 + 0.2 + poll_wait + 0.03 + 0.05 + (0.5 + 0.04) + 0.05
    assert outcome.latencies == [pytest.approx(expected)]
    assert outcome.statuses == {PROCESSED: 1}


def test_a_late_verdict_waits_the_scan_retrier() -> None:
    config = quiet_config()
    config = dataclasses.replace(
        config,
        stages=dataclasses.replace(config.stages, scan=fixed(3.0), cold_start_s=0.0),
        scan_retry=Retrier(1, 2, 5, 10),
    )
    outcome = closed_loop(config, rounds=1, poll_s=0.01, get_s=0.0)
    # ProcessFile first runs at 0.53 + 0.03 + 0.05 = 0.61 s; the verdict comes at
    # 0.1 + 3 = 3.1 s. Checks at 0.61, then after 0.02 + 1 (1.63) and 0.02 + 2 (3.65).
    expected = 3.65 + 0.04 + 0.05
    assert outcome.latencies == [pytest.approx(expected)]


def test_more_load_never_lowers_the_p95() -> None:
    config = quiet_config(processor_concurrency=2)
    p95 = [burst(config, load, duration_s=60).outcome.percentile(0.95) for load in (5, 20, 40, 80)]
    assert p95 == sorted(p95), p95


def test_fewer_processor_slots_never_lower_the_backlog() -> None:
    config = quiet_config()
    peaks = [
        burst(
            dataclasses.replace(
                config, limits=dataclasses.replace(config.limits, processor_concurrency=slots)
            ),
            40,
            duration_s=60,
        ).outcome.peak_backlog
        for slots in (10, 4, 2, 1)
    ]
    assert peaks == sorted(peaks), peaks
    assert peaks[0] < peaks[-1]


def test_a_processor_throttled_past_its_retrier_ends_failed() -> None:
    config = quiet_config(processor_concurrency=1)
    outcome = burst(config, 100, duration_s=30).outcome
    assert outcome.statuses[FAILED_THROTTLED] > 0
    assert sum(outcome.statuses.values()) == len(outcome.latencies)


def test_the_api_throttle_rejects_what_it_does_not_admit() -> None:
    config = quiet_config(api_rate=Rate(per_s=10, burst=10))
    outcome = burst(config, 100, duration_s=30).outcome
    accepted = len(outcome.latencies)
    # 10 a second for 30 s, plus the bucket's 10 at the start.
    assert accepted <= 10 * 30 + 10
    assert outcome.rejected > 0
    assert accepted + outcome.rejected == pytest.approx(100 * 30, rel=0.1)


def test_a_seed_makes_a_run_repeatable() -> None:
    config = prod_config()
    first, again = (burst(config, 20, duration_s=30, seed=7).outcome for _ in range(2))
    other = burst(config, 20, duration_s=30, seed=8).outcome
    assert first.latencies == again.latencies
    assert first.statuses == again.statuses
    assert first.latencies != other.latencies


def test_prod_limits_are_the_deployed_settings_and_the_dated_quotas() -> None:
    limits = prod_config().limits
    # services/template.yaml's defaults, as the capacity model reads them.
    assert limits.api_rate == Rate(per_s=50, burst=100)
    assert (limits.api_concurrency, limits.processor_concurrency) == (20, 10)
    # quotas.toml's Standard StartExecution bucket: prod runs a Standard workflow.
    assert limits.start_execution == Rate(per_s=300, burst=1300)
