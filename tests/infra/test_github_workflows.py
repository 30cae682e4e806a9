"""Repository rules for the GitHub Actions workflows and composite actions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
PINNED = re.compile(r"uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s+v\d+(\.\d+)*\s*$")


def _load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    return loaded


def _uses_lines(path: Path) -> list[str]:
    return [
        line.strip() for line in path.read_text().splitlines() if re.match(r"\s*-?\s*uses:", line)
    ]


def _steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"].get("steps", []))
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_there_are_workflows() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"gate.yml", "plan.yml", "deploy.yml", "deploy-environment.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    seen: dict[str, str] = {}
    for line in _uses_lines(path):
        reference = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if reference.startswith("./"):
            continue  # this repository, at this commit
        match = PINNED.search(line)
        assert match, f"{path.name}: not pinned to a full SHA with a version comment: {line}"
        action, sha = match.group(1), match.group(2)
        assert seen.setdefault(action, sha) == sha, f"{action} pinned to two commits"


def test_one_commit_per_action_across_files() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS + ACTIONS:
        for line in _uses_lines(path):
            if match := PINNED.search(line):
                pins.setdefault(
                    match.group(1).split("/")[0] + "/" + match.group(1).split("/")[1], set()
                ).add(match.group(2))
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_permissions_by_default_and_each_job_says_what_it_needs(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no explicit permissions"
        assert job["permissions"] != "write-all"


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_no_secrets_and_no_inherited_secrets(path: Path) -> None:
    text = path.read_text()
    assert "secrets." not in text
    assert "secrets: inherit" not in text


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_checkout_keeps_no_credentials(path: Path) -> None:
    for step in _steps(_load(path)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_run_scripts_take_context_through_env_only(path: Path) -> None:
    # ${{ }} in a script is expanded before the shell runs: template injection.
    for step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), step.get("name", step["run"][:40])


def test_promotion_runs_dev_then_stage_then_prod_with_the_same_digests() -> None:
    jobs = _load(GITHUB / "workflows" / "deploy.yml")["jobs"]
    assert jobs["stage"]["needs"] == ["build", "dev"]
    assert jobs["prod"]["needs"] == ["build", "stage"]
    for env in ("dev", "stage", "prod"):
        assert jobs[env]["uses"] == "./.github/workflows/deploy-environment.yml"
        assert jobs[env]["with"] == {
            "environment": env,
            "upload-api-digest": "${{ needs.build.outputs.upload-api-digest }}",
            "processor-digest": "${{ needs.build.outputs.processor-digest }}",
        }
        assert "secrets" not in jobs[env]


def test_the_deploying_job_declares_its_environment_and_never_cancels() -> None:
    workflow = _load(GITHUB / "workflows" / "deploy-environment.yml")
    trigger = workflow[True]  # PyYAML reads the `on` key as a boolean
    assert set(trigger) == {"workflow_call"}
    assert set(trigger["workflow_call"]["inputs"]) == {
        "environment",
        "upload-api-digest",
        "processor-digest",
    }
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {
        "group": "deploy-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }
