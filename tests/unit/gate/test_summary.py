"""The SUMMARY builder: parsing of small, real-shaped scanner outputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gate.summary import (
    ScanResult,
    Skip,
    apply_bandit_json,
    apply_checkov_json,
    apply_detect_secrets_json,
    apply_sarif,
    apply_suppressions,
    coverage_problems,
    junit_xml,
    render_summary,
    sarif_log,
)
from gate.suppressions import Suppression
from gate.tools import checkov_config_args, checkov_env

ROOT = Path("/repo")


def _check(check_id: str, result: str, path: str, lines: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "check_name": f"name of {check_id}",
        "check_result": {"result": result, **extra},
        "file_path": "/" + path.rsplit("/", 1)[-1],
        "file_abs_path": f"{ROOT}/{path}",
        "file_line_range": lines,
        "resource": "module.platform.aws_s3_bucket.this",
    }


CHECKOV_TERRAFORM = {
    "check_type": "terraform",
    "results": {
        "passed_checks": [_check("CKV_AWS_1", "PASSED", "modules/storage/main.tf", [1, 4])] * 3,
        "failed_checks": [_check("CKV_SUP_2", "FAILED", "modules/storage/main.tf", [12, 20])],
        "skipped_checks": [
            _check(
                "CKV_AWS_18",
                "SKIPPED",
                "modules/storage/main.tf",
                [30, 40],
                suppress_comment=" access-log bucket: logging to itself would loop",
            )
        ],
        "parsing_errors": [f"{ROOT}/modules/broken/main.tf"],
    },
    "summary": {"passed": 3, "failed": 1, "skipped": 1, "parsing_errors": 1},
}


def test_checkov_report_counts_failures_skips_and_parse_errors() -> None:
    result = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    apply_checkov_json(result, CHECKOV_TERRAFORM, ROOT)
    assert result.passed == 3
    [failure] = result.failures
    assert (failure.rule_id, failure.file, failure.line) == (
        "CKV_SUP_2", "modules/storage/main.tf", 12,
    )  # fmt: skip
    assert failure.resource == "module.platform.aws_s3_bucket.this"
    [skip] = result.skips
    assert skip.reason == "access-log bucket: logging to itself would loop"
    assert (skip.file, skip.line) == ("modules/storage/main.tf", 30)
    assert result.parsing_errors == ["modules/broken/main.tf"]
    assert not result.ok


def test_checkov_list_output_and_empty_scan() -> None:
    result = ScanResult("checkov x", "checkov", "x")
    clean: dict[str, Any] = {
        "results": {"passed_checks": [], "failed_checks": [], "skipped_checks": []}
    }
    # Several frameworks give a list; a scan with nothing to check gives a bare summary.
    apply_checkov_json(result, [clean, {"passed": 0, "failed": 0}], ROOT)
    assert result.ok
    assert result.passed == 0


def test_sarif_results_and_suppressions() -> None:
    log = {
        "runs": [{
            "results": [
                {"ruleId": "DL3008", "message": {"text": "Pin versions"},
                 "locations": [{"physicalLocation": {
                     "artifactLocation": {"uri": "services/processor/Dockerfile"},
                     "region": {"startLine": 7}}}]},
                {"ruleId": "unpinned-uses", "message": {"text": "unpinned"},
                 "suppressions": [{"kind": "inSource", "justification": "first-party action"}],
                 "locations": [{"physicalLocation": {
                     "artifactLocation": {"uri": ".github/workflows/gate.yml"},
                     "region": {"startLine": 3}}}]},
            ]
        }]
    }  # fmt: skip
    result = ScanResult("hadolint", "hadolint", "dockerfiles")
    apply_sarif(result, log, ROOT)
    assert [(f.rule_id, f.file, f.line) for f in result.failures] == [
        ("DL3008", "services/processor/Dockerfile", 7)
    ]
    assert [s.reason for s in result.skips] == ["first-party action"]


def test_bandit_and_detect_secrets() -> None:
    result = ScanResult("mixed", "bandit", "t")
    apply_bandit_json(result, {"errors": [], "results": [{
        "test_id": "B105", "issue_text": "password", "issue_severity": "LOW",
        "filename": f"{ROOT}/services/a.py", "line_number": 4,
    }]}, ROOT)  # fmt: skip
    apply_detect_secrets_json(
        result, {"results": {"tests/conftest.py": [{"type": "Secret Keyword", "line_number": 15}]}},
        ROOT,
    )  # fmt: skip
    assert [(f.rule_id, f.file, f.line) for f in result.failures] == [
        ("B105", "services/a.py", 4),
        ("Secret Keyword", "tests/conftest.py", 15),
    ]


def test_summary_lists_every_failure_skip_and_error() -> None:
    dev = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    apply_checkov_json(dev, CHECKOV_TERRAFORM, ROOT)
    missing = ScanResult("cfn-lint", "cfn-lint", "sam-template",
                         error="input missing or empty: services/template.yaml")  # fmt: skip
    clean = ScanResult("zizmor", "zizmor", "workflows")
    text = render_summary([dev, missing, clean], 12.0)
    assert "Result: **FAIL**" in text
    assert "| terraform/dev | 3 | 1 | 1 | 1 | FAIL |" in text
    assert "`modules/storage/main.tf:12` CKV_SUP_2" in text
    assert "access-log bucket: logging to itself would loop" in text
    assert "input missing or empty: services/template.yaml" in text
    assert "| zizmor | workflows | 0 | 0 | pass |" in text
    assert render_summary([clean], 1.0).startswith("# Security scan summary\n\nResult: **PASS**")


def test_generated_sarif_and_junit_are_well_formed() -> None:
    result = ScanResult("bandit", "bandit", "services")
    apply_bandit_json(result, {"results": [{
        "test_id": "B602", "issue_text": "shell", "issue_severity": "HIGH",
        "filename": "services/x.py", "line_number": 2,
    }]}, ROOT)  # fmt: skip
    log = sarif_log(result)
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2
    }
    suite = ET.fromstring(junit_xml(result))  # noqa: S314 - our own string
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure") is not None


def test_checkov_skip_without_reason_is_a_failure() -> None:
    data = {
        "results": {
            "passed_checks": [],
            "failed_checks": [],
            "skipped_checks": [
                _check("CKV_SUP_4", "SKIPPED", "modules/x/main.tf", [1, 2], suppress_comment=""),
                _check(
                    "CKV_SUP_3", "SKIPPED", "modules/x/main.tf", [3, 4], suppress_comment="TODO"
                ),
            ],
        }
    }
    result = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    apply_checkov_json(result, data, ROOT)
    assert [f.rule_id for f in result.failures] == ["CKV_SUP_4", "CKV_SUP_3"]
    assert len(result.skips) == 2
    assert not result.ok


def test_coverage_requires_results_platform_and_every_rule() -> None:
    empty = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    assert coverage_problems(empty) == ["checkov reported no results at all"]
    partial = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    partial.checked = {("CKV_SUP_1", "aws_s3_bucket.local_only")}
    problems = coverage_problems(partial, ["CKV_SUP_1", "CKV_SUP_2"])
    assert "no result for any module.platform.* resource" in problems[0]
    assert "CKV_SUP_2" in problems[1]
    full = ScanResult("checkov terraform/dev", "checkov", "terraform/dev")
    apply_checkov_json(full, CHECKOV_TERRAFORM, ROOT)
    assert coverage_problems(full, ["CKV_AWS_1", "CKV_SUP_2", "CKV_AWS_18"]) == []


def test_other_tools_suppressions_are_listed_and_judged() -> None:
    result = ScanResult("inline suppressions", "suppressions", "project-files")
    apply_suppressions(result, [
        Suppression("zizmor", "self-repository", ".github/workflows/gate.yml", 41,
                    "the local composite action is this same commit"),
        Suppression("bandit", "B603", "services/x.py", 7, "own"),
    ])  # fmt: skip
    text = render_summary([result], 1.0)
    assert "`.github/workflows/gate.yml:41` zizmor self-repository" in text
    assert "the local composite action is this same commit" in text
    assert [(f.rule_id, f.file) for f in result.failures] == [("bandit B603", "services/x.py")]


def test_checkov_runs_without_the_callers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured: checkov merges ~/.checkov.yaml (soft-fail, skip-check) even
    # with --config-file, and reads CKV_SKIP_CHECK/CKV_CHECK from the env.
    monkeypatch.setenv("CKV_SKIP_CHECK", "CKV_SUP_4")
    monkeypatch.setenv("BC_API_KEY", "x")
    monkeypatch.setenv("HOME", "/home/someone")
    env = checkov_env()
    assert "CKV_SKIP_CHECK" not in env
    assert env["BC_SKIP_MAPPING"] == "TRUE"
    assert "BC_API_KEY" not in env
    assert env["HOME"] != "/home/someone"
    assert not any(Path(env["HOME"]).iterdir())
    args = checkov_config_args([])
    assert args[0] == "--config-file"
    assert Path(args[1]).is_file()


def test_a_module_skip_seen_by_several_roots_is_listed_once_with_each_scan() -> None:
    skip = Skip("CKV_AWS_144", "modules/secure-bucket/main.tf", 12, "aws_s3_bucket.this", "why")
    other = Skip("CKV_AWS_18", "environments/bootstrap/main.tf", 3, "aws_s3_bucket.b", "")
    results = [
        ScanResult("checkov terraform/dev", "checkov", "terraform/dev", skips=[skip]),
        ScanResult("checkov terraform/prod", "checkov", "terraform/prod", skips=[skip]),
        ScanResult("checkov terraform/bootstrap", "checkov", "terraform/bootstrap", skips=[other]),
    ]

    summary = render_summary(results, 1.0)

    skips = summary.split("## Skips (each with its reason)")[1].strip().splitlines()
    assert skips == [
        "- `modules/secure-bucket/main.tf:12` CKV_AWS_144 aws_s3_bucket.this - why "
        "(terraform/dev, terraform/prod)",
        "- `environments/bootstrap/main.tf:3` CKV_AWS_18 aws_s3_bucket.b - **no reason given** "
        "(terraform/bootstrap)",
    ]
