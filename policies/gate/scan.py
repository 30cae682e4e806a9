"""`make scan`: every security scanner, offline, with reports for people and CI.

    python -m gate.scan

Each scanner runs as a program from its own virtualenv (their pins clash with
the application's). Reports go to policies/reports/<tool>/<target>/ as SARIF (GitHub
code scanning), JUnit XML and text, plus policies/reports/SUMMARY.md. Exits 1 when any
scanner reports a finding, cannot parse an input, crashes, or an input is
missing: a gate must never pass because there was nothing to look at. An
environment root whose checkov results miss module.platform or any CKV_SUP
rule is an error, a checkov skip without a reason is a failure, and other
tools' inline suppressions are listed (and need a reason) too. checkov runs
with the repo's config file, an empty HOME and none of the caller's CKV_*
variables, so local settings cannot change the verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.summary import (
    Finding,
    ScanResult,
    apply_bandit_json,
    apply_checkov_json,
    apply_detect_secrets_json,
    apply_sarif,
    apply_suppressions,
    coverage_problems,
    render_summary,
    write_reports,
)
from gate.suppressions import project_files as _git_files
from gate.suppressions import project_suppressions
from gate.tools import (
    APP_VENV,
    CHECKOV_VENV,
    REPO_ROOT,
    SAM_VENV,
    checkov_config_args,
    checkov_env,
    external_checks_args,
    offline_env,
    tool,
)
from gate.workflow_refs import workflow_refs_result

REPORTS = REPO_ROOT / "policies" / "reports"
TOOL_DIRS = ("checkov", "cfn-lint", "sam-validate", "zizmor", "hadolint", "bandit",
             "detect-secrets", "suppressions", "workflow-refs")  # fmt: skip
# Not environments/local: it is the emulator's root (loopback endpoints, moto's
# dummy credentials), never deployed; the module it calls is scanned here
# through the three AWS roots.
ENV_ROOTS = ("dev", "stage", "prod", "bootstrap")
# Roots that instantiate module.platform: their scans must cover every CKV_SUP rule.
PLATFORM_ROOTS = tuple(f"terraform/{env}" for env in ("dev", "stage", "prod"))
# The offline plans of the same roots (make plans: python -m tests.devstack.offline_plan),
# where checks see resolved values: tfvars, defaults, for_each and module outputs.
PLANS_DIR = ".devstack/plans"
PLAN_ENVIRONMENTS = ("dev", "stage", "prod")
# Our checks that can judge a plan of an empty account. The others read values such a
# plan leaves unknown (a policy or key naming an ARN the same plan creates) or blocks a
# plan does not hold (the provider's default_tags); the HCL scans above judge those
# (policies/README.md, "Plans").
PLAN_CHECKS = ("CKV_SUP_3", "CKV_SUP_5", "CKV_SUP_6", "CKV_SUP_7", "CKV_SUP_8", "CKV_SUP_11",
               "CKV_SUP_12")  # fmt: skip
PLAN_TARGETS = tuple(f"terraform_plan/{env}" for env in PLAN_ENVIRONMENTS)
TEMPLATE = "services/template.yaml"
WORKFLOWS = ".github/workflows"
DOCKERFILES = ("services/upload_api/Dockerfile", "services/processor/Dockerfile")
PYTHON_SOURCES = "services"
TIMEOUT_SECONDS = 600
CHECKOV_BASE = ("--skip-download", "--compact", "-o", "cli", "-o", "json", "-o", "sarif",
                "-o", "junitxml")  # fmt: skip

Parser = Callable[[ScanResult, "Job", "subprocess.CompletedProcess[str]"], None]


@dataclass
class Job:
    name: str
    tool: str
    target: str
    argv: Callable[[], list[str]]  # built lazily: a missing venv becomes this job's error
    inputs: Sequence[str]
    parse: Parser
    ok_codes: tuple[int, ...] = (0,)
    native: set[str] = field(default_factory=set)  # formats the tool writes itself
    env: Callable[[], dict[str, str]] = offline_env

    @property
    def outdir(self) -> Path:
        return REPORTS / self.tool / self.target.replace("/", "_")


class ScanError(Exception):
    """The scanner could not give a trustworthy answer."""


def _missing_inputs(paths: Sequence[str]) -> list[str]:
    missing = []
    for rel in paths:
        path = REPO_ROOT / rel
        if not path.exists() or (path.is_dir() and not any(p.is_file() for p in path.iterdir())):
            missing.append(rel)
    return missing


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise ScanError(f"no report written at {path.relative_to(REPO_ROOT)}")
    return json.loads(path.read_text())


def project_files() -> list[str]:
    """Files a commit would contain: tracked plus untracked-but-not-ignored."""
    try:
        files = _git_files(REPO_ROOT)
    except FileNotFoundError as exc:
        raise ScanError(str(exc)) from exc
    if not files:
        raise ScanError("git lists no files to scan")
    return files


# ----------------------------------------------------------------- parsers


def _parse_checkov(result: ScanResult, job: Job, _: subprocess.CompletedProcess[str]) -> None:
    apply_checkov_json(result, _load_json(job.outdir / "results_json.json"), REPO_ROOT)
    problems: list[str] = []
    if job.target in PLATFORM_ROOTS:
        problems = coverage_problems(result)
    elif job.target in PLAN_TARGETS:
        problems = coverage_problems(result, PLAN_CHECKS)
    if problems:
        raise ScanError(f"{job.target} was not really scanned: " + "; ".join(problems))


def _parse_sarif_stdout(
    result: ScanResult, job: Job, proc: subprocess.CompletedProcess[str]
) -> None:
    job.outdir.mkdir(parents=True, exist_ok=True)
    (job.outdir / "report.sarif").write_text(proc.stdout)
    try:
        data = json.loads(proc.stdout)
    except ValueError as exc:
        raise ScanError(f"unreadable SARIF on stdout: {proc.stderr.strip()[-300:]}") from exc
    apply_sarif(result, data, REPO_ROOT)


def _parse_bandit(result: ScanResult, job: Job, _: subprocess.CompletedProcess[str]) -> None:
    apply_bandit_json(result, _load_json(job.outdir / "bandit.json"), REPO_ROOT)


def _parse_detect_secrets(
    result: ScanResult, job: Job, proc: subprocess.CompletedProcess[str]
) -> None:
    job.outdir.mkdir(parents=True, exist_ok=True)
    (job.outdir / "detect-secrets.json").write_text(proc.stdout)
    apply_detect_secrets_json(result, json.loads(proc.stdout), REPO_ROOT)


def _parse_exit_code(result: ScanResult, job: Job, proc: subprocess.CompletedProcess[str]) -> None:
    """`sam validate --lint` only speaks text: any non-zero exit is one finding."""
    job.outdir.mkdir(parents=True, exist_ok=True)
    (job.outdir / "output.txt").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).strip()
        result.failures.append(Finding("sam-validate", text[-2000:], TEMPLATE, 1))


# ----------------------------------------------------------------- jobs


def _checkov(
    framework: str, target: str, paths: list[str], *, ours: bool, checks: Sequence[str] = ()
) -> Job:
    outdir = REPORTS / "checkov" / target.replace("/", "_")

    def argv() -> list[str]:
        scanned = [REPO_ROOT / p for p in paths if (REPO_ROOT / p).is_dir()]
        args = [str(tool(CHECKOV_VENV, "checkov")), *checkov_config_args(scanned),
                "--framework", framework, *CHECKOV_BASE,
                "--output-file-path", str(outdir)]  # fmt: skip
        if ours:
            args += external_checks_args()
        if checks:
            args += ["--check", ",".join(checks)]
        for path in paths:
            args += ["-d" if (REPO_ROOT / path).is_dir() else "-f", path]
        return args

    return Job(f"checkov {target}", "checkov", target, argv, paths, _parse_checkov,
               ok_codes=(0, 1), native={"sarif", "junit"}, env=checkov_env)  # fmt: skip


def _checkov_secrets() -> Job:
    job = _checkov("secrets", "secrets", [], ours=False)
    base = job.argv
    job.argv = lambda: [*base(), *(arg for f in project_files() for arg in ("-f", f))]
    job.inputs = ()
    return job


def jobs() -> list[Job]:
    app = APP_VENV
    sam = SAM_VENV
    out = [_checkov("terraform", f"terraform/{env}", [f"environments/{env}"], ours=True)
           for env in ENV_ROOTS]  # fmt: skip
    out += [_checkov("terraform_plan", f"terraform_plan/{env}",
                     [f"{PLANS_DIR}/{env}.tfplan.json"], ours=True, checks=PLAN_CHECKS)
            for env in PLAN_ENVIRONMENTS]  # fmt: skip
    out += [
        _checkov("cloudformation", "cloudformation/sam-template", [TEMPLATE], ours=False),
        _checkov("github_actions", "github_actions/workflows", [WORKFLOWS], ours=False),
        _checkov("dockerfile", "dockerfile/services", list(DOCKERFILES), ours=False),
        _checkov_secrets(),
        # Exit codes are a bit mask of error(2)/warning(4)/info(8) levels found.
        Job("cfn-lint", "cfn-lint", "sam-template",
            lambda: [str(tool(sam, "cfn-lint")), "--format", "sarif", "--", TEMPLATE],
            [TEMPLATE], _parse_sarif_stdout, ok_codes=(0, 2, 4, 6, 8, 10, 12, 14),
            native={"sarif"}),
        Job("sam validate --lint", "sam-validate", "sam-template",
            lambda: [str(tool(sam, "sam")), "validate", "--lint", "-t", TEMPLATE,
                     "--region", "us-east-1"],
            [TEMPLATE], _parse_exit_code, ok_codes=(0, 1)),
        Job("zizmor", "zizmor", "workflows",
            lambda: [str(tool(app, "zizmor")), "--offline", "--no-progress", "--format",
                     "sarif", WORKFLOWS],
            [WORKFLOWS], _parse_sarif_stdout, ok_codes=(0, 10, 11, 12, 13, 14), native={"sarif"}),
        Job("hadolint", "hadolint", "dockerfiles",
            lambda: [str(tool(app, "hadolint")), "--no-color", "--format", "sarif",
                     *DOCKERFILES],
            DOCKERFILES, _parse_sarif_stdout, ok_codes=(0, 1), native={"sarif"}),
        Job("bandit", "bandit", "services",
            lambda: [str(tool(app, "bandit")), "-r", "-q", "-f", "json", "-o",
                     str(REPORTS / "bandit/services/bandit.json"), PYTHON_SOURCES],
            [PYTHON_SOURCES], _parse_bandit, ok_codes=(0, 1)),
        Job("detect-secrets", "detect-secrets", "project-files",
            lambda: [str(tool(app, "detect-secrets")), "scan", *project_files()],
            [], _parse_detect_secrets),
    ]  # fmt: skip
    return out


def _execute(job: Job, result: ScanResult) -> None:
    missing = _missing_inputs(job.inputs)
    if missing:
        raise ScanError(f"input missing or empty: {', '.join(missing)}")
    job.outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(  # noqa: S603 - argv from this file, no shell
        job.argv(), cwd=REPO_ROOT, env=job.env(), capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    (job.outdir / "stderr.log").write_text(proc.stderr)
    if proc.returncode not in job.ok_codes:
        raise ScanError(f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    job.parse(result, job, proc)


def run_job(job: Job) -> ScanResult:
    """Run one scanner; any way it can fail to answer becomes result.error."""
    result = ScanResult(job.name, job.tool, job.target)
    started = time.monotonic()
    try:
        _execute(job, result)
    except (ScanError, FileNotFoundError, ValueError, subprocess.SubprocessError) as exc:
        result.error = str(exc).replace("\n", " ")
    result.seconds = time.monotonic() - started
    write_reports(result, job.outdir, sarif="sarif" not in job.native,
                  junit="junit" not in job.native)  # fmt: skip
    return result


def suppressions_result() -> ScanResult:
    """Other scanners' in-source suppressions (zizmor, nosec, hadolint, allowlist pragma)."""
    result = ScanResult("inline suppressions", "suppressions", "project-files")
    started = time.monotonic()
    try:
        found = project_suppressions(REPO_ROOT)
    except (FileNotFoundError, subprocess.SubprocessError) as exc:
        result.error = str(exc)
        found = []
    # checkov's own skips are reported (and judged) by the checkov runs.
    apply_suppressions(result, [s for s in found if s.tool != "checkov"])
    result.seconds = time.monotonic() - started
    write_reports(result, REPORTS / "suppressions", sarif=True, junit=True)
    return result


# Without a result for this long, the scan says it is still going.
HEARTBEAT_SECONDS = 15


def main() -> int:
    for name in TOOL_DIRS:
        shutil.rmtree(REPORTS / name, ignore_errors=True)
    started = time.monotonic()
    all_jobs = jobs()
    results: list[ScanResult] = []
    # Scanners are CPU-bound single processes: one per core.
    workers = max(2, os.cpu_count() or 2)
    print(f"scan: {len(all_jobs)} scanner runs, {workers} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = {pool.submit(run_job, job): job.name for job in all_jobs}
        while running:
            done, _ = wait(running, timeout=HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                result = future.result()
                results.append(result)
                print(f"{result.name:<42} {result.headline()}  {result.seconds:5.1f}s", flush=True)
            if not done:  # a long run: say what is still going, so the gate never looks stuck
                print(
                    f"  ... {time.monotonic() - started:.0f} s, {len(running)} to go",
                    flush=True,
                )
    for local_check in (suppressions_result, workflow_refs_result):
        results.append(local_check())
        print(f"{results[-1].name:<42} {results[-1].headline()}  {results[-1].seconds:5.1f}s")
    order = {job.name: i for i, job in enumerate(all_jobs)}
    results.sort(key=lambda r: order.get(r.name, len(order)))
    total = time.monotonic() - started
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "SUMMARY.md").write_text(render_summary(results, total))
    failed = [r.name for r in results if not r.ok]
    verdict = f"FAIL ({', '.join(failed)})" if failed else "PASS"
    print(f"scan {verdict} in {total:.1f}s; see policies/reports/SUMMARY.md", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
