"""Every custom policy against its fixture: exact pass and fail sets, no parse errors.

Checkov starts in ~5 s, so it runs once over all fixture folders and the
results are split by folder (one folder per rule id).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.security.tools import POLICIES_DIR, REPO_ROOT, checkov, offline_env

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RULE_IDS = sorted(
    (p.name for p in FIXTURES.iterdir() if p.is_dir()), key=lambda r: int(r.rsplit("_", 1)[1])
)
ID_PATTERN = re.compile(r"\bCKV_SUP_\d+\b")

Outcomes = dict[str, dict[str, set[str]]]


def _reports(raw: str) -> list[dict[str, Any]]:
    data = json.loads(raw)
    return data if isinstance(data, list) else [data]


@pytest.fixture(scope="session")
def checkov_outcomes() -> tuple[Outcomes, int]:
    try:
        binary = checkov()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    command = [
        str(binary), "-d", str(FIXTURES), "--framework", "terraform", "--skip-download",
        "-c", ",".join(RULE_IDS), "--external-checks-dir", str(POLICIES_DIR), "-o", "json",
    ]  # fmt: skip
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        command, cwd=REPO_ROOT, env=offline_env(), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    # Exit 1 means "some checks failed", which the failing fixtures must cause.
    assert proc.returncode in (0, 1), proc.stderr[-4000:]
    outcomes: Outcomes = {rule: {"passed": set(), "failed": set()} for rule in RULE_IDS}
    parsing_errors = 0
    for report in _reports(proc.stdout):
        parsing_errors += len(report.get("results", {}).get("parsing_errors", []))
        for kind in ("passed", "failed"):
            for result in report.get("results", {}).get(f"{kind}_checks", []):
                folder = Path(result["file_abs_path"]).resolve().relative_to(FIXTURES).parts[0]
                if result["check_id"] == folder:  # other rules also see this folder
                    outcomes[folder][kind].add(result["resource"])
    return outcomes, parsing_errors


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_policy_matches_fixture(rule_id: str, checkov_outcomes: tuple[Outcomes, int]) -> None:
    outcomes, parsing_errors = checkov_outcomes
    expected = yaml.safe_load((FIXTURES / rule_id / "expected.yaml").read_text())
    assert parsing_errors == 0
    assert expected["pass"], "each rule needs passing resources"
    assert expected["fail"], "each rule needs failing resources"
    assert outcomes[rule_id]["passed"] == set(expected["pass"])
    assert outcomes[rule_id]["failed"] == set(expected["fail"])


def test_every_policy_has_a_fixture_and_a_catalogue_entry() -> None:
    declared: set[str] = set()
    for path in POLICIES_DIR.rglob("*"):
        if path.suffix in (".py", ".yaml", ".yml") and path.name != "sup_common.py":
            declared |= set(ID_PATTERN.findall(path.read_text()))
    catalogue = set(ID_PATTERN.findall((POLICIES_DIR / "README.md").read_text()))
    assert declared == set(RULE_IDS)
    assert declared <= catalogue
    assert len(declared) >= 8
