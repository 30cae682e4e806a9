"""`python -m devstack.bench` (make bench): side-by-side measurements, not a timed test.

Every figure is a ratio or a latency measured in the same run on the same
machine, so a slow machine slows both sides. The local stack runs in its own
process, so the bench client (httpx for the app, boto3 for the direct path)
never shares a GIL with moto.

Writes reports/bench/bench.json and reports/bench/bench.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import subprocess  # nosec B404  # starts only our own interpreter
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from devstack import upload_client
from devstack.child import ChildStack
from devstack.definitions import REPO_ROOT
from devstack.stack import api_environment, free_port
from upload_contract import Status

KIB = 1024
MIB = 1024 * KIB
REPORT_DIR = REPO_ROOT / "reports" / "bench"
TARGETS = {
    "upload_overhead_100kib": 1.5,
    "upload_overhead_4mib": 1.3,
    "processed_p95_s": 2.0,
    "cold_start_s": 0.6,
    "cold_start_ratio": 3.0,
    "memory_factor": 4.0,
    "direct_upload_256mib": 1.1,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
    }


def upload_body(data: bytes, name: str) -> bytes:
    return json.dumps(
        {"file_name": name, "comment": "bench", "file_data": base64.b64encode(data).decode()}
    ).encode()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_upload_overhead(
    stack: ChildStack, api: httpx.Client, size: int, rounds: int
) -> dict[str, Any]:
    wait_until_processed(stack)
    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    data = os.urandom(size)
    body = upload_body(data, "bench.bin")

    def via_app() -> None:
        response = api.post("/upload", content=body)
        if response.status_code != 201:
            raise RuntimeError(f"upload failed: {response.status_code} {response.text[:200]}")

    def direct() -> None:
        # What the app stores, without the app: the object, then the conditional put.
        file_id = str(uuid.uuid4())
        key = f"uploads/bench/{file_id}/bench.bin"
        s3.put_object(
            Bucket=stack.state.bucket,
            Key=key,
            Body=data,
            ContentType="application/octet-stream",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=stack.state.kms_key_arn,
        )
        now = datetime.now(UTC).isoformat()
        dynamodb.put_item(
            TableName=stack.state.table,
            Item={
                "file_id": {"S": file_id},
                "owner": {"S": "bench"},
                "bucket": {"S": stack.state.bucket},
                "s3_key": {"S": key},
                "file_name": {"S": "bench.bin"},
                "size_bytes": {"N": str(len(data))},
                "sha256": {"S": hashlib.sha256(data).hexdigest()},
                "content_type": {"S": "application/octet-stream"},
                "comment": {"S": "bench"},
                "created_at": {"S": now},
                "updated_at": {"S": now},
                # UPLOADED, like the app's rows: both sides then cost the pipeline
                # the same downstream work while the uploads are being timed.
                "status": {"S": Status.UPLOADED.value},
            },
            ConditionExpression="attribute_not_exists(file_id)",
        )

    for warm in (via_app, direct):
        warm()
    app_times: list[float] = []
    direct_times: list[float] = []
    for _ in range(rounds):  # interleaved, so drift hits both sides alike
        # Each sample starts with the pipeline idle: the processing it triggers
        # must not land on the other side's timing.
        wait_until_processed(stack)
        app_times.append(timed(via_app))
        wait_until_processed(stack)
        direct_times.append(timed(direct))
    app, base = summary(app_times), summary(direct_times)
    return {
        "size_bytes": size,
        "app": app,
        "direct": base,
        "ratio_median": round(app["median_ms"] / base["median_ms"], 2),
        "ratio_p95": round(app["p95_ms"] / base["p95_ms"], 2),
    }


def wait_until_processed(stack: ChildStack, deadline_s: float = 120) -> None:
    """Let the pipeline finish earlier rows, so they do not slow the next measurement."""
    dynamodb = stack.client("dynamodb")
    deadline = time.perf_counter() + deadline_s
    while time.perf_counter() < deadline:
        pending = dynamodb.scan(
            TableName=stack.state.table,
            FilterExpression="#status = :uploaded",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":uploaded": {"S": Status.UPLOADED.value}},
            Select="COUNT",
        )["Count"]
        if pending == 0:
            return
        time.sleep(0.02)
    raise RuntimeError("the pipeline did not catch up within the deadline")


def bench_processed_latency(stack: ChildStack, api: httpx.Client, rounds: int) -> dict[str, Any]:
    wait_until_processed(stack)
    dynamodb = stack.client("dynamodb")
    latencies: list[float] = []
    for n in range(rounds):
        started = time.perf_counter()
        response = api.post("/upload", content=upload_body(f"file {n}\n".encode(), f"f{n}.txt"))
        file_id = response.json()["file_id"]
        deadline = started + 30
        while time.perf_counter() < deadline:
            item = dynamodb.get_item(
                TableName=stack.state.table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            )["Item"]
            if item["status"]["S"] != Status.UPLOADED:
                break
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
    return summary(latencies)


def bench_direct_upload(
    stack: ChildStack, api: httpx.Client, workdir: Path, size: int, rounds: int
) -> dict[str, Any]:
    """A large file through the direct path vs boto3's `upload_file` of it, same emulator.

    Timed for the app: POST /uploads, the part PUTs and complete, as `make upload`
    sends them (devstack.upload_client); not the file's SHA-256 (computed once,
    before) and not the processing that follows. For boto3: `upload_file` to the
    same bucket with the same SSE-KMS key. The file is read from disk by both.
    """
    path = workdir / "direct-upload.bin"
    with path.open("wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
    sha256 = upload_client.file_sha256(path)
    s3, bucket = stack.client("s3"), stack.state.bucket
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": stack.state.kms_key_arn}
    keys: list[str] = []
    stalled: list[str] = []

    def via_app() -> None:
        answer = upload_client.upload_file(
            api, path, comment="bench", state_dir=workdir, progress=False, sha256=sha256
        )
        keys.append(answer["s3_path"].split("/", 3)[3])

    def direct() -> None:
        keys.append(f"bench/direct/{uuid.uuid4()}.bin")
        s3.upload_file(str(path), bucket, keys[-1], ExtraArgs=encryption)

    def idle() -> None:
        # The pipeline done with the last file, and the emulator rid of the bytes
        # (256 MiB a version), so neither weighs on the next sample.
        if not stalled:
            try:
                wait_until_processed(stack, deadline_s=60)
            except RuntimeError as error:
                # When complete and the S3 event race, the loser's cancelled transaction
                # makes moto swap the files table's stream shard, and the pipe runner
                # reads the old one from then on. The samples stay valid (the pipeline
                # is idle for good), so note it and go on.
                stalled.append(str(error))
                print(f"warning: direct upload bench: {error}", file=sys.stderr)
        while keys:
            listed = s3.list_object_versions(Bucket=bucket, Prefix=keys.pop())
            for version in listed.get("Versions", []):
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

    times: dict[Callable[[], None], list[float]] = {via_app: [], direct: []}
    for side in times:
        idle()
        side()  # warm-up
    for n in range(rounds):  # interleaved, and each side first in turn
        for side in (via_app, direct) if n % 2 == 0 else (direct, via_app):
            idle()
            times[side].append(timed(side))
    idle()
    app, base = statistics.median(times[via_app]), statistics.median(times[direct])
    return {
        "size_bytes": size,
        "rounds": rounds,
        "part_workers": upload_client.PART_WORKERS,
        "app_s": [round(t, 3) for t in times[via_app]],
        "direct_s": [round(t, 3) for t in times[direct]],
        "app_mb_per_s": round(size / app / 1e6, 1),
        "direct_mb_per_s": round(size / base / 1e6, 1),
        "ratio_median": round(app / base, 2),
        "pipeline_stalled": bool(stalled),
    }


def _time_until_healthy(command: list[str], env: dict[str, str], url: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed argv of our own interpreter, no shell
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("app exited during the cold-start measurement")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait()


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
    app_times, boto_times = [], []
    for _ in range(rounds):
        port = free_port()
        uvicorn = [
            sys.executable, "-m", "uvicorn", "--factory", "upload_api.main:create_app",
            "--port", str(port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        health = f"http://127.0.0.1:{port}/health"
        app_times.append(_time_until_healthy(uvicorn, env, health))
        boto_times.append(timed(lambda: _bare_boto3_import(env)))
    app, bare = statistics.median(app_times), statistics.median(boto_times)
    return {
        "rounds": rounds,
        "app_first_health_s": round(app, 3),
        "bare_import_boto3_s": round(bare, 3),
        "ratio": round(app / bare, 2),
    }


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found")


def bench_memory(stack: ChildStack, api: httpx.Client, size: int) -> dict[str, Any]:
    """Peak RSS of the API process added by one upload (after a warm-up upload)."""
    pid = stack.state.api_pid
    if pid is None or not Path(f"/proc/{pid}/clear_refs").exists():
        return {"skipped": "needs Linux /proc and the API's pid"}
    api.post("/upload", content=upload_body(b"warm up", "warm.txt")).raise_for_status()
    body = upload_body(os.urandom(size), "memory.bin")
    # "5" resets the peak (VmHWM) to the current RSS, so the next peak is this upload's.
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _peak_rss_bytes(pid)
    api.post("/upload", content=body).raise_for_status()
    added = _peak_rss_bytes(pid) - before
    return {
        "file_bytes": size,
        "request_bytes": len(body),
        "peak_rss_added_bytes": added,
        "factor_of_file_size": round(added / size, 2),
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    measured = {
        "upload_overhead_100kib": results["upload_overhead"]["100KiB"]["ratio_median"],
        "upload_overhead_4mib": results["upload_overhead"]["4MiB"]["ratio_median"],
        "processed_p95_s": results["upload_to_processed"]["p95_ms"] / 1000,
        "cold_start_s": results["cold_start"]["app_first_health_s"],
        "cold_start_ratio": results["cold_start"]["ratio"],
        "memory_factor": results["memory"].get("factor_of_file_size", 0.0),
        "direct_upload_256mib": results["direct_upload"]["ratio_median"],
    }
    out = []
    for name, target in TARGETS.items():
        value = measured[name]
        met = value <= target
        out.append(
            {
                "metric": name,
                "measured": round(value, 3),
                "target_at_most": target,
                "met": met,
                "missed_by_percent": None if met else round((value / target - 1) * 100, 1),
            }
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark (local stack)",
        "",
        f"Run {results['started_at']} on {results['machine']['cpus']} CPUs, Python "
        f"{results['machine']['python']}. Same-run comparisons; see bench.json for raw figures.",
        "",
        "| metric | measured | target (at most) | met | missed by |",
        "|---|---|---|---|---|",
    ]
    for v in results["verdicts"]:
        missed = "" if v["met"] else f"{v['missed_by_percent']} %"
        lines.append(
            f"| {v['metric']} | {v['measured']} | {v['target_at_most']} | "
            f"{'yes' if v['met'] else 'no'} | {missed} |"
        )
    lines += ["", "## Upload overhead (POST /upload vs direct S3 put + DynamoDB put)", ""]
    lines += ["| size | app median / p95 ms | direct median / p95 ms | ratio median / p95 |"]
    lines += ["|---|---|---|---|"]
    for label, r in results["upload_overhead"].items():
        lines.append(
            f"| {label} | {r['app']['median_ms']} / {r['app']['p95_ms']} | "
            f"{r['direct']['median_ms']} / {r['direct']['p95_ms']} | "
            f"{r['ratio_median']} / {r['ratio_p95']} |"
        )
    p = results["upload_to_processed"]
    c = results["cold_start"]
    m = results["memory"]
    u = results["direct_upload"]
    lines += [
        "",
        f"Upload to PROCESSED: median {p['median_ms']} ms, p95 {p['p95_ms']} ms (n={p['n']}).",
        "",
        f"Cold start (spawn to first /health under uvicorn): {c['app_first_health_s']} s; "
        f"bare `import boto3`: {c['bare_import_boto3_s']} s; ratio {c['ratio']}.",
        "",
        f"Memory: peak RSS added by one {m.get('file_bytes', 0) // MIB} MiB upload: "
        f"{m.get('peak_rss_added_bytes', 0) / MIB:.1f} MiB "
        f"({m.get('factor_of_file_size')}x the file).",
        "",
        f"Direct upload of {u['size_bytes'] // MIB} MiB (POST /uploads, parts on "
        f"{u['part_workers']} threads, complete; SHA-256 computed before, processing after): "
        f"{u['app_mb_per_s']} MB/s; boto3 `upload_file` (same bucket and KMS key): "
        f"{u['direct_mb_per_s']} MB/s; ratio of median times {u['ratio_median']} "
        f"(n={u['rounds']}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.bench")
    parser.add_argument("--rounds-small", type=int, default=40)
    parser.add_argument("--rounds-large", type=int, default=30)
    parser.add_argument("--rounds-processed", type=int, default=20)
    parser.add_argument("--rounds-cold", type=int, default=5)
    parser.add_argument("--rounds-direct-upload", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        tempfile.TemporaryDirectory(prefix="devstack-bench-") as workdir,
        ChildStack(Path(workdir)) as stack,
    ):
        with stack.api(timeout=60) as api:
            memory = bench_memory(stack, api, 4 * MIB)  # first: a fresh process, honest peak
            overhead = {
                "100KiB": bench_upload_overhead(stack, api, 100 * KIB, args.rounds_small),
                "4MiB": bench_upload_overhead(stack, api, 4 * MIB, args.rounds_large),
            }
            processed = bench_processed_latency(stack, api, args.rounds_processed)
            direct_upload = bench_direct_upload(
                stack, api, Path(workdir), 256 * MIB, args.rounds_direct_upload
            )
        cold = bench_cold_start(stack, args.rounds_cold)

    results: dict[str, Any] = {
        "started_at": started_at,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "upload_overhead": overhead,
        "upload_to_processed": processed,
        "cold_start": cold,
        "memory": memory,
        "direct_upload": direct_upload,
    }
    results["verdicts"] = verdicts(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "bench.md").write_text(markdown(results))

    for v in results["verdicts"]:
        status = "ok" if v["met"] else f"MISSED by {v['missed_by_percent']} %"
        print(f"{v['metric']:<24} {v['measured']:>10} (target <= {v['target_at_most']}) {status}")
    print(f"reports: {args.out / 'bench.json'}, {args.out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
