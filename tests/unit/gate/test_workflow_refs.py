"""The gate's workflow check: no credentialed job runs another ref's code unrefused.

Its failing fixture is deploy-environment.yml as it was before finding 1 of
the review was fixed; its passing input is the workflow as it is now.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from gate import workflow_refs
from gate.summary import ScanResult
from gate.tools import REPO_ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "workflow_refs" / "deploy-environment.yml"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"

DEPLOY_YML = "$GITHUB_REPOSITORY/.github/workflows/deploy.yml@refs/heads/main"
GUARD = f"""\
      - name: Refuse any caller but the promotion workflow on main
        run: |
          [[ $GITHUB_REF == "refs/heads/main" ]] || {{ echo "::error::only main"; exit 1; }}
          [[ $GITHUB_WORKFLOW_REF == "{DEPLOY_YML}" ]] ||
            {{ echo "::error::only deploy.yml"; exit 1; }}
"""
CHECKOUT = """\
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
"""
MAKE = """\
      - name: Build
        run: make build
"""


def _workflow(
    tmp_path: Path,
    steps: str,
    *,
    on: str = "workflow_call:",
    permissions: str = "      id-token: write",
    head: str = "",
) -> Path:
    body = textwrap.indent(on, "  ")
    text = (
        f"---\nname: fixture\n\non:\n{body}\n\npermissions: {{}}\n{head}\n"
        f"jobs:\n  deploy:\n    runs-on: ubuntu-24.04\n    permissions:\n{permissions}\n"
        f"    steps:\n{steps}"
    )
    path = tmp_path / "fixture.yml"
    path.write_text(text)
    return path


def _jobs(path: Path) -> list[str]:
    return [f.job for f in workflow_refs.check_workflow(path, root=path.parent)]


# ----------------------------------------------------------------- the fixtures


def test_the_old_promotion_workflow_fails_naming_each_job_and_the_path() -> None:
    findings = workflow_refs.check_workflow(FIXTURE)
    rel = FIXTURE.relative_to(REPO_ROOT).as_posix()
    assert [f.job for f in findings] == ["plan", "deploy"]
    for finding in findings:
        assert finding.workflow == rel
        assert finding.message.startswith(f"{rel}: job `{finding.job}` holds id-token: write")
        assert "(workflow_call)" in finding.message
        assert "./.github/actions/setup-toolchain" in finding.message
    text = FIXTURE.read_text().splitlines()
    assert [text[f.line - 1].strip() for f in findings] == ["plan:", "deploy:"]


def test_the_fixture_is_the_old_workflow_less_its_ignore_comments() -> None:
    """The fixture keeps what made finding 1: a local action after the caller's checkout."""
    old = yaml.safe_load(FIXTURE.read_text())
    assert set(old[True]) == {"workflow_call"}  # PyYAML reads `on` as True
    for job in old["jobs"].values():
        assert job["permissions"]["id-token"] == "write"
        uses = [str(step.get("uses", "")) for step in job["steps"]]
        assert uses.index("./.github/actions/setup-toolchain") > next(
            i for i, u in enumerate(uses) if u.startswith("actions/checkout@")
        )
    assert "zizmor" + ": ignore" not in FIXTURE.read_text()


@pytest.mark.parametrize("name", ["deploy-environment.yml", "smoke-environment.yml"])
def test_the_new_reusable_workflows_pass(name: str) -> None:
    assert workflow_refs.check_workflow(WORKFLOWS / name) == []


def test_the_repository_passes_with_only_its_listed_exceptions() -> None:
    result = ScanResult("workflow refs", workflow_refs.RULE, "workflows")
    workflow_refs.apply(workflow_refs.check(), workflow_refs.load_exceptions(), result)
    assert result.failures == []
    assert [(s.file, s.resource) for s in result.skips] == [(".github/workflows/plan.yml", "plan")]


def test_the_old_workflow_turns_the_repository_red(tmp_path: Path) -> None:
    for path in WORKFLOWS.glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "deploy-environment.yml").write_text(FIXTURE.read_text())
    result = ScanResult("workflow refs", workflow_refs.RULE, "workflows")
    findings = workflow_refs.check(tmp_path, root=tmp_path)
    workflow_refs.apply(findings, {("plan.yml", "plan"): "accepted for this test"}, result)
    assert [(f.file, f.resource) for f in result.failures] == [
        ("deploy-environment.yml", "plan"),
        ("deploy-environment.yml", "deploy"),
    ]


def test_scan_result_writes_its_reports_and_fails_on_a_finding(tmp_path: Path) -> None:
    (tmp_path / "deploy-environment.yml").write_text(FIXTURE.read_text())
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("[]\n")
    reports = tmp_path / "reports"
    result = workflow_refs.workflow_refs_result(tmp_path, exceptions, reports)
    assert not result.ok
    assert len(result.failures) == 2
    assert {p.name for p in reports.iterdir()} == {"report.txt", "report.sarif", "report.junit.xml"}


def test_no_workflows_is_an_error_not_a_pass(tmp_path: Path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("[]\n")
    result = workflow_refs.workflow_refs_result(tmp_path / "none", exceptions, tmp_path / "r")
    assert result.error is not None
    assert not result.ok


# ----------------------------------------------------------------- exceptions


def test_an_exception_that_matches_nothing_fails() -> None:
    result = ScanResult("workflow refs", workflow_refs.RULE, "workflows")
    stale = {(".github/workflows/gone.yml", "job"): "a reason long enough to be judged"}
    workflow_refs.apply([], stale, result)
    assert [f.resource for f in result.failures] == ["job"]
    assert "matches no finding" in result.failures[0].message


def test_an_exception_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text("- workflow: .github/workflows/plan.yml\n  job: plan\n  reason: ok\n")
    with pytest.raises(ValueError, match="reason"):
        workflow_refs.load_exceptions(path)


# ----------------------------------------------------------------- what counts


def test_a_refusal_first_lets_the_job_run_the_checkout(tmp_path: Path) -> None:
    assert _jobs(_workflow(tmp_path, GUARD + CHECKOUT + MAKE)) == []


def test_no_refusal_fails(tmp_path: Path) -> None:
    assert _jobs(_workflow(tmp_path, CHECKOUT + MAKE)) == ["deploy"]


def test_a_refusal_after_the_code_ran_is_too_late(tmp_path: Path) -> None:
    assert _jobs(_workflow(tmp_path, CHECKOUT + MAKE + GUARD)) == ["deploy"]


@pytest.mark.parametrize(
    "action", ["./.github/actions/setup", "$/.github/actions/setup"], ids=["dot", "dollar"]
)
def test_a_repository_action_before_the_refusal_fails_even_without_checkout(
    tmp_path: Path, action: str
) -> None:
    steps = f"      - uses: {action}\n" + GUARD
    assert _jobs(_workflow(tmp_path, steps)) == ["deploy"]


def test_a_checkout_of_another_ref_is_never_main(tmp_path: Path) -> None:
    other = CHECKOUT + "          ref: ${{ inputs.sha }}\n"
    assert _jobs(_workflow(tmp_path, GUARD + other + MAKE)) == ["deploy"]


@pytest.mark.parametrize(
    "guard",
    [
        # Does not stop the job.
        GUARD.replace("exit 1", "true"),
        # Stops it only on request.
        GUARD.replace("        run: |\n", "        if: inputs.strict\n        run: |\n"),
        GUARD.replace("        run: |\n", "        continue-on-error: true\n        run: |\n"),
        # Anything else in the script: not recognised.
        GUARD.replace("        run: |\n", "        run: |\n          exit 0\n"),
        # The ref only, not the workflow.
        GUARD.split("          [[ $GITHUB_WORKFLOW_REF", maxsplit=1)[0],
        # Another ref.
        GUARD.replace('"refs/heads/main" ]] || {', '"refs/heads/dev" ]] || {'),
        # A variable the step itself sets.
        GUARD.replace(
            "        run: |\n", "        env:\n          GITHUB_REF: main\n        run: |\n"
        ),
        # Another shell.
        GUARD.replace("        run: |\n", "        shell: python\n        run: |\n"),
    ],
    ids=["no-exit", "if", "continue-on-error", "exit-0", "ref-only", "other-ref", "env", "shell"],
)
def test_a_refusal_that_can_let_another_ref_through_does_not_count(
    tmp_path: Path, guard: str
) -> None:
    assert _jobs(_workflow(tmp_path, guard + CHECKOUT + MAKE)) == ["deploy"]


def test_a_refusal_through_the_steps_own_variables_counts(tmp_path: Path) -> None:
    guard = """\
      - name: Refuse
        env:
          REF: ${{ github.ref }}
          WORKFLOW_REF: ${{ github.workflow_ref }}
          REPO: ${{ github.repository }}
        run: |
          # Before the checkout.
          [[ "$REF" == refs/heads/main ]] || exit 1
          [[ $WORKFLOW_REF == "${REPO}/.github/workflows/deploy.yml@refs/heads/main" ]] || exit 2
"""
    assert _jobs(_workflow(tmp_path, guard + CHECKOUT + MAKE)) == []


@pytest.mark.parametrize(
    ("on", "reachable"),
    [
        ("push:\n  branches: [main]", False),
        ("schedule:\n  - cron: '0 3 * * *'", False),
        ("push:\n  branches: [main, release]", True),
        ("push:\n  branches: [main]\n  tags: ['v*']", True),
        ("push:", True),
        ("pull_request:", True),
        ("pull_request_target:", True),
        ("workflow_dispatch:", True),
        ("workflow_run:\n  workflows: [gate]", True),
    ],
)
def test_only_pushes_to_main_and_schedules_count_as_main_only(
    tmp_path: Path, on: str, reachable: bool
) -> None:
    assert _jobs(_workflow(tmp_path, CHECKOUT + MAKE, on=on)) == (["deploy"] if reachable else [])


def test_jobs_without_an_oidc_token_are_not_concerned(tmp_path: Path) -> None:
    path = _workflow(tmp_path, CHECKOUT + MAKE, permissions="      contents: read")
    assert _jobs(path) == []


def test_the_workflows_permissions_count_when_the_job_declares_none(tmp_path: Path) -> None:
    path = tmp_path / "fixture.yml"
    path.write_text(
        "---\non: workflow_dispatch\npermissions: write-all\njobs:\n  build:\n"
        "    runs-on: ubuntu-24.04\n    steps:\n" + CHECKOUT + MAKE
    )
    assert _jobs(path) == ["build"]


def test_a_job_that_calls_a_reusable_workflow_is_checked_in_the_called_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fixture.yml"
    path.write_text(
        "---\non: pull_request\npermissions: {}\njobs:\n  dev:\n"
        "    permissions:\n      id-token: write\n"
        "    uses: $/.github/workflows/deploy-environment.yml\n"
    )
    assert _jobs(path) == []
