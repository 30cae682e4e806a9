"""The gate's workflow check: credentials only for main's own code.

    python -m gate.workflow_refs [WORKFLOW_DIR]

Finding 1 of the review: a branch could call `deploy-environment.yml@main`;
the called workflow checked out the caller's commit and ran a local action
from it in jobs that hold `id-token: write`, before anything checked the ref.
zizmor and checkov do not ask that question (checkov's job entity sees
neither the workflow's triggers nor its permissions), so this check does.

A job fails when all of these hold:
- it holds `id-token: write` (its own permissions, or the workflow's when it
  declares none; `write-all` counts);
- its workflow can be started for another ref than main: any trigger but
  `push` limited to `branches: [main]` and `schedule` (`workflow_call`: any
  branch can call the file at main; pull requests, `workflow_dispatch`,
  `workflow_run`, tags, ...);
- it runs code it did not get from main: a local (`./...`) or self-repository
  (`$/...`) action, an `actions/checkout` of another `ref` or `repository`,
  or any step after an `actions/checkout`;
- and no step before the first of those refuses refs other than main.

The refusal this check recognises is a step without `uses`, `if`,
`continue-on-error` or another shell than bash, whose script holds only
comments and tests of the form

    [[ $GITHUB_REF == "refs/heads/main" ]] || { echo "::error::..."; exit 1; }

including one of the ref against `refs/heads/main` and one of the workflow
ref (`$GITHUB_WORKFLOW_REF`) against `<repo>/.github/workflows/<file>@refs/heads/main`
(`$GITHUB_REPOSITORY` or a literal `org/repo` for `<repo>`). Other variables
count when the step's env maps them to `${{ github.ref }}`,
`${{ github.workflow_ref }}` or `${{ github.repository }}`. A script with
anything else in it is not recognised: the check fails closed.

Accepted exceptions (a job that runs another ref's code with credentials on
purpose) are listed with their reasons in workflow-exceptions.yaml; an entry
that matches no job fails the check, so the list cannot go stale.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gate.summary import Finding, ScanResult, Skip, write_reports
from gate.suppressions import is_acceptable_reason
from gate.tools import REPO_ROOT

RULE = "workflow-refs"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
EXCEPTIONS_FILE = Path(__file__).with_name("workflow-exceptions.yaml")
REPORT_DIR = REPO_ROOT / "policies" / "reports" / RULE
MAIN = "refs/heads/main"
# Triggers that run only main's workflow on main's commits.
MAIN_ONLY_TRIGGERS = {"push", "schedule"}

# The runner's own variables; a step's env may name others for the same values.
_DEFAULT_VARIABLES = {
    "GITHUB_REF": "github.ref",
    "GITHUB_WORKFLOW_REF": "github.workflow_ref",
    "GITHUB_REPOSITORY": "github.repository",
}
_EXPRESSION = re.compile(r"^\$\{\{\s*(?P<context>[\w.]+)\s*\}\}$")
_VAR = r'"?\$\{?(?P<var>\w+)\}?"?'
_FAIL = r'(?:exit\s+[1-9]\d*|\{\s*(?:echo\s+"[^"$`\\]*"\s*;\s*)?exit\s+[1-9]\d*\s*;?\s*\})'
_TEST = re.compile(
    rf"^\[\[\s+{_VAR}\s+==\s+(?P<value>\"[^\"]*\"|[^\s\"]+)\s+\]\]\s*\|\|\s*{_FAIL}$"
)
_WORKFLOW_VALUE = re.compile(
    r"^(?:\$\{?(?P<repo_var>\w+)\}?|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)"
    rf"/\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml@{MAIN}$"
)
_CONTINUATION = re.compile(r"\|\|\s*\n\s*")


@dataclass(frozen=True)
class JobFinding:
    workflow: str  # path relative to the repository root
    job: str
    line: int
    message: str


# ----------------------------------------------------------------- reading


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps `on` a string key (YAML 1.1 reads it as True)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _job_lines(text: str) -> dict[str, int]:
    """1-based line of each job's key."""
    root = yaml.compose(text, Loader=_Loader)
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "jobs" and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def _triggers(workflow: Mapping[str, Any]) -> dict[str, Any]:
    on = workflow.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(name): None for name in on}
    return dict(on) if isinstance(on, dict) else {}


def other_ref_triggers(workflow: Mapping[str, Any]) -> list[str]:
    """The workflow's triggers that can run it for another ref than main."""
    found = []
    for name, conf in _triggers(workflow).items():
        if name not in MAIN_ONLY_TRIGGERS:
            found.append(name)
        elif name == "push":
            filters = conf if isinstance(conf, dict) else {}
            widened = {"tags", "branches-ignore", "tags-ignore"} & set(filters)
            if filters.get("branches") != ["main"] or widened:
                found.append("push (not only to main)")
    return found


def holds_id_token(job: Mapping[str, Any], workflow: Mapping[str, Any]) -> bool:
    permissions = job["permissions"] if "permissions" in job else workflow.get("permissions")
    if permissions == "write-all":
        return True
    return isinstance(permissions, dict) and permissions.get("id-token") == "write"


# ----------------------------------------------------------------- the refusal


def _variables(
    step: Mapping[str, Any], job: Mapping[str, Any], workflow: Mapping[str, Any]
) -> dict[str, str]:
    """Shell variable -> github context it holds, for this step's script."""
    known = dict(_DEFAULT_VARIABLES)
    for scope in (workflow, job, step):  # the innermost env wins
        env = scope.get("env")
        for name, value in env.items() if isinstance(env, dict) else ():
            match = _EXPRESSION.match(str(value).strip())
            known[str(name)] = match["context"] if match else ""  # anything else: unknown
    return known


def refuses_other_refs(
    step: Mapping[str, Any], job: Mapping[str, Any], workflow: Mapping[str, Any]
) -> bool:
    """The step stops the job unless the ref and the workflow ref are main's."""
    if "run" not in step or {"uses", "if", "continue-on-error"} & set(step):
        return False
    shells = [
        step.get("shell"),
        ((job.get("defaults") or {}).get("run") or {}).get("shell"),
        ((workflow.get("defaults") or {}).get("run") or {}).get("shell"),
    ]
    shell = next((s for s in shells if s is not None), "bash")
    if shell != "bash":
        return False
    variables = _variables(step, job, workflow)
    ref_checked = workflow_checked = False
    for raw in _CONTINUATION.sub("|| ", str(step["run"])).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test = _TEST.match(line)
        if test is None:
            return False  # anything but a refusal: not recognised, fail closed
        context, value = variables.get(test["var"], ""), test["value"].strip('"')
        if context == "github.ref" and value == MAIN:
            ref_checked = True
        elif context == "github.workflow_ref":
            target = _WORKFLOW_VALUE.match(value)
            repo_var = target["repo_var"] if target else None
            workflow_checked = target is not None and (
                repo_var is None or variables.get(repo_var) == "github.repository"
            )
    return ref_checked and workflow_checked


# ----------------------------------------------------------------- the check


def _step_label(step: Mapping[str, Any]) -> str:
    text = str(step.get("name") or step.get("uses") or step.get("run") or "")
    return text.splitlines()[0][:60] if text else "?"


def job_finding(job: Mapping[str, Any], workflow: Mapping[str, Any]) -> str | None:
    """What the job runs that is not proven to be main's code, or None.

    Code of the run's commit is main's only once a refusal step ran; a
    checkout of another ref or repository is never main's, refusal or not.
    """
    refused = False
    checkout: str | None = None  # None, "run" (the run's commit) or "other"
    for index, step in enumerate(job.get("steps") or [], start=1):
        if not isinstance(step, dict):
            continue
        if not refused and refuses_other_refs(step, job, workflow):
            refused = True
            continue
        uses = str(step.get("uses", "")).strip()
        where = f"step {index} (`{_step_label(step)}`)"
        if uses.startswith(("./", "$/")) and (checkout == "other" or not refused):
            return f"step {index} runs the repository's action `{uses}`"
        if uses.startswith("actions/checkout@"):
            other = bool({"ref", "repository"} & set(step.get("with") or {}))
            checkout = "other" if other or checkout == "other" else "run"
            continue
        if "run" in step and checkout == "other":
            return f"{where} runs a script on a checkout of another ref or repository"
        if "run" in step and checkout == "run" and not refused:
            return f"{where} runs a script on the checkout"
    return None


def check_workflow(path: Path, root: Path = REPO_ROOT) -> list[JobFinding]:
    text = path.read_text(encoding="utf-8")
    workflow = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    if not isinstance(workflow, dict):
        return []
    triggers = other_ref_triggers(workflow)
    if not triggers:
        return []
    lines = _job_lines(text)
    findings = []
    for name, job in (workflow.get("jobs") or {}).items():
        # A job that calls a reusable workflow runs no steps: the called file
        # (workflow_call, so reachable from any ref) is checked on its own.
        if not isinstance(job, dict) or "uses" in job or not holds_id_token(job, workflow):
            continue
        what = job_finding(job, workflow)
        if what is not None:
            findings.append(
                JobFinding(
                    rel,
                    str(name),
                    lines.get(str(name), 1),
                    f"{rel}: job `{name}` holds id-token: write, can be started for another ref "
                    f"than main ({', '.join(triggers)}), and {what} without first refusing "
                    f"refs other than {MAIN}",
                )
            )
    return findings


def check(directory: Path = WORKFLOWS, root: Path = REPO_ROOT) -> list[JobFinding]:
    paths = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    if not paths:
        raise FileNotFoundError(f"no workflow files in {directory}")
    return [finding for path in paths for finding in check_workflow(path, root)]


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> dict[tuple[str, str], str]:
    """(workflow path, job) -> reason; every entry needs a reason a reviewer would accept."""
    exceptions: dict[tuple[str, str], str] = {}
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        reason = str(entry.get("reason", ""))
        if not is_acceptable_reason(reason):
            raise ValueError(f"exception {entry} needs a reason a reviewer would accept")
        exceptions[(str(entry["workflow"]), str(entry["job"]))] = " ".join(reason.split())
    return exceptions


def apply(
    findings: Iterable[JobFinding], exceptions: Mapping[tuple[str, str], str], result: ScanResult
) -> None:
    """Findings into result: excepted ones as skips, stale exceptions as failures."""
    used = set()
    for f in findings:
        key = (f.workflow, f.job)
        if key in exceptions:
            used.add(key)
            result.skips.append(Skip(RULE, f.workflow, f.line, f.job, exceptions[key]))
        else:
            result.failures.append(Finding(RULE, f.message, f.workflow, f.line, f.job))
    for workflow, job in sorted(set(exceptions) - used):
        message = f"{workflow}: exception for job `{job}` matches no finding: remove it"
        result.failures.append(Finding(RULE, message, workflow, 1, job))


def workflow_refs_result(
    directory: Path = WORKFLOWS,
    exceptions_file: Path = EXCEPTIONS_FILE,
    report_dir: Path = REPORT_DIR,
) -> ScanResult:
    """The check as one `make scan` result, with its reports in policies/reports/workflow-refs/."""
    result = ScanResult("workflow refs", RULE, "workflows")
    started = time.monotonic()
    try:
        apply(check(directory), load_exceptions(exceptions_file), result)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
        result.error = str(exc).replace("\n", " ")
    result.seconds = time.monotonic() - started
    write_reports(result, report_dir, sarif=True, junit=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gate.workflow_refs", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=WORKFLOWS)
    args = parser.parse_args(argv)
    result = ScanResult("workflow refs", RULE, "workflows")
    apply(check(args.directory.resolve()), load_exceptions(), result)
    for skip in result.skips:
        print(f"accepted: {skip.file}: job `{skip.resource}`: {skip.reason}")
    for failure in result.failures:
        print(failure.message)
    print(f"workflow refs: {len(result.failures)} finding(s), {len(result.skips)} accepted")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
