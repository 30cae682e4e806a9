"""Scanner results: one model, parsers for each tool's output, report writers.

Kept free of subprocess calls so the parsing is unit-tested on small samples.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.suppressions import Suppression, is_acceptable_reason

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Custom rules every environment root must produce a result for (passed,
# failed or skipped): a rule that stops matching anything is a silent pass.
ENVIRONMENT_RULES = tuple(f"CKV_SUP_{n}" for n in range(1, 13))
PLATFORM_PREFIX = "module.platform."


@dataclass(frozen=True)
class Finding:
    rule_id: str
    message: str
    file: str
    line: int
    resource: str = ""


@dataclass(frozen=True)
class Skip:
    rule_id: str
    file: str
    line: int
    resource: str
    reason: str


@dataclass
class ScanResult:
    """One scanner run on one target (an environment root, a template, ...)."""

    name: str
    tool: str
    target: str
    passed: int = 0
    failures: list[Finding] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    error: str | None = None  # missing input, crash, unreadable output
    seconds: float = 0.0
    # checkov only: (check id, resource) of every passed, failed or skipped result.
    checked: set[tuple[str, str]] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures and not self.parsing_errors

    def headline(self) -> str:
        if self.error is not None:
            return f"ERROR {self.error}"
        counts = f"failed={len(self.failures)} skipped={len(self.skips)}"
        if self.tool == "checkov":
            counts = f"passed={self.passed} {counts} parse-errors={len(self.parsing_errors)}"
        return ("PASS " if self.ok else "FAIL ") + counts


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def _first_line(check: Mapping[str, Any]) -> int:
    lines = check.get("file_line_range") or [0]
    return int(lines[0])


def apply_checkov_json(result: ScanResult, data: Any, root: Path) -> None:
    """Fold checkov's `-o json` output (one report or a list of reports) into result."""
    reports = data if isinstance(data, list) else [data]
    for report in reports:
        checks = report.get("results")
        if checks is None:  # nothing to scan: checkov prints only a summary
            continue
        result.passed += len(checks.get("passed_checks", []))
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            result.checked |= {
                (str(c.get("check_id")), str(c.get("resource") or "")) for c in checks.get(kind, [])
            }
        for check in checks.get("failed_checks", []):
            path = _relative(check.get("file_abs_path") or check["file_path"], root)
            result.failures.append(
                Finding(
                    rule_id=check["check_id"],
                    message=check.get("check_name") or "",
                    file=path,
                    line=_first_line(check),
                    resource=check.get("resource") or "",
                )
            )
        for check in checks.get("skipped_checks", []):
            path = _relative(check.get("file_abs_path") or check["file_path"], root)
            reason = (check.get("check_result") or {}).get("suppress_comment") or ""
            result.skips.append(
                Skip(
                    rule_id=check["check_id"],
                    file=path,
                    line=_first_line(check),
                    resource=check.get("resource") or "",
                    reason=reason.strip(),
                )
            )
            if not is_acceptable_reason(reason):
                result.failures.append(
                    Finding(
                        rule_id=check["check_id"],
                        message="skipped without a reason a reviewer can judge (write why the"
                        " check does not apply after the id)",
                        file=path,
                        line=_first_line(check),
                        resource=check.get("resource") or "",
                    )
                )
        result.parsing_errors.extend(_relative(p, root) for p in checks.get("parsing_errors", []))


def apply_sarif(result: ScanResult, data: Mapping[str, Any], root: Path) -> None:
    """Fold a SARIF 2.1.0 log into result; suppressed results count as skips."""
    for run in data.get("runs", []):
        for item in run.get("results", []):
            location = (item.get("locations") or [{}])[0].get("physicalLocation", {})
            uri = str(location.get("artifactLocation", {}).get("uri", ""))
            path = _relative(uri.removeprefix("file://"), root) if uri else ""
            line = int(location.get("region", {}).get("startLine", 0))
            rule_id = str(item.get("ruleId", "unknown"))
            message = str(item.get("message", {}).get("text", "")).strip()
            suppressions = item.get("suppressions") or []
            if suppressions:
                reason = "; ".join(str(s.get("justification", "")) for s in suppressions)
                result.skips.append(Skip(rule_id, path, line, "", reason.strip()))
            else:
                result.failures.append(Finding(rule_id, message, path, line))


def apply_bandit_json(result: ScanResult, data: Mapping[str, Any], root: Path) -> None:
    for issue in data.get("results", []):
        result.failures.append(
            Finding(
                rule_id=str(issue["test_id"]),
                message=f"{issue['issue_text']} (severity {issue['issue_severity']})",
                file=_relative(str(issue["filename"]), root),
                line=int(issue["line_number"]),
            )
        )
    result.parsing_errors.extend(str(e.get("filename", e)) for e in data.get("errors", []))


def apply_detect_secrets_json(result: ScanResult, data: Mapping[str, Any], root: Path) -> None:
    for path, secrets in data.get("results", {}).items():
        for secret in secrets:
            result.failures.append(
                Finding(
                    rule_id=str(secret["type"]),
                    message="potential secret (if it is not one, add detect-secrets' allowlist"
                    " pragma with a reason)",
                    file=_relative(path, root),
                    line=int(secret["line_number"]),
                )
            )


def coverage_problems(result: ScanResult, required: Iterable[str] = ENVIRONMENT_RULES) -> list[str]:
    """Why an environment root's checkov scan cannot be trusted to have looked at anything."""
    if not result.checked:
        return ["checkov reported no results at all"]
    problems = []
    if not any(resource.startswith(PLATFORM_PREFIX) for _, resource in result.checked):
        problems.append(f"no result for any {PLATFORM_PREFIX}* resource (module not loaded?)")
    seen = {check_id for check_id, _ in result.checked}
    missing = [rule for rule in required if rule not in seen]
    if missing:
        problems.append(f"no result for {', '.join(missing)} (policies not loaded or not matching)")
    return problems


def apply_suppressions(result: ScanResult, suppressions: Iterable[Suppression]) -> None:
    """Other tools' in-source suppressions as skips; one without a reason is a failure."""
    for s in suppressions:
        rule = f"{s.tool} {s.ids}".strip()
        result.skips.append(Skip(rule, s.file, s.line, "", s.reason))
        if not is_acceptable_reason(s.reason):
            result.failures.append(
                Finding(
                    rule,
                    "suppression without a reason (add one after it or in the comment above)",
                    s.file,
                    s.line,
                )
            )


# ----------------------------------------------------------------- writers


def sarif_log(result: ScanResult) -> dict[str, Any]:
    """Minimal SARIF 2.1.0 for tools that cannot write it themselves."""
    rules = sorted({f.rule_id for f in result.failures})
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": result.tool, "rules": [{"id": r} for r in rules]},
                },
                "results": [
                    {
                        "ruleId": f.rule_id,
                        "level": "error",
                        "message": {"text": f.message or f.rule_id},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f.file},
                                    "region": {"startLine": max(f.line, 1)},
                                }
                            }
                        ],
                    }
                    for f in result.failures
                ],
            }
        ],
    }


def junit_xml(result: ScanResult) -> str:
    """One test case per finding (failed) or one passing case; errors as <error>."""
    suite = ET.Element(
        "testsuite",
        name=result.name,
        tests=str(max(len(result.failures) + result.passed, 1)),
        failures=str(len(result.failures)),
        errors=str(int(result.error is not None) + len(result.parsing_errors)),
        skipped=str(len(result.skips)),
        time=f"{result.seconds:.2f}",
    )
    for finding in result.failures:
        case = ET.SubElement(suite, "testcase", name=f"{finding.rule_id} {finding.resource}",
                             classname=finding.file)  # fmt: skip
        failure = ET.SubElement(case, "failure", message=finding.message)
        failure.text = f"{finding.file}:{finding.line}"
    for skip in result.skips:
        case = ET.SubElement(suite, "testcase", name=f"{skip.rule_id} {skip.resource}",
                             classname=skip.file)  # fmt: skip
        ET.SubElement(case, "skipped", message=skip.reason)
    for parse_error in result.parsing_errors:
        case = ET.SubElement(suite, "testcase", name="parse", classname=parse_error)
        ET.SubElement(case, "error", message=f"could not parse {parse_error}")
    if result.error is not None:
        case = ET.SubElement(suite, "testcase", name="run", classname=result.name)
        ET.SubElement(case, "error", message=result.error)
    if not (result.failures or result.skips or result.parsing_errors or result.error):
        ET.SubElement(suite, "testcase", name="no findings", classname=result.name)
    return ET.tostring(suite, encoding="unicode")


def text_report(result: ScanResult) -> str:
    lines = [f"{result.name}: {result.headline()} ({result.seconds:.1f}s)"]
    lines += [f"  FAILED  {f.file}:{f.line}  {f.rule_id}  {f.resource}  {f.message}"
              for f in result.failures]  # fmt: skip
    lines += [f"  SKIPPED {s.file}:{s.line}  {s.rule_id}  {s.resource}  reason: {s.reason}"
              for s in result.skips]  # fmt: skip
    lines += [f"  PARSE ERROR {p}" for p in result.parsing_errors]
    return "\n".join(lines) + "\n"


def write_reports(result: ScanResult, directory: Path, *, sarif: bool, junit: bool) -> None:
    """Write the formats the tool did not write natively, plus the text report."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.txt").write_text(text_report(result))
    if sarif:
        (directory / "report.sarif").write_text(json.dumps(sarif_log(result), indent=2))
    if junit:
        (directory / "report.junit.xml").write_text(junit_xml(result))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_summary(results: Iterable[ScanResult], total_seconds: float) -> str:
    results = list(results)
    checkov = [r for r in results if r.tool == "checkov"]
    others = [r for r in results if r.tool != "checkov"]
    verdict = "PASS" if all(r.ok for r in results) else "FAIL"
    out = [
        "# Security scan summary",
        "",
        f"Result: **{verdict}** - {len(results)} scans in {total_seconds:.0f}s"
        f": checkov passed {sum(r.passed for r in checkov)};"
        f" all scanners failed {sum(len(r.failures) for r in results)},"
        f" skipped {sum(len(r.skips) for r in results)},"
        f" errors {sum(r.error is not None for r in results)}.",
        "",
        "## checkov per environment and framework",
        "",
        "| target | passed | failed | skipped | parse errors | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    out += [
        f"| {r.target} | {r.passed} | {len(r.failures)} | {len(r.skips)} | "
        f"{len(r.parsing_errors)} | {'pass' if r.ok else _cell(r.error or 'FAIL')} |"
        for r in checkov
    ]
    out += ["", "## Other scanners", "", "| scanner | target | findings | suppressed | result |",
            "|---|---|---:|---:|---|"]  # fmt: skip
    out += [
        f"| {r.tool} | {r.target} | {len(r.failures)} | {len(r.skips)} | "
        f"{'pass' if r.ok else _cell(r.error or 'FAIL')} |"
        for r in others
    ]
    out += ["", "## Failures", ""]
    failing = [r for r in results if not r.ok]
    if not failing:
        out.append("None.")
    for r in failing:
        out.append(f"### {r.name}")
        if r.error:
            out.append(f"- error: {r.error}")
        out += [f"- `{f.file}:{f.line}` {f.rule_id} {_cell(f.resource)} - {_cell(f.message)}"
                for f in r.failures]  # fmt: skip
        out += [f"- parse error: `{p}`" for p in r.parsing_errors]
        out.append("")
    out += ["", "## Skips (each with its reason)", ""]
    # A module's skip is seen once per root that calls it: list it once, with its scans.
    scans: dict[Skip, list[str]] = {}
    for r in results:
        for s in r.skips:
            scans.setdefault(s, []).append(r.target)
    if not scans:
        out.append("None.")
    out += [f"- `{s.file}:{s.line}` {s.rule_id} {_cell(s.resource)} - "
            f"{_cell(s.reason) or '**no reason given**'} ({', '.join(targets)})"
            for s, targets in scans.items()]  # fmt: skip
    return "\n".join(out).rstrip() + "\n"
