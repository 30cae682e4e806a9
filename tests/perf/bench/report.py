"""The verdicts against the targets, and bench.json and bench.md, from the results alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB
TARGETS = {
    "upload_overhead_100kib": 1.3,
    "upload_overhead_4mib": 1.3,
    "scaling_slope_ratio": 1.2,
    "processed_p95_s": 0.5,
    "cold_start_s": 0.5,
    "cold_start_ratio": 2.5,
    "memory_factor": 3.0,
    "direct_upload_256mib": 1.1,
}


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    measured = {
        "upload_overhead_100kib": results["upload_overhead"]["100KiB"]["ratio_median"],
        "upload_overhead_4mib": results["upload_overhead"]["4MiB"]["ratio_median"],
        "scaling_slope_ratio": results["scaling"]["slope_ratio"],
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


def figures(results: dict[str, Any]) -> list[str]:
    """The figures that have no target, one line each."""
    scaling, throughput = results["scaling"], results["throughput"]
    overhead, cold = results["upload_overhead"], results["cold_start"]
    lines = [
        *(
            f"floor at {label}: the direct calls plus the bare hop, {r['floor_ratio_median']}x "
            f"the direct calls; the app is {r['ratio_to_floor_median']}x that floor"
            for label, r in overhead.items()
        ),
        f"floor of the slope: {scaling['floor_slope_ratio']}x the direct slope (the bare hop "
        f"adds {scaling['transport']['slope_ms_per_mib']} ms/MiB); the app's is "
        f"{scaling['slope_ratio_to_floor']}x that floor",
        f"floor of the cold start: FastAPI with only /health, "
        f"{cold['minimal_fastapi_first_health_s']} s, {cold['floor_ratio']}x a bare "
        f"`import boto3`",
        f"scaling, app: {scaling['app']['slope_ms_per_mib']} ms/MiB + "
        f"{scaling['app']['intercept_ms']} ms; direct: {scaling['direct']['slope_ms_per_mib']} "
        f"ms/MiB + {scaling['direct']['intercept_ms']} ms",
        f"throughput: {throughput['files']} uploads processed at "
        f"{throughput['app_files_per_s']} files/s; the same executions started directly: "
        f"{throughput['direct_executions_files_per_s']} files/s; ratio of times "
        f"{throughput['ratio']}",
        "import time (self, ms) by package: "
        + ", ".join(
            f"{row['package']} {row['self_ms']}"
            for row in results["cold_start"]["import_profile"]["top"]
        )
        + f"; all imports {results['cold_start']['import_profile']['total_ms']}",
    ]
    return lines


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
    lines += ["", "## Upload overhead (POST /upload vs the same AWS calls made directly)", ""]
    lines += [
        "The floor is the direct calls plus the same JSON body posted to a bare app on the "
        "same uvicorn (the hop the app adds).",
        "",
        "| size | app median / p95 ms | direct median / p95 ms | bare hop median ms | "
        "ratio median / p95 | floor ratio | app / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results["upload_overhead"].items():
        lines.append(
            f"| {label} | {r['app']['median_ms']} / {r['app']['p95_ms']} | "
            f"{r['direct']['median_ms']} / {r['direct']['p95_ms']} | "
            f"{r['transport']['median_ms']} | {r['ratio_median']} / {r['ratio_p95']} | "
            f"{r['floor_ratio_median']} | {r['ratio_to_floor_median']} |"
        )
    sc = results["scaling"]
    lines += ["", "## Scaling (median ms; scaling.png)", ""]
    lines += ["| size | app | direct | bare hop |", "|---|---|---|---|"]
    for size, app, direct, hop in zip(
        sc["sizes_bytes"],
        sc["app"]["median_ms"],
        sc["direct"]["median_ms"],
        sc["transport"]["median_ms"],
        strict=True,
    ):
        lines.append(f"| {size // KIB} KiB | {app} | {direct} | {hop} |")
    lines.append(
        "| slope (ms/MiB), intercept (ms) | "
        + " | ".join(
            f"{sc[side]['slope_ms_per_mib']}, {sc[side]['intercept_ms']}"
            for side in ("app", "direct", "transport")
        )
        + " |"
    )
    lines += [
        "",
        f"Slope ratio {sc['slope_ratio']}; floor (direct + bare hop) {sc['floor_slope_ratio']}x "
        f"the direct slope; the app {sc['slope_ratio_to_floor']}x the floor.",
    ]
    p = results["upload_to_processed"]
    c = results["cold_start"]
    m = results["memory"]
    u = results["direct_upload"]
    t = results["throughput"]
    lines += [
        "",
        f"Upload to PROCESSED: median {p['median_ms']} ms, p95 {p['p95_ms']} ms (n={p['n']}).",
        "",
        f"Throughput: {t['files']} uploads, then until all are processed: {t['app_s']} s "
        f"({t['app_files_per_s']} files/s); their executions started directly "
        f"(batches of {t['batch_size']}): {t['direct_executions_s']} s "
        f"({t['direct_executions_files_per_s']} files/s); ratio {t['ratio']}.",
        "",
        f"Cold start (spawn to first /health under uvicorn): {c['app_first_health_s']} s; "
        f"bare `import boto3`: {c['bare_import_boto3_s']} s; ratio {c['ratio']}. Floor: "
        f"FastAPI with only /health, {c['minimal_fastapi_first_health_s']} s "
        f"({c['floor_ratio']}x).",
        "",
        "| package | import self time (ms) |",
        "|---|---|",
        *(f"| {row['package']} | {row['self_ms']} |" for row in c["import_profile"]["top"]),
        f"| all imports | {c['import_profile']['total_ms']} |",
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


def write(results: dict[str, Any], out: Path) -> None:
    """bench.json (the results as measured) and bench.md (drawn from them) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "bench.md").write_text(markdown(results))
