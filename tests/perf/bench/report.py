"""The verdicts against the targets, and bench.json and bench.md, from the results alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.perf.bench.figures import SPREAD_BOUND

KIB = 1024
MIB = 1024 * KIB
# Each target's figure, by its place in the results, and the most it may be.
TARGETS: dict[str, tuple[tuple[str, ...], float]] = {
    "upload_overhead_100kib": (("upload_overhead", "100KiB", "ratio"), 1.3),
    "upload_overhead_4mib": (("upload_overhead", "4MiB", "ratio"), 1.3),
    "scaling_slope_ratio": (("scaling", "slope_ratio"), 1.2),
    "processed_p95_s": (("upload_to_processed", "p95_s"), 0.5),
    "cold_start_s": (("cold_start", "app_first_health_s"), 0.5),
    "cold_start_ratio": (("cold_start", "ratio"), 2.5),
    "memory_factor": (("memory", "factor_of_file_size"), 3.0),
    "direct_upload_256mib": (("direct_upload", "ratio"), 1.1),
}


def all_figures(results: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Every figure in the results (a dict with n, min, median, max), by its dotted path."""
    found: dict[str, dict[str, Any]] = {}
    for key, value in results.items():
        if not isinstance(value, dict) or key == "verdicts":
            continue
        if "stable" in value:
            found[".".join((*path, key))] = value
        else:
            found |= all_figures(value, (*path, key))
    return found


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Met, missed, or not judged: a target is judged on a stable figure only."""
    out = []
    for name, (path, target) in TARGETS.items():
        figure = all_figures(results)[".".join(path)]
        value = figure["value"]
        status = ("met" if value <= target else "missed") if figure["stable"] else "unstable"
        out.append(
            {
                "metric": name,
                "measured": value,
                "target_at_most": target,
                "status": status,
                "missed_by_percent": (
                    round((value / target - 1) * 100, 1) if status == "missed" else None
                ),
            }
        )
    return out


def _spread(figure: dict[str, Any]) -> str:
    return f"±{figure['spread'] * 100:.1f} %" + ("" if figure["stable"] else " (unstable)")


def figure_row(name: str, figure: dict[str, Any]) -> str:
    return (
        f"| {name} | {figure['value']} | {figure['n']} | {figure['min']} / "
        f"{figure['median']} / {figure['max']} | {_spread(figure)} |"
    )


def _line(name: str, figure: dict[str, Any]) -> str:
    return (
        f"{name}: {figure['value']} (n={figure['n']}, min {figure['min']}, median "
        f"{figure['median']}, max {figure['max']}, {_spread(figure)})"
    )


def figures(results: dict[str, Any]) -> list[str]:
    """The figures that have no target, one line each, then the import profile."""
    judged = {".".join(path) for path, _ in TARGETS.values()}
    cold = results["cold_start"]
    return [
        *(_line(name, f) for name, f in all_figures(results).items() if name not in judged),
        "import time (self, ms) by package: "
        + ", ".join(f"{row['package']} {row['self_ms']}" for row in cold["import_profile"]["top"])
        + f"; all imports {cold['import_profile']['total_ms']}",
    ]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark (local stack)",
        "",
        f"Run {results['started_at']} on {m['cpus']} CPUs ({m['cpu_model']}), "
        f"{m['memory_gib']} GiB, {m['system']}, Python {m['python']}; load average "
        f"{m['load_average_before']} before, {m['load_average_after']} after. Same-run "
        "comparisons, ratios taken round by round; see bench.json for raw figures.",
        "",
        f"A figure is **stable** when 90 % of its bootstrap resamples lie within "
        f"±{SPREAD_BOUND * 100:.0f} % of it; a target is judged on a stable figure only.",
        "",
        "| target | measured | n | min / median / max | spread | at most | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    found = all_figures(results)
    for v, (path, _) in zip(results["verdicts"], TARGETS.values(), strict=True):
        f = found[".".join(path)]
        verdict = {"met": "met", "unstable": "not judged (unstable)"}.get(
            v["status"], f"missed by {v['missed_by_percent']} %"
        )
        lines.append(
            f"| {v['metric']} | {f['value']} | {f['n']} | {f['min']} / {f['median']} / "
            f"{f['max']} | {_spread(f)} | {v['target_at_most']} | {verdict} |"
        )
    lines += [
        "",
        "## Every figure",
        "",
        "| figure | value | n | min / median / max | spread |",
        "|---|---|---|---|---|",
        *(figure_row(name, f) for name, f in found.items()),
    ]
    lines += [
        "",
        "## Upload overhead (POST /upload vs the same AWS calls made directly)",
        "",
        "The floor is the direct calls plus the same JSON body posted to a bare app on the "
        "same uvicorn (the hop the app adds).",
        "",
        "| size | app median / p95 ms | direct median / p95 ms | bare hop median ms | "
        "ratio | floor ratio | app / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results["upload_overhead"].items():
        lines.append(
            f"| {label} | {r['app']['median_ms']} / {r['app']['p95_ms']} | "
            f"{r['direct']['median_ms']} / {r['direct']['p95_ms']} | "
            f"{r['transport']['median_ms']} | {r['ratio']['value']} | "
            f"{r['floor_ratio']['value']} | {r['ratio_to_floor']['value']} |"
        )
    sc = results["scaling"]
    lines += ["", "## Scaling (trimmed geometric mean ms; scaling.png)", ""]
    lines += ["| size | app | direct | bare hop |", "|---|---|---|---|"]
    for size, app, direct, hop in zip(
        sc["sizes_bytes"],
        sc["app"]["trimmed_geomean_ms"],
        sc["direct"]["trimmed_geomean_ms"],
        sc["transport"]["trimmed_geomean_ms"],
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
        f"Slope ratio, round by round (n={sc['rounds']}): {sc['slope_ratio']['value']}; floor "
        f"(direct + bare hop) {sc['floor_slope_ratio']['value']}x the direct slope; the app "
        f"{sc['slope_ratio_to_floor']['value']}x the floor.",
    ]
    p = results["upload_to_processed"]
    c = results["cold_start"]
    mem = results["memory"]
    u = results["direct_upload"]
    t = results["throughput"]
    lines += [
        "",
        f"Upload to PROCESSED: median {p['median_ms']} ms, p95 {p['p95_ms']} ms (n={p['n']}).",
        "",
        f"Throughput ({t['rounds']} rounds, median): {t['files']} uploads, then until all are "
        f"processed: {t['app_s']} s ({t['app_files_per_s']} files/s); their executions "
        f"started directly (batches of {t['batch_size']}): {t['direct_executions_s']} s "
        f"({t['direct_executions_files_per_s']} files/s); ratio {t['ratio']['value']}.",
        "",
        f"Cold start (spawn to first /health under uvicorn): "
        f"{c['app_first_health_s']['value']} s; bare `import boto3`: "
        f"{c['bare_import_boto3_s']} s; ratio {c['ratio']['value']}. Floor: FastAPI with only "
        f"/health, {c['minimal_fastapi_first_health_s']} s ({c['floor_ratio']['value']}x).",
        "",
        "| package | import self time (ms) |",
        "|---|---|",
        *(f"| {row['package']} | {row['self_ms']} |" for row in c["import_profile"]["top"]),
        f"| all imports | {c['import_profile']['total_ms']} |",
        "",
        f"Memory: peak RSS added by one {mem['file_bytes'] // MIB} MiB upload (median of "
        f"{mem['factor_of_file_size']['n']}): {mem['peak_rss_added_bytes'] / MIB:.1f} MiB "
        f"({mem['factor_of_file_size']['value']}x the file).",
        "",
        f"Direct upload of {u['size_bytes'] // MIB} MiB (POST /uploads, "
        f"{u['part_size'] // MIB} MiB parts on {u['part_workers']} threads, complete; "
        f"SHA-256 computed before, processing after), median of {u['rounds']}: "
        f"{u['app_mb_per_s']} MB/s; the same S3 calls made directly (the floor): "
        f"{u['same_calls_mb_per_s']} MB/s; boto3 `upload_file` (same bucket and KMS key): "
        f"{u['upload_file_mb_per_s']} MB/s. Ratio to `upload_file` {u['ratio']['value']}, "
        f"floor {u['floor_ratio']['value']}, the app {u['ratio_to_floor']['value']}x the floor.",
        "",
        "| where the time goes (median s) | " + " | ".join(u["phases_median_s"]) + " |",
        "|---|" + "---|" * len(u["phases_median_s"]),
        "| | " + " | ".join(str(t) for t in u["phases_median_s"].values()) + " |",
        "",
    ]
    return "\n".join(lines)


def comparison(first: dict[str, Any], second: dict[str, Any]) -> str:
    """Two runs' figures side by side, with how far apart they are (markdown)."""
    a, b = all_figures(first), all_figures(second)
    lines = [
        f"| figure | run of {first['started_at']} | run of {second['started_at']} | "
        "apart | within 10 % |",
        "|---|---|---|---|---|",
    ]
    for name in [n for n in a if n in b]:
        x, y = a[name]["value"], b[name]["value"]
        apart = abs(x - y) / min(x, y) if min(x, y) else float("inf")
        lines.append(
            f"| {name} | {x} | {y} | {apart * 100:.1f} % | {'yes' if apart <= 0.10 else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out: Path) -> None:
    """bench.json (the results as measured) and bench.md (drawn from them) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "bench.md").write_text(markdown(results))
