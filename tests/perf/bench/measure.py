"""The measurements: the local stack in a child process, each side timed in the same run."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess  # nosec B404  # starts only our own interpreter
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from botocore.config import Config

from ops.environment import local_client
from tests.devstack.api_process import api_environment, wait_until_healthy
from tests.devstack.child import ChildStack
from tests.devstack.definitions import REPO_ROOT
from tests.devstack.pipe_runner import PipeConfig
from tests.devstack.pipeline_status import PATH as PIPELINE_STATUS_PATH
from tests.devstack.ports import free_port
from tests.perf import importtime
from tests.perf.bench.figures import (
    figure,
    p95,
    percentile,
    ratio_of_rounds,
    trimmed_geometric_mean,
)
from upload_api.core.config import Settings
from upload_api.quota import Quota
from upload_client.client import file_sha256, upload_file, wait_for_final_status
from upload_client.direct import PART_WORKERS
from upload_contract import Status, to_pipe_record

KIB = 1024
MIB = 1024 * KIB
# The sizes uploaded both ways: 100 KiB and 4 MiB have overhead targets; 1 KiB and 4 MiB
# at the two ends hold the scaling line (its slope the most precise for the rounds).
UPLOAD_SIZES = {"1KiB": KIB, "100KiB": 100 * KIB, "4MiB": 4 * MIB}
TARGET_SIZES = ("100KiB", "4MiB")
BENCH_OWNER = "bench"
# Where the emulator keeps objects over 5 MiB: in memory where the system has a tmpfs.
# S3 writes nothing to this machine's disk, and the 256 MiB stage would write 512 MiB
# of part and object files a side a round, for the disk's writeback to land on later
# samples.
SPILL_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None  # nosec B108 - a fresh private directory made in it
# Rounds thrown away before a stage's samples: the first few after another stage (or the
# stack's start) ran up to twice as slow as the rest, on both sides.
WARM_UP_ROUNDS = 5


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
    }


def in_ms(seconds: Sequence[float]) -> list[float]:
    """Samples as bench.json keeps them, so any figure can be recomputed from the run."""
    return [round(s * 1000, 2) for s in seconds]


def upload_body(data: bytes, name: str) -> bytes:
    return json.dumps(
        {"file_name": name, "comment": "bench", "file_data": base64.b64encode(data).decode()}
    ).encode()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class UploadSides:
    """The same file stored through the app (POST /upload) and by the same AWS calls directly.

    The direct side makes the calls the app makes, from boto3 with the app's client
    settings: the S3 put (SSE-KMS, bucket key, ChecksumSHA256, metadata) and the
    transaction that writes the item and counts it in the owner's quota. So the
    ratio is what the app adds: HTTP, the token check, JSON, Base64, hashing.
    """

    def __init__(self, stack: ChildStack, api: httpx.Client, sink: httpx.Client) -> None:
        self.stack = stack
        self.api = api
        # The floor of the app's extra hop: the same body to a bare app (bench_floors).
        self.sink = sink
        state = stack.state
        app_config = Config(
            retries={"mode": "standard", "max_attempts": 2},
            signature_version="s3v4",
            s3={"payload_signing_enabled": False},
        )
        self.s3 = local_client(state, "s3", app_config)
        self.dynamodb = local_client(state, "dynamodb", app_config)
        self.quota = Quota(state.usage_table, max_bytes=2**60, max_files=2**40)

    def via_app(self, body: bytes) -> None:
        response = self.api.post("/upload", content=body)
        if response.status_code != 201:
            raise RuntimeError(f"upload failed: {response.status_code} {response.text[:200]}")

    def via_transport(self, body: bytes) -> None:
        self.sink.post("/", content=body).raise_for_status()

    def direct(self, data: bytes) -> None:
        state = self.stack.state
        file_id = str(uuid.uuid4())
        key = f"uploads/{BENCH_OWNER}/{file_id}/bench.bin"
        digest = hashlib.sha256(data)
        self.s3.put_object(
            Bucket=state.bucket,
            Key=key,
            Body=data,
            ContentType="application/octet-stream",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=state.kms_key_arn,
            BucketKeyEnabled=True,
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            Metadata={"file-id": file_id, "owner": BENCH_OWNER},
        )
        now = datetime.now(UTC).isoformat()
        item = {
            "file_id": {"S": file_id},
            "owner": {"S": BENCH_OWNER},
            "bucket": {"S": state.bucket},
            "s3_key": {"S": key},
            "file_name": {"S": "bench.bin"},
            "size_bytes": {"N": str(len(data))},
            "sha256": {"S": digest.hexdigest()},
            "content_type": {"S": "application/octet-stream"},
            "comment": {"S": "bench"},
            "created_at": {"S": now},
            "updated_at": {"S": now},
            # UPLOADED, like the app's rows: both sides then cost the pipeline
            # the same downstream work.
            "status": {"S": Status.UPLOADED.value},
        }
        self.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": state.table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(file_id)",
                    }
                },
                self.quota.count(BENCH_OWNER, len(data)),
            ],
            ClientRequestToken=file_id,
        )

    def interleaved(
        self, data: bytes, rounds: int, first: int = 0
    ) -> tuple[list[float], list[float], list[float]]:
        """`rounds` timings of the app, the direct calls and the transport floor, taking
        turns to go first, each with the pipeline idle."""
        body = upload_body(data, "bench.bin")
        sides = (
            (lambda: self.via_app(body)),
            (lambda: self.direct(data)),
            (lambda: self.via_transport(body)),
        )
        times: tuple[list[float], list[float], list[float]] = ([], [], [])
        for n in range(rounds):
            turn = (n + first) % len(sides)
            for side in (*range(turn, len(sides)), *range(turn)):
                # The processing one upload triggers must not land on the next sample.
                wait_until_pipeline_idle(self.stack)
                times[side].append(timed(sides[side]))
        return times


def bench_uploads(sides: UploadSides, rounds: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every size of UPLOAD_SIZES both ways in every round: the overhead at each target size,
    and the scaling line through all of them. In one stage, so that the line rests on as
    many rounds as the overheads, and a busy spell of the machine lands on every size."""
    files = {label: os.urandom(size) for label, size in UPLOAD_SIZES.items()}
    times: dict[str, tuple[list[float], list[float], list[float]]] = {
        label: ([], [], []) for label in files
    }
    for n in range(WARM_UP_ROUNDS + rounds):
        for i, (label, data) in enumerate(files.items()):
            for kind, sample in enumerate(sides.interleaved(data, 1, first=n + i)):
                if n >= WARM_UP_ROUNDS:
                    times[label][kind].extend(sample)
    overhead = {size: upload_overhead(UPLOAD_SIZES[size], *times[size]) for size in TARGET_SIZES}
    # Every sample is in the scaling figures (by side, size and round).
    return overhead, scaling(list(times.values()), rounds)


def upload_overhead(
    size: int, app_times: list[float], direct_times: list[float], transport_times: list[float]
) -> dict[str, Any]:
    app, base, transport = summary(app_times), summary(direct_times), summary(transport_times)
    # The floor: the direct calls plus carrying the body over the app's extra hop.
    floor_times = [d + t for d, t in zip(direct_times, transport_times, strict=True)]
    return {
        "size_bytes": size,
        "app": app,
        "direct": base,
        "transport": transport,
        "ratio": ratio_of_rounds(app_times, direct_times),
        "ratio_p95": round(app["p95_ms"] / base["p95_ms"], 2),
        "floor_ratio": ratio_of_rounds(floor_times, direct_times),
        "ratio_to_floor": ratio_of_rounds(app_times, floor_times),
    }


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through the points."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return slope, mean_y - slope * mean_x


def scaling(times: list[tuple[list[float], ...]], rounds: int) -> dict[str, Any]:
    """Each side's latency at each size (the trimmed geometric mean of its rounds), and the
    line through each (ms per MiB). `times`: by size, then side (app, direct, bare hop)."""
    mib = [size / MIB for size in UPLOAD_SIZES.values()]

    # One sample a round: each size's time on each side.
    per_round = [tuple(tuple(sample[kind][n] for sample in times) for kind in range(3))
                 for n in range(rounds)]  # fmt: skip

    # The line through each size's trimmed geometric mean, as the ratios take theirs.
    def slope(rounds: Sequence[tuple[tuple[float, ...], ...]], kind: int) -> float:
        return least_squares(mib, [trimmed_geometric_mean(r[kind][i] for r in rounds)
                                   for i in range(len(mib))])[0]  # fmt: skip

    def floor_slope(rounds: Sequence[tuple[tuple[float, ...], ...]]) -> float:
        return slope(rounds, 1) + slope(rounds, 2)

    result: dict[str, Any] = {"sizes_bytes": list(UPLOAD_SIZES.values()), "rounds": rounds}
    for index, side in enumerate(("app", "direct", "transport")):
        ms = [trimmed_geometric_mean(sample[index]) * 1000 for sample in times]
        ms_per_mib, intercept = least_squares(mib, ms)
        result[side] = {
            "trimmed_geomean_ms": [round(m, 2) for m in ms],
            "slope_ms_per_mib": round(ms_per_mib, 2),
            "intercept_ms": round(intercept, 2),
            "samples_ms": [in_ms(sample[index]) for sample in times],  # by size, then round
        }
    # Resampled by round: a round has every size, so a busy spell lands on all of them.
    result["slope_ratio"] = figure(per_round, lambda r: slope(r, 0) / slope(r, 1))
    result["floor_slope_ratio"] = figure(per_round, lambda r: floor_slope(r) / slope(r, 1))
    result["slope_ratio_to_floor"] = figure(per_round, lambda r: slope(r, 0) / floor_slope(r))
    return result


def wait_until_pipeline_idle(
    stack: ChildStack, deadline_s: float = 120, poll_s: float = 0.02
) -> None:
    """Let the pipeline finish earlier work, so it does not slow the next measurement: every
    stream record delivered, every object-created event, every execution ended (the
    emulator's /_devstack/pipeline says `idle`). A table row turning PROCESSED is not
    enough: the execution's last steps, and the event the object's upload sent, come after
    it, and fell on the next sample (1 KiB rounds then spread three times as wide)."""
    url = f"{stack.state.moto_endpoint}{PIPELINE_STATUS_PATH}"
    deadline = time.perf_counter() + deadline_s
    while time.perf_counter() < deadline:
        status = httpx.get(url).raise_for_status().json()
        if status["idle"]:
            return
        time.sleep(poll_s)
    raise RuntimeError(f"the pipeline did not go idle within {deadline_s:.0f} s: {status}")


def bench_processed_latency(stack: ChildStack, api: httpx.Client, rounds: int) -> dict[str, Any]:
    wait_until_pipeline_idle(stack)
    latencies: list[float] = []
    for n in range(rounds):
        started = time.perf_counter()
        response = api.post("/upload", content=upload_body(f"file {n}\n".encode(), f"f{n}.txt"))
        # As a client sees it (GET /uploads/{id}), polled often enough not to blur the figure.
        wait_for_final_status(api, response.json()["file_id"], 30, interval=0.01)
        latencies.append(time.perf_counter() - started)
    return {**summary(latencies), "p95_s": figure(latencies, p95), "samples_ms": in_ms(latencies)}


def bench_throughput(
    stack: ChildStack, api: httpx.Client, files: int, rounds: int
) -> dict[str, Any]:
    """`rounds` times: `files` uploads, then until all are processed; against starting their
    executions directly (median times of the rounds, and the ratio round by round)."""
    app_times: list[float] = []
    floor_times: list[float] = []
    batch_size = 0
    for n in range(rounds):
        app_s, floor_s, batch_size = _throughput_round(stack, api, files, f"t{n}")
        app_times.append(app_s)
        floor_times.append(floor_s)
    app_s, floor_s = statistics.median(app_times), statistics.median(floor_times)
    return {
        "files": files,
        "rounds": rounds,
        "batch_size": batch_size,
        "app_s": round(app_s, 2),
        "app_files_per_s": round(files / app_s, 1),
        "direct_executions_s": round(floor_s, 2),
        "direct_executions_files_per_s": round(files / floor_s, 1),
        "ratio": ratio_of_rounds(app_times, floor_times),
        "samples_ms": {"app": in_ms(app_times), "direct_executions": in_ms(floor_times)},
    }


def _throughput_round(
    stack: ChildStack, api: httpx.Client, files: int, prefix: str
) -> tuple[float, float, int]:
    """`files` uploads, then until all are processed; against starting their executions directly.

    The floor: the same files set back to UPLOADED (a MODIFY, which the Pipe's
    filter drops), then the executions the Pipe runner starts for them (their
    INSERT records as the Pipe delivers them, in full batches of the Pipe's
    BatchSize) started at once, timed until all are processed again.
    """
    wait_until_pipeline_idle(stack)
    started = time.perf_counter()
    file_ids = set()
    for n in range(files):
        body = upload_body(f"file {n}\n".encode(), f"{prefix}-{n}.txt")
        response = api.post("/upload", content=body)
        response.raise_for_status()
        file_ids.add(response.json()["file_id"])
    wait_until_pipeline_idle(stack, poll_s=0.05)
    app_s = time.perf_counter() - started

    state, dynamodb = stack.state, stack.client("dynamodb")
    pipe = PipeConfig.from_pipe(dict(stack.client("pipes").describe_pipe(Name=state.pipe_name)))
    records = [to_pipe_record(r, state.stream_arn) for r in _inserts(stack, file_ids)]
    for file_id in file_ids:
        dynamodb.update_item(
            TableName=state.table,
            Key={"file_id": {"S": file_id}},
            UpdateExpression="SET #status = :uploaded",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":uploaded": {"S": Status.UPLOADED.value}},
        )
    sfn = stack.client("stepfunctions")
    started = time.perf_counter()
    for first in range(0, len(records), pipe.batch_size):
        sfn.start_execution(
            stateMachineArn=pipe.target_state_machine_arn,
            name=str(uuid.uuid4()),
            input=json.dumps(records[first : first + pipe.batch_size], default=str),
        )
    wait_until_pipeline_idle(stack, poll_s=0.05)
    return app_s, time.perf_counter() - started, pipe.batch_size


def _inserts(stack: ChildStack, file_ids: set[str]) -> list[dict[str, Any]]:
    """The stream's INSERT records of these files, in stream order."""
    streams, arn = stack.client("dynamodbstreams"), stack.state.stream_arn
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator and len(found) < len(file_ids):
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        found += [
            dict(r)
            for r in page["Records"]
            if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["file_id"]["S"] in file_ids
        ]
        iterator = page.get("NextShardIterator")
    if len(found) != len(file_ids):
        raise RuntimeError(f"found {len(found)} INSERT records of {len(file_ids)} files")
    return found


# Each side uploads the 256 MiB file twice a round and keeps the faster. The emulator
# stalls now and then, on every side alike (up to 2 s added to a 1.3 s upload), and a
# stall only ever adds: the faster of two is the side's own time far more often.
TRIES_PER_ROUND = 2


def bench_direct_upload(
    stack: ChildStack, api: httpx.Client, workdir: Path, size: int, rounds: int
) -> dict[str, Any]:
    """A large file through the direct path vs boto3's `upload_file` of it, same emulator.

    Timed for the app: POST /uploads, the part PUTs and complete, as `make upload`
    sends them (upload_client); not the file's SHA-256 (computed once,
    before) and not the processing that follows. For boto3: `upload_file` to the
    same bucket with the same SSE-KMS key. The file is read from disk by all sides.

    The floor: the app's own S3 calls made directly with boto3 (a multipart upload
    without a checksum algorithm, the app's part size, PART_WORKERS threads). For
    such an upload the emulator assembles a full-object CRC64 checksum at complete,
    as S3 does on its own servers, where `upload_file` has S3 combine the parts'
    CRC32s; the floor carries that work, the app adds its HTTP hops to it.
    """
    path = workdir / "direct-upload.bin"
    with path.open("wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
    sha256 = file_sha256(path)
    s3, bucket = stack.client("s3"), stack.state.bucket
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": stack.state.kms_key_arn}
    part_size = Settings.model_fields["multipart_part_bytes"].default
    keys: list[str] = []
    # Where each side's time goes, round by round: start (POST /uploads), parts, complete.
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    marks: dict[str, float] = {}

    def mark(event: str) -> Callable[[Any], None]:
        def hook(message: Any) -> None:
            request = getattr(message, "request", message)
            if request.method == "POST" and request.url.path.startswith("/uploads"):
                end = "complete" if request.url.path.endswith("/complete") else "start"
                marks[f"{end} {event}"] = time.perf_counter()

        return hook

    def via_app() -> None:
        marks.clear()
        with _hooked(api, request=mark("sent"), response=mark("answered")):
            answer = upload_file(
                api,
                path,
                comment="bench",
                resume_dir=workdir / "uploads",
                progress=False,
                sha256=sha256,
            )
        keys.append(answer["s3_path"].split("/", 3)[3])
        phases["app start"].append(marks["start answered"] - marks["start sent"])
        phases["app parts"].append(marks["complete sent"] - marks["start answered"])
        phases["app complete"].append(marks["complete answered"] - marks["complete sent"])

    # The presigned part PUTs carry no checksum: neither do these (boto3 adds a CRC32).
    unchecked = local_client(
        stack.state, "s3", Config(request_checksum_calculation="when_required")
    )

    def same_calls() -> None:
        keys.append(f"bench/floor/{uuid.uuid4()}.bin")
        upload = unchecked.create_multipart_upload(
            Bucket=bucket, Key=keys[-1], BucketKeyEnabled=True, **encryption
        )

        def put(number: int) -> dict[str, Any]:
            with path.open("rb") as source:
                source.seek((number - 1) * part_size)
                body = source.read(part_size)
            answer = unchecked.upload_part(
                Bucket=bucket,
                Key=keys[-1],
                UploadId=upload["UploadId"],
                PartNumber=number,
                Body=body,
            )
            return {"PartNumber": number, "ETag": answer["ETag"]}

        started = time.perf_counter()
        with ThreadPoolExecutor(PART_WORKERS) as pool:
            parts = list(pool.map(put, range(1, -(-size // part_size) + 1)))
        completing = time.perf_counter()
        unchecked.complete_multipart_upload(
            Bucket=bucket,
            Key=keys[-1],
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": parts},
        )
        phases["same calls parts"].append(completing - started)
        phases["same calls complete"].append(time.perf_counter() - completing)

    def upload_file_boto3() -> None:
        keys.append(f"bench/direct/{uuid.uuid4()}.bin")
        s3.upload_file(str(path), bucket, keys[-1], ExtraArgs=encryption)

    def idle() -> None:
        # The pipeline done with the last file, and the emulator rid of the bytes
        # (256 MiB a version), so neither weighs on the next sample.
        wait_until_pipeline_idle(stack, deadline_s=60)
        while keys:
            listed = s3.list_object_versions(Bucket=bucket, Prefix=keys.pop())
            for version in listed.get("Versions", []):
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

    sides = (via_app, same_calls, upload_file_boto3)
    times: dict[Callable[[], None], list[float]] = {side: [] for side in sides}
    for side in sides:
        idle()
        side()  # warm-up
    for samples in phases.values():
        samples.clear()

    def fastest_try(side: Callable[[], None]) -> float:
        tries = []
        for _ in range(TRIES_PER_ROUND):
            idle()
            tries.append(timed(side))
        return min(tries)

    for n in range(rounds):  # interleaved, and each side first in turn
        for side in sides[n % 3 :] + sides[: n % 3]:
            times[side].append(fastest_try(side))
    idle()
    app, floor, base = (times[side] for side in sides)
    return {
        "size_bytes": size,
        "rounds": rounds,
        "part_size": part_size,
        "part_workers": PART_WORKERS,
        "app_s": [round(t, 3) for t in app],
        "same_calls_s": [round(t, 3) for t in floor],
        "upload_file_s": [round(t, 3) for t in base],
        "app_mb_per_s": round(size / statistics.median(app) / 1e6, 1),
        "same_calls_mb_per_s": round(size / statistics.median(floor) / 1e6, 1),
        "upload_file_mb_per_s": round(size / statistics.median(base) / 1e6, 1),
        "phases_median_s": {name: round(statistics.median(t), 3) for name, t in phases.items()},
        "ratio": ratio_of_rounds(app, base),
        "floor_ratio": ratio_of_rounds(floor, base),
        "ratio_to_floor": ratio_of_rounds(app, floor),
    }


PHASES = (
    "app start",
    "app parts",
    "app complete",
    "same calls parts",
    "same calls complete",
)


@contextmanager
def _hooked(
    client: httpx.Client, *, request: Callable[[Any], None], response: Callable[[Any], None]
) -> Iterator[None]:
    """The client with two more event hooks for the duration."""
    client.event_hooks["request"].append(request)
    client.event_hooks["response"].append(response)
    try:
        yield
    finally:
        client.event_hooks["request"].remove(request)
        client.event_hooks["response"].remove(response)


def _time_until_healthy(command: list[str], env: dict[str, str], port: int) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while not _healthy(port):
            if process.poll() is not None:
                raise RuntimeError("app exited during the cold-start measurement")
            time.sleep(0.002)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()


_HEALTH_REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _healthy(port: int) -> bool:
    """One GET /health on a raw socket: an HTTP client's own set-up (httpx builds
    an SSL context per call) would be counted into the start-up it measures."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(_HEALTH_REQUEST)
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _bare_boto3_import(env: dict[str, str]) -> None:
    command = [sys.executable, "-c", "import boto3"]
    subprocess.run(command, env=env, check=True)  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell


def bench_cold_start(stack: ChildStack, rounds: int) -> dict[str, Any]:
    """Spawn to first /health answer (what the Web Adapter waits for) vs spawn to `import boto3`.

    Both sides run with bytecode compiled ahead, as in the image (pip compiles
    what it installs and the Dockerfile compiles the app; `make` installs with
    UV_COMPILE_BYTECODE, and the app's __pycache__ is git-ignored).
    """
    env = api_environment(stack.state)
    app_package = str(REPO_ROOT / "services" / "upload_api" / "upload_api")
    compile_app = [sys.executable, "-m", "compileall", "-q", app_package]
    subprocess.run(compile_app, env=env, check=True)  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell

    def first_health(factory: str) -> Callable[[], float]:
        def spawn() -> float:
            port = free_port()
            uvicorn = [
                sys.executable, "-m", "uvicorn", "--factory", factory,
                "--port", str(port), "--log-level", "warning", "--no-access-log",
            ]  # fmt: skip
            return _time_until_healthy(uvicorn, env, port)

        return spawn

    sides = (
        first_health("upload_api.main:create_app"),
        # The floor: FastAPI with nothing but /health (bench_floors).
        first_health("tests.perf.bench_floors:minimal_fastapi"),
        lambda: timed(lambda: _bare_boto3_import(env)),
    )
    times: tuple[list[float], ...] = ([], [], [])
    for n in range(rounds):  # each side first in turn: none always follows the same one
        for side in (*range(n % 3, 3), *range(n % 3)):
            times[side].append(sides[side]())
    app_times, framework_times, boto_times = times
    return {
        "rounds": rounds,
        "app_first_health_s": figure(app_times),
        "bare_import_boto3_s": round(statistics.median(boto_times), 3),
        "ratio": ratio_of_rounds(app_times, boto_times),
        "minimal_fastapi_first_health_s": round(statistics.median(framework_times), 3),
        "floor_ratio": ratio_of_rounds(framework_times, boto_times),
        "samples_ms": {
            "app": in_ms(app_times),
            "minimal_fastapi": in_ms(framework_times),
            "import_boto3": in_ms(boto_times),
        },
        "import_profile": importtime.profile(env),
    }


@contextmanager
def body_sink(env: dict[str, str]) -> Iterator[str]:
    """bench_floors.body_sink under uvicorn, as the API runs; yields its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.perf.bench_floors:body_sink", "--port", str(port),
        "--lifespan", "off", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, timeout=30)
        yield url
    finally:
        process.terminate()
        process.wait()


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found")


def bench_memory(stack: ChildStack, api: httpx.Client, size: int, rounds: int) -> dict[str, Any]:
    """Peak RSS of the API process added by one upload, `rounds` uploads in turn, after an
    upload of the same size has warmed the process (its pools, clients and allocator)."""
    pid = stack.state.api_pid
    if pid is None or not Path(f"/proc/{pid}/clear_refs").exists():
        raise RuntimeError("the memory figure needs Linux /proc and the API's pid")
    body = upload_body(os.urandom(size), "memory.bin")
    api.post("/upload", content=body).raise_for_status()  # warm-up
    added: list[float] = []
    for _ in range(rounds):
        wait_until_pipeline_idle(stack)
        # "5" resets the peak (VmHWM) to the current RSS, so the next peak is this upload's.
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before = _peak_rss_bytes(pid)
        api.post("/upload", content=body).raise_for_status()
        added.append(_peak_rss_bytes(pid) - before)
    return {
        "file_bytes": size,
        "request_bytes": len(body),
        "peak_rss_added_bytes": statistics.median(added),
        "factor_of_file_size": figure([a / size for a in added], digits=2),
    }


class Steps:
    """One line per stage on stderr, with the time so far: the bench runs for minutes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.started = time.monotonic()

    def __call__(self, name: str) -> None:
        self.count += 1
        elapsed = time.monotonic() - self.started
        line = f"bench [{self.count}/{self.total}] {elapsed:4.0f} s  {name}"
        print(line, file=sys.stderr, flush=True)

    def done(self) -> None:
        elapsed = time.monotonic() - self.started
        print(f"bench done in {elapsed:.0f} s", file=sys.stderr, flush=True)


def machine(load_before: float) -> dict[str, Any]:
    """What the figures were measured on, and how busy it was (1-minute load average)."""
    cpuinfo = Path("/proc/cpuinfo")
    models = (
        [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
         if line.startswith("model name")]
        if cpuinfo.exists()
        else []
    )  # fmt: skip
    return {
        "cpus": os.cpu_count(),
        "cpu_model": models[0] if models else platform.processor(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "system": platform.platform(terse=True),
        "python": sys.version.split()[0],
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def run(
    *,
    rounds_upload: int,
    rounds_processed: int,
    rounds_cold: int,
    rounds_direct_upload: int,
    rounds_memory: int,
    rounds_throughput: int,
    throughput_files: int,
) -> dict[str, Any]:
    """Every measurement on one local stack: the results bench.json holds, but the verdicts."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    step = Steps(total=7)
    step("starting a local stack")
    with (
        tempfile.TemporaryDirectory(prefix="devstack-bench-") as workdir,
        tempfile.TemporaryDirectory(prefix="devstack-bench-", dir=SPILL_DIR) as spill_dir,
        ChildStack(Path(workdir), spill_dir=Path(spill_dir)) as stack,
    ):
        with (
            stack.api(timeout=60) as api,
            body_sink(api_environment(stack.state)) as sink_url,
            httpx.Client(base_url=sink_url, timeout=60) as sink,
        ):
            step(f"peak memory of one 4 MiB upload ({rounds_memory} rounds)")
            memory = bench_memory(stack, api, 4 * MIB, rounds_memory)
            # First of the timed stages: later in the run (after some 700 uploads and
            # the pipeline's work on them) its rounds spread from 1.2 to 3.5 s, where on a
            # fresh stack they keep within about 1.2 to 1.8 s.
            step(f"256 MiB direct upload ({rounds_direct_upload} rounds)")
            direct_upload = bench_direct_upload(
                stack, api, Path(workdir), 256 * MIB, rounds_direct_upload
            )
            sides = UploadSides(stack, api, sink)
            sizes = ", ".join(UPLOAD_SIZES)
            step(f"upload overhead and scaling ({rounds_upload} rounds of {sizes})")
            overhead, scaling = bench_uploads(sides, rounds_upload)
            step(f"upload to PROCESSED ({rounds_processed} files)")
            processed = bench_processed_latency(stack, api, rounds_processed)
            step(f"throughput ({rounds_throughput} x {throughput_files} files)")
            throughput = bench_throughput(stack, api, throughput_files, rounds_throughput)
        step(f"cold starts ({rounds_cold} rounds)")
        cold = bench_cold_start(stack, rounds_cold)
    step.done()

    return {
        "started_at": started_at,
        "machine": machine(load_before),
        "upload_overhead": overhead,
        "scaling": scaling,
        "upload_to_processed": processed,
        "throughput": throughput,
        "cold_start": cold,
        "memory": memory,
        "direct_upload": direct_upload,
    }
