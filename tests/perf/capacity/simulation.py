"""A discrete-event simulation (SimPy) of the processing pipeline at load.

One upload's path, one process function per stage:

  arrivals     uploads arrive (Poisson); the API's throttle and reserved concurrency
               admit them or answer 429; an admitted upload writes its item, whose
               INSERT record enters one stream shard
  poller       each shard's pollers (the Pipe) read up to batch_size records, drop
               what the filter drops (the processor's MODIFYs) and start an execution;
               a throttled StartExecution is retried with backoff, never counted
  execution    the state machine's Map, at most map_concurrency records at a time
  process_file ProcessFile: the processor within its reserved concurrency (a throttled
               invoke follows the Lambda.TooManyRequestsException retrier), a scan
               verdict not there yet follows the malware-scan retrier; then the
               final status (PROCESSED, or FAILED when a retrier gives up)

Configuration is read from the repository through the capacity model's readers
(config.py; the state machine's retriers and the pipeline module's settings here),
quotas from its quotas.toml, stage latencies from the last `make bench` where the
bench measures them, and from the AWS_LATENCIES table, each with its reason, where it
cannot. Limits are parameters (`Limits`, prod's filled in by prod_config()), so the
capacity model can feed its own. Not modelled: Step Functions state-transition
quotas, KMS, S3 and Cognito request rates, DynamoDB partition limits (the capacity
model covers them), the client retrying a 429, Lambda environments going cold again.

`python -m tests.perf.capacity.simulation` prints the table and writes
tests/perf/results/simulation.md.
"""

from __future__ import annotations

import heapq
import inspect
import json
import math
import random
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import simpy

from tests.perf.capacity.config import api_burst_limit, environment_inputs, load, token_bucket
from tests.perf.capacity.model import EXPRESS
from tests.perf.cost.repo import BENCH, ROOT, _variable_defaults, state_machine

REPORT = ROOT / "tests" / "perf" / "results" / "simulation.md"
LOADS = (10, 100, 1_000, 10_000)
BURST_S = 600.0
SEED = 23
# The calibration passes when the prediction is within this share of the measurement.
CALIBRATION_TOLERANCE = 0.25

PROCESSED, FAILED_SCAN, FAILED_THROTTLED, DEAD_LETTERED = (
    "PROCESSED",
    "FAILED (no scan verdict in time)",
    "FAILED (processor throttled)",
    "dead-lettered (record too old)",
)
SCAN_NOT_FINISHED = "MalwareScanNotFinishedError"
LAMBDA_THROTTLED = "Lambda.TooManyRequestsException"
Process = Generator[simpy.Event, Any, None]


@dataclass(frozen=True)
class Latency:
    """A stage's duration: log-normal through its median and 95th percentile."""

    median_s: float
    p95_s: float

    def draw(self, rng: random.Random) -> float:
        if self.p95_s <= self.median_s:
            return self.median_s
        sigma = math.log(self.p95_s / self.median_s) / 1.645  # z of the 95th percentile
        return self.median_s * math.exp(rng.gauss(0.0, sigma))

    def __str__(self) -> str:
        return f"median {self.median_s:g} s, p95 {self.p95_s:g} s"


NO_TIME = Latency(0.0, 0.0)


@dataclass(frozen=True)
class Retrier:
    """A Step Functions Retry: attempt n waits interval * rate**(n-1), capped (FULL: 0 to that)."""

    interval_s: float
    backoff_rate: float
    max_attempts: int
    max_delay_s: float
    full_jitter: bool = False

    def delay(self, attempt: int, rng: random.Random) -> float:
        wait = min(self.interval_s * self.backoff_rate ** (attempt - 1), self.max_delay_s)
        return rng.uniform(0.0, wait) if self.full_jitter else wait

    def __str__(self) -> str:
        jitter = ", full jitter" if self.full_jitter else ""
        return (
            f"{self.interval_s:g} s x{self.backoff_rate:g} up to {self.max_delay_s:g} s, "
            f"{self.max_attempts} retries{jitter}"
        )


@dataclass(frozen=True)
class Rate:
    """A quota metered as a token bucket: `burst` tokens, refilled at `per_s`."""

    per_s: float
    burst: float

    def __str__(self) -> str:
        return f"{self.per_s:g}/s, burst {self.burst:g}"


class TokenBucket:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.tokens = rate.burst
        self.updated = 0.0

    def take(self, now: float) -> bool:
        elapsed = now - self.updated
        self.tokens = min(self.rate.burst, self.tokens + elapsed * self.rate.per_s)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(frozen=True)
class Limits:
    """The limits the simulation enforces; None is unlimited. Prod's: see prod_config()."""

    api_rate: Rate | None = None
    api_concurrency: int | None = None
    start_execution: Rate | None = None
    processor_concurrency: int | None = None
    shards: int = 1
    pollers_per_shard: int = 1  # the Pipe's parallelization factor


@dataclass(frozen=True)
class Stages:
    """Stage durations."""

    upload: Latency  # the POST, until the item (and its stream record) is written
    stream: Latency  # written until a poller can read the record
    get_records: Latency
    start_execution: Latency
    execution: Latency  # StartExecution's return until ProcessFile invokes the processor
    processor: Latency  # an invocation that finds the verdict and records the status
    verdict_check: Latency  # an invocation that finds no verdict yet
    scan: Latency  # object written until its verdict tag
    publish: Latency  # PutEvents and the states after it
    cold_start_s: float  # added to a processor environment's first invocation


@dataclass(frozen=True)
class Config:
    limits: Limits
    stages: Stages
    batch_size: int
    batching_window_s: float
    map_concurrency: int
    poll_busy_s: float  # a poller's pause after a poll that read records
    poll_idle_s: float  # ... after one that read none
    start_retry: Retrier  # the Pipe's own backoff on a throttled StartExecution
    lambda_retry: Retrier
    scan_retry: Retrier
    max_record_age_s: float


@dataclass
class Record:
    arrived: float
    visible: float
    verdict: float
    done: simpy.Event | None = None


@dataclass
class Outcome:
    """One run: the accepted uploads' times to a final status, backlogs, counts."""

    latencies: list[float] = field(default_factory=list)
    seen: list[float] = field(default_factory=list)  # as a polling client saw them (closed loop)
    statuses: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    throttled_starts: int = 0
    peak_stream: int = 0  # INSERT records written, not yet read by the Pipe
    peak_backlog: int = 0  # accepted uploads without a final status yet
    last_done: float = 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: Sequence[float], q: float) -> float:
    """As the bench computes it (tests/perf/bench/measure.py)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


class Pipeline:
    def __init__(self, config: Config, seed: int) -> None:
        self.config = config
        self.rng = random.Random(seed)  # noqa: S311  # a seeded model, not a secret
        self.env = simpy.Environment()
        self.outcome = Outcome()
        limits = config.limits
        self.api_rate = TokenBucket(limits.api_rate) if limits.api_rate else None
        self.start_rate = TokenBucket(limits.start_execution) if limits.start_execution else None
        self.api_busy_until: list[float] = []  # a heap: when each running upload returns
        # Per shard, a heap of (visible at, order, record); None is a MODIFY the filter drops.
        self.shards: list[list[tuple[float, int, Record | None]]] = [
            [] for _ in range(limits.shards)
        ]
        self.written = 0
        self.in_stream = 0
        self.backlog = 0
        self.processor_busy = 0
        self.processor_warm = 0
        self.arrivals_done = False

    # ------------------------------------------------------------ arrivals
    def admitted(self, now: float, upload_s: float) -> bool:
        """API Gateway's throttle, then the function's reserved concurrency (429 if not)."""
        if self.api_rate is not None and not self.api_rate.take(now):
            return False
        slots = self.config.limits.api_concurrency
        busy = self.api_busy_until
        while busy and busy[0] <= now:
            heapq.heappop(busy)
        if slots is not None and len(busy) >= slots:
            return False
        heapq.heappush(busy, now + upload_s)
        return True

    def write(self, arrived: float, upload_s: float) -> Record:
        stages, rng = self.config.stages, self.rng
        written = arrived + upload_s
        record = Record(arrived, written + stages.stream.draw(rng), written + stages.scan.draw(rng))
        self.push(record.visible, record)
        self.in_stream += 1
        self.backlog += 1
        self.outcome.peak_stream = max(self.outcome.peak_stream, self.in_stream)
        self.outcome.peak_backlog = max(self.outcome.peak_backlog, self.backlog)
        return record

    def push(self, visible: float, record: Record | None) -> None:
        self.written += 1
        shard = self.shards[self.rng.randrange(len(self.shards))]
        heapq.heappush(shard, (visible, self.written, record))

    def arrivals(self, rate: float, duration_s: float) -> Process:
        """Open loop: Poisson arrivals; a rejected one costs no event."""
        upload, rng = self.config.stages.upload, self.rng
        at = 0.0
        while True:
            at += rng.expovariate(rate)
            if at >= duration_s:
                break
            upload_s = upload.draw(rng)
            if not self.admitted(at, upload_s):
                self.outcome.rejected += 1
                continue
            yield self.env.timeout(at - self.env.now)
            self.write(at, upload_s)
        self.arrivals_done = True

    def client(self, rounds: int, poll_s: float, get_s: float) -> Process:
        """Closed loop, as the bench's upload-to-PROCESSED: one upload at a time, its status
        polled with GET every `poll_s` (each GET taking `get_s`) until final."""
        for _ in range(rounds):
            started = self.env.now
            upload_s = self.config.stages.upload.draw(self.rng)
            record = self.write(started, upload_s)
            record.done = self.env.event()
            yield self.env.timeout(upload_s)
            returned = self.env.now
            yield record.done
            cycle = poll_s + get_s
            seen = returned + math.ceil((self.env.now - returned) / cycle) * cycle + get_s
            yield self.env.timeout(seen - self.env.now)
            self.outcome.seen.append(self.env.now - started)
        self.arrivals_done = True

    # ------------------------------------------------------------ the Pipe
    def poller(self, shard: list[tuple[float, int, Record | None]]) -> Process:
        config, rng = self.config, self.rng
        while not (self.arrivals_done and not shard):
            yield self.env.timeout(config.stages.get_records.draw(rng))
            read = self.read(shard)
            if read and config.batching_window_s > 0 and len(read) < config.batch_size:
                yield self.env.timeout(config.batching_window_s)
                read += self.read(shard, config.batch_size - len(read))
            batch = [record for record in read if record is not None]
            if batch:
                yield from self.start_execution(batch)
            yield self.env.timeout(config.poll_busy_s if read else config.poll_idle_s)

    def read(
        self, shard: list[tuple[float, int, Record | None]], limit: int | None = None
    ) -> list[Record | None]:
        read: list[Record | None] = []
        while (
            shard and shard[0][0] <= self.env.now and len(read) < (limit or self.config.batch_size)
        ):
            read.append(heapq.heappop(shard)[2])
        self.in_stream -= sum(record is not None for record in read)
        return read

    def start_execution(self, batch: list[Record]) -> Process:
        config = self.config
        attempt = 0
        while self.start_rate is not None and not self.start_rate.take(self.env.now):
            attempt += 1
            self.outcome.throttled_starts += 1
            yield self.env.timeout(config.start_retry.delay(attempt, self.rng))
            for record in [r for r in batch if self.env.now - r.visible > config.max_record_age_s]:
                batch.remove(record)
                self.finish(record, DEAD_LETTERED)
            if not batch:
                return
        yield self.env.timeout(config.stages.start_execution.draw(self.rng))
        self.env.process(self.execution(batch))

    # ------------------------------------------------------------ the state machine
    def execution(self, batch: list[Record]) -> Process:
        yield self.env.timeout(self.config.stages.execution.draw(self.rng))
        map_slots = simpy.Resource(self.env, capacity=self.config.map_concurrency)
        for record in batch:
            self.env.process(self.process_file(record, map_slots))

    def process_file(self, record: Record, map_slots: simpy.Resource) -> Process:
        config, stages, rng = self.config, self.config.stages, self.rng
        slots = config.limits.processor_concurrency
        with map_slots.request() as turn:
            yield turn
            throttled = scan_waits = 0
            while True:
                if slots is not None and self.processor_busy >= slots:
                    throttled += 1
                    if throttled > config.lambda_retry.max_attempts:
                        self.finish(record, FAILED_THROTTLED)
                        return
                    yield self.env.timeout(config.lambda_retry.delay(throttled, rng))
                    continue
                self.processor_busy += 1
                cold_s = 0.0
                if self.processor_busy > self.processor_warm:
                    self.processor_warm += 1
                    cold_s = stages.cold_start_s
                scanned = self.env.now + cold_s >= record.verdict
                stage = stages.processor if scanned else stages.verdict_check
                yield self.env.timeout(cold_s + stage.draw(rng))
                self.processor_busy -= 1
                if scanned:
                    self.push(self.env.now + stages.stream.draw(rng), None)  # its MODIFY
                    yield self.env.timeout(stages.publish.draw(rng))
                    self.finish(record, PROCESSED)
                    return
                scan_waits += 1
                if scan_waits > config.scan_retry.max_attempts:
                    self.finish(record, FAILED_SCAN)
                    return
                yield self.env.timeout(config.scan_retry.delay(scan_waits, rng))

    def finish(self, record: Record, status: str) -> None:
        self.backlog -= 1
        self.outcome.statuses[status] += 1
        self.outcome.latencies.append(self.env.now - record.arrived)
        self.outcome.last_done = self.env.now
        if record.done is not None:
            record.done.succeed()

    def run(self, source: Process) -> Outcome:
        self.env.process(source)
        for shard in self.shards:
            for _ in range(self.config.limits.pollers_per_shard):
                self.env.process(self.poller(shard))
        self.env.run()
        return self.outcome


@dataclass(frozen=True)
class Burst:
    load: float
    outcome: Outcome
    duration_s: float

    @property
    def drain_s(self) -> float:
        """From the burst's end until every accepted upload has its final status."""
        return max(0.0, self.outcome.last_done - self.duration_s)


def burst(config: Config, load: float, duration_s: float = BURST_S, seed: int = SEED) -> Burst:
    pipeline = Pipeline(config, seed)
    return Burst(load, pipeline.run(pipeline.arrivals(load, duration_s)), duration_s)


def closed_loop(
    config: Config, rounds: int, poll_s: float, get_s: float, seed: int = SEED
) -> Outcome:
    pipeline = Pipeline(config, seed)
    return pipeline.run(pipeline.client(rounds, poll_s, get_s))


# ---------------------------------------------------------------- configuration
# AWS stage durations nothing here measures: each with its reason.
AWS_LATENCIES: dict[str, tuple[Latency, str]] = {
    "upload": (
        Latency(0.08, 0.2),
        "POST /upload of a small file through API Gateway: the bench's 100 KiB upload (some "
        "20 ms against the emulator) has no network, TLS or KMS; in a region an SSE-KMS PUT "
        "and a two-item transaction take some 20-30 ms each.",
    ),
    "stream": (
        Latency(0.1, 0.5),
        "DynamoDB Streams publishes in near real time; AWS gives no figure.",
    ),
    "get_records": (Latency(0.01, 0.03), "One GetRecords call within the region."),
    "start_execution": (Latency(0.03, 0.08), "One StartExecution call within the region."),
    "execution": (
        Latency(0.05, 0.15),
        "The Map and the HasFileId choice before the invoke: a few Standard transitions.",
    ),
    "publish": (
        Latency(0.05, 0.15),
        "The NewOutcome choice, the PutEvents task and the Map's end.",
    ),
}
AWS_POLL_IDLE_S = (
    0.25,
    "Lambda's stream pollers read each shard four times a second; Pipes poll alike.",
)
# The Pipe's backoff on a throttled StartExecution is not published: the local
# stand-in's (tests/devstack/pipe_runner.py) is taken.
PIPE_START_RETRY = Retrier(0.2, 2, 1_000_000, 5.0)
LOCAL_STATUS_POLL_S = 0.01  # bench_processed_latency polls the status every 10 ms


def _retriers(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ProcessFile's Retry entries by the errors they name."""
    states = definition["States"]["ProcessRecords"]["ItemProcessor"]["States"]
    return {
        error: retrier
        for retrier in states["ProcessFile"]["Retry"]
        for error in retrier["ErrorEquals"]
    }


def _pipeline_settings(environment: str) -> dict[str, Any]:
    inputs = environment_inputs(environment)
    pipeline = _variable_defaults(ROOT / "modules" / "pipeline" / "variables.tf")
    with (ROOT / "modules" / "pipeline" / "main.tf").open(encoding="utf-8") as handle:
        local_values = {k: v for block in hcl2.load(handle)["locals"] for k, v in block.items()}
    definition = state_machine()
    retriers = _retriers(definition)
    if SCAN_NOT_FINISHED not in retriers or LAMBDA_THROTTLED not in retriers:
        raise ValueError("ProcessFile no longer retries a missing verdict and a throttled invoke")
    wait = inputs.get("malware_scan_wait") or pipeline["malware_scan_wait"]
    throttled = retriers[LAMBDA_THROTTLED]
    return {
        "batch_size": int(inputs["pipe_batch_size"]),
        # pipe.tf sets no batching window: 0 s.
        "batching_window_s": 0.0,
        "map_concurrency": int(local_values["map_concurrency"]),
        "max_record_age_s": float(pipeline["maximum_record_age_in_seconds"]),
        "scan_retry": Retrier(
            wait["interval_seconds"],
            wait["backoff_rate"],
            int(wait["max_attempts"]),
            wait["max_delay_seconds"],
        ),
        "lambda_retry": Retrier(
            throttled["IntervalSeconds"],
            throttled["BackoffRate"],
            int(throttled["MaxAttempts"]),
            throttled["MaxDelaySeconds"],
            full_jitter=throttled.get("JitterStrategy") == "FULL",
        ),
    }


def _bench(bench: Path) -> dict[str, Any]:
    if not bench.is_file():
        raise FileNotFoundError(f"{bench} is missing: run `make bench` first")
    loaded: dict[str, Any] = json.loads(bench.read_text())
    return loaded


def prod_config(bench: Path = BENCH) -> Config:
    """Prod as configured, with AWS's quotas and the stated latencies."""
    loaded = load(bench=bench)
    deployed, cost = loaded.config, loaded.cost_inputs
    aws = {name: latency for name, (latency, _) in AWS_LATENCIES.items()}
    processor_s = cost.processor_fixed_ms / 1000
    check_s = cost.processor_verdict_check_ms / 1000
    scan_s = cost.malware_scan_fixed_s
    measured = _bench(bench)["cold_start"]
    stages = Stages(
        processor=Latency(processor_s, 2 * processor_s),
        verdict_check=Latency(check_s, 2 * check_s),
        scan=Latency(scan_s, 2 * scan_s),
        # The floor of a Python function with boto3, as the bench measures it.
        cold_start_s=float(measured["bare_import_boto3_s"]),
        **aws,
    )
    start_execution = (
        "sfn_express_start_execution"
        if deployed.state_machine_type == EXPRESS
        else "sfn_standard_start_execution"
    )
    limits = Limits(
        api_rate=Rate(deployed.api_rate_limit, api_burst_limit()),
        api_concurrency=int(deployed.api_reserved_concurrency),
        start_execution=Rate(*token_bucket(start_execution)),
        processor_concurrency=int(deployed.processor_reserved_concurrency),
        pollers_per_shard=int(deployed.pipe_parallelization),
    )
    return Config(
        limits=limits,
        stages=stages,
        poll_busy_s=0.0,
        poll_idle_s=AWS_POLL_IDLE_S[0],
        start_retry=PIPE_START_RETRY,
        **_pipeline_settings("prod"),
    )


def local_config(bench: Path = BENCH) -> Config:
    """The local stack as it runs for the bench: no quotas, the Pipe runner's polling,
    the stand-in scanner's instant verdict, the emulator's measured times."""
    from tests.devstack.pipe_runner import PipeRunner  # imports moto: only when calibrating

    settings = _pipeline_settings("local")
    measured = _bench(bench)
    upload = measured["upload_overhead"]["100KiB"]["app"]
    # One call to the emulator: half the bench's direct side, which makes two (PUT, transaction).
    direct = measured["upload_overhead"]["100KiB"]["direct"]
    emulator_call = Latency(direct["median_ms"] / 2000, direct["p95_ms"] / 2000)
    throughput = measured["throughput"]
    runner = {
        name: parameter.default
        for name, parameter in inspect.signature(PipeRunner).parameters.items()
    }
    stages = Stages(
        upload=Latency(upload["median_ms"] / 1000, upload["p95_ms"] / 1000),
        stream=NO_TIME,  # moto writes the stream record within the write
        get_records=emulator_call,
        start_execution=emulator_call,
        execution=NO_TIME,
        # The bench times executions only as a whole, many at once: per file, the
        # execution, its processor call and the rest together.
        processor=Latency(throughput["direct_executions_s"] / throughput["files"], 0.0),
        verdict_check=NO_TIME,
        scan=NO_TIME,  # the stand-in scanner tags within milliseconds
        publish=NO_TIME,
        cold_start_s=0.0,  # the processor runs in the emulator's process, loaded once
    )
    return Config(
        limits=Limits(),  # no quotas in the emulator
        stages=stages,
        poll_busy_s=float(runner["poll_interval"]),
        poll_idle_s=float(runner["idle_interval"]),
        start_retry=Retrier(float(runner["retry_delay"]), 2, 1_000_000, runner["max_retry_delay"]),
        **settings,
    )


@dataclass(frozen=True)
class Calibration:
    measured_p50_s: float
    measured_p95_s: float
    rounds: int
    predicted: Outcome

    @property
    def predicted_p50_s(self) -> float:
        return percentile(self.predicted.seen, 0.5)

    @property
    def predicted_p95_s(self) -> float:
        return percentile(self.predicted.seen, 0.95)

    @property
    def error(self) -> float:
        return self.predicted_p95_s / self.measured_p95_s - 1


def calibrate(bench: Path = BENCH, seed: int = SEED) -> Calibration:
    """The bench's upload-to-PROCESSED (one file at a time) against the same load simulated."""
    measured = _bench(bench)["upload_to_processed"]
    config = local_config(bench)
    predicted = closed_loop(
        config,
        rounds=max(int(measured["n"]), 200),  # more rounds than the bench: a steadier p95
        poll_s=LOCAL_STATUS_POLL_S,
        # GET /uploads/{id} reads one item: one emulator call, like GetRecords.
        get_s=config.stages.get_records.median_s,
        seed=seed,
    )
    return Calibration(
        measured["median_ms"] / 1000, measured["p95_ms"] / 1000, int(measured["n"]), predicted
    )


# ---------------------------------------------------------------- report
def _seconds(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.2f}"


def report(runs: Sequence[Burst], calibration: Calibration, config: Config) -> str:
    limits = config.limits
    lines = [
        "# Pipeline simulation at load",
        "",
        "Generated by `python -m tests.perf.capacity.simulation` (seeded, deterministic) "
        "from the repository's configuration and the last `make bench`. Each load is a "
        f"{BURST_S / 60:.0f}-minute burst of Poisson arrivals on prod's configuration.",
        "",
        "## Calibration against the local stack",
        "",
        "The bench's upload-to-PROCESSED: one small upload at a time, its status polled "
        "every 10 ms. Simulated the same way, with the local stack's configuration.",
        "",
        "| | measured (bench.json) | simulated |",
        "|---|---:|---:|",
        f"| rounds | {calibration.rounds} | {len(calibration.predicted.seen)} |",
        f"| p50 (s) | {calibration.measured_p50_s:.3f} | {calibration.predicted_p50_s:.3f} |",
        f"| p95 (s) | {calibration.measured_p95_s:.3f} | {calibration.predicted_p95_s:.3f} |",
        "",
        f"p95 error: {calibration.error:+.0%} (tolerance ±{CALIBRATION_TOLERANCE:.0%}). "
        "The local stages: the bench's 100 KiB upload; GetRecords, StartExecution and the "
        "status GET as one emulator call each (half the bench's direct side, which makes "
        "two); per file, the execution with its processor call as the bench's throughput "
        "of executions started at once (it times no single execution); the Pipe runner's "
        "polling; no quotas, no scan wait.",
        "",
        "## Prod at load",
        "",
        "Times are from the upload to its final status, over the accepted uploads; "
        "backlogs are peaks; drain is from the burst's end to the last final status. "
        "Above the API throttle's rate the API answers the rest 429 (the client's retries "
        "are not simulated), so the pipeline behind it sees the same load.",
        "",
        "| uploads/s | accepted | rejected (429) | p50 (s) | p95 (s) "
        "| peak in stream | peak unfinished | drain (s) | outcomes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        outcome = run.outcome
        outcomes = ", ".join(f"{status} {count:,}" for status, count in outcome.statuses.items())
        lines.append(
            f"| {run.load:,.0f} | {len(outcome.latencies):,} | {outcome.rejected:,} "
            f"| {_seconds(outcome.percentile(0.5))} | {_seconds(outcome.percentile(0.95))} "
            f"| {outcome.peak_stream:,} | {outcome.peak_backlog:,} | {run.drain_s:,.1f} "
            f"| {outcomes} |"
        )
    lines += [
        "",
        "## Inputs",
        "",
        "| input | value | source |",
        "|---|---|---|",
        f"| API throttle | {limits.api_rate} | services/template.yaml Throttling*Limit |",
        f"| API reserved concurrency | {limits.api_concurrency} | services/template.yaml |",
        f"| processor reserved concurrency | {limits.processor_concurrency} "
        "| services/template.yaml |",
        f"| StartExecution quota | {limits.start_execution} | Step Functions quotas, us-east-1 |",
        f"| shards x pollers | {limits.shards} x {limits.pollers_per_shard} "
        "| one shard under 1,000 writes/s; pipe.tf sets no parallelization factor |",
        f"| batch size, window | {config.batch_size}, {config.batching_window_s} s "
        "| modules/platform, pipe.tf |",
        f"| Map concurrency | {config.map_concurrency} | modules/pipeline/main.tf |",
        f"| scan wait retrier | {config.scan_retry} | state machine, malware_scan_wait |",
        f"| throttled-invoke retrier | {config.lambda_retry} | state machine |",
        f"| processor | {config.stages.processor} | cost inputs.toml processor_fixed_ms (p95 x2) |",
        f"| verdict check | {config.stages.verdict_check} "
        "| cost inputs.toml processor_verdict_check_ms (p95 x2) |",
        f"| scan | {config.stages.scan} | cost inputs.toml malware_scan_fixed_s (p95 x2) |",
        f"| processor cold start | {config.stages.cold_start_s} s "
        "| bench.json cold_start.bare_import_boto3_s |",
        f"| Pipe idle poll | {AWS_POLL_IDLE_S[0]} s | {AWS_POLL_IDLE_S[1]} |",
    ]
    lines += [
        f"| {name} | {latency} | {reason} |" for name, (latency, reason) in AWS_LATENCIES.items()
    ]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    config = prod_config()
    calibration = calibrate()
    runs = [burst(config, load) for load in LOADS]
    text = report(runs, calibration, config)
    REPORT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
