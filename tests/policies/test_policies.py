"""Every custom policy against its fixture: exact pass, fail and unknown sets, no parse errors.

Checkov starts in ~5 s, so it runs once over all fixture folders and the
results are split by folder (one folder per rule id).

Checkov's report leaves out UNKNOWN results, so a check that silently stops
deciding looks like "nothing to see". expected.yaml therefore lists `unknown`
too: every block in the fixture's main.tf whose type the rule's expectations
mention must be in exactly one of pass, fail and unknown.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from gate.tools import (
    CHECK_DIRS,
    POLICIES_DIR,
    REPO_ROOT,
    checkov,
    checkov_config_args,
    checkov_env,
    external_checks_args,
)

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
        config = checkov_config_args([FIXTURES])
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    command = [
        str(binary), *config, "-d", str(FIXTURES), "--framework", "terraform", "--skip-download",
        "-c", ",".join(RULE_IDS), *external_checks_args(), "-o", "json",
    ]  # fmt: skip
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        command, cwd=REPO_ROOT, env=checkov_env(), capture_output=True, text=True,
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


def _name(key: str) -> str:
    return key.strip('"')


def fixture_addresses(main_tf: str) -> set[str]:
    """Checkov's address of every resource, data source and provider in a fixture."""
    tree = hcl2.loads(main_tf)
    found: set[str] = set()
    for kind in ("resource", "data"):
        for block in tree.get(kind, []):
            for block_type, by_name in block.items():
                found |= {
                    f"{_name(block_type)}.{_name(n)}" for n in by_name if not n.startswith("__")
                }
    for block in tree.get("provider", []):
        for provider, conf in block.items():
            alias = conf.get("alias") if isinstance(conf, dict) else None
            found.add(f"{_name(provider)}.{_name(str(alias)) if alias else 'default'}")
    return found


def _block_type(address: str) -> str:
    return address.rsplit(".", 1)[0]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_policy_matches_fixture(rule_id: str, checkov_outcomes: tuple[Outcomes, int]) -> None:
    outcomes, parsing_errors = checkov_outcomes
    expected = yaml.safe_load((FIXTURES / rule_id / "expected.yaml").read_text())
    passes, fails = set(expected["pass"]), set(expected["fail"])
    unknown = set(expected.get("unknown") or [])
    assert parsing_errors == 0
    assert passes, "each rule needs passing resources"
    assert fails, "each rule needs failing resources"
    assert not passes & fails, "pass and fail overlap"
    assert not (passes | fails) & unknown, "unknown overlaps pass or fail"
    assert outcomes[rule_id]["passed"] == passes
    assert outcomes[rule_id]["failed"] == fails
    # Every block of a type the rule decides on is accounted for: a silent
    # UNKNOWN (the check returned neither PASSED nor FAILED) must be declared.
    in_fixture = fixture_addresses((FIXTURES / rule_id / "main.tf").read_text())
    types = {_block_type(a) for a in passes | fails | unknown}
    assert (passes | fails | unknown) <= in_fixture, "expected.yaml names blocks not in main.tf"
    undecided = {a for a in in_fixture if _block_type(a) in types} - passes - fails
    assert undecided == unknown, "blocks the rule neither passed nor failed (declare as unknown)"


def test_fixture_addresses_reads_every_block_kind() -> None:
    tf = (
        'provider "aws" {}\nprovider "aws" {\n  alias = "eu"\n}\n'
        'resource "aws_s3_bucket" "b" {}\ndata "aws_iam_policy_document" "d" {}\n'
    )
    assert fixture_addresses(tf) == {
        "aws.default", "aws.eu", "aws_s3_bucket.b", "aws_iam_policy_document.d",
    }  # fmt: skip


def test_every_policy_has_a_fixture_and_a_catalogue_entry() -> None:
    declared: set[str] = set()
    for path in (path for folder in CHECK_DIRS for path in folder.rglob("*")):
        if path.suffix in (".py", ".yaml", ".yml") and path.name != "sup_common.py":
            declared |= set(ID_PATTERN.findall(path.read_text()))
    catalogue = set(ID_PATTERN.findall((POLICIES_DIR / "README.md").read_text()))
    assert declared == set(RULE_IDS)
    assert declared <= catalogue
    assert len(declared) >= 8
