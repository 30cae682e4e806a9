"""Repository rules for the GitHub Actions workflows and composite actions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.workflow_refs import refuses_other_refs

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
    assert {
        "gate.yml",
        "plan.yml",
        "deploy.yml",
        "deploy-environment.yml",
        "smoke-environment.yml",
    } <= names


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    seen: dict[str, str] = {}
    for line in _uses_lines(path):
        reference = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if reference.startswith("$/"):
            continue  # this repository, at the running commit
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
    assert jobs["dev"]["needs"] == "build"
    assert jobs["stage"]["needs"] == ["build", "smoke-dev"]
    assert jobs["prod"]["needs"] == ["build", "smoke-stage"]
    for env in ("dev", "stage", "prod"):
        assert jobs[env]["uses"] == "$/.github/workflows/deploy-environment.yml"
        assert jobs[env]["with"] == {
            "environment": env,
            "upload-api-digest": "${{ needs.build.outputs.upload-api-digest }}",
            "processor-digest": "${{ needs.build.outputs.processor-digest }}",
        }
        assert "secrets" not in jobs[env]


def test_each_environment_is_smoke_tested_by_its_own_workflow_before_the_next() -> None:
    jobs = _load(GITHUB / "workflows" / "deploy.yml")["jobs"]
    assert set(jobs) == {"build", "dev", "stage", "prod", "smoke-dev", "smoke-stage", "smoke-prod"}
    for env in ("dev", "stage", "prod"):
        smoke = jobs[f"smoke-{env}"]
        assert smoke["needs"] == env
        assert smoke["uses"] == "$/.github/workflows/smoke-environment.yml"
        assert smoke["with"] == {"environment": env}
        assert smoke["permissions"] == {"contents": "read", "id-token": "write"}
        assert "secrets" not in smoke
    # The deploy job no longer holds the smoke role or runs the smoke test.
    deploy_text = (GITHUB / "workflows" / "deploy-environment.yml").read_text()
    assert "AWS_SMOKE_ROLE_ARN }}" not in deploy_text
    assert "make smoke" not in deploy_text
    workflow = _load(GITHUB / "workflows" / "smoke-environment.yml")
    assert set(workflow[True]) == {"workflow_call"}  # PyYAML reads the `on` key as a boolean
    assert set(workflow[True]["workflow_call"]["inputs"]) == {"environment"}
    assert set(workflow["jobs"]) == {"smoke"}
    job = workflow["jobs"]["smoke"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    roles = [
        step["with"]["role-to-assume"]
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    assert roles == ["${{ vars.AWS_SMOKE_ROLE_ARN }}"]
    assert job["steps"][-1]["run"] == 'make smoke ENV="$ENVIRONMENT"'


def test_reusable_calls_pass_exactly_the_inputs_the_called_workflow_declares() -> None:
    # actionlint checks the inputs of `./` calls only; these are `$/` calls.
    for path in WORKFLOWS:
        for name, job in _load(path)["jobs"].items():
            if "uses" not in job:
                continue
            called = ROOT / str(job["uses"]).removeprefix("$/")
            assert called.is_file(), f"{path.name}: job {name} calls a missing workflow"
            inputs = _load(called)[True]["workflow_call"]["inputs"]
            required = {key for key, spec in inputs.items() if spec.get("required")}
            assert required <= set(job.get("with", {})) <= set(inputs), f"{path.name}: {name}"


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


def test_prod_reviewers_approve_a_published_plan_that_is_then_applied_as_is() -> None:
    jobs = _load(GITHUB / "workflows" / "deploy-environment.yml")["jobs"]
    assert set(jobs) == {"plan", "deploy"}
    plan, deploy = jobs["plan"], jobs["deploy"]
    # The plan runs before, and outside, the approval-gated environment.
    assert "environment" not in plan
    assert deploy["needs"] == "plan"
    plan_scripts = "\n".join(step.get("run", "") for step in plan["steps"])
    assert 'make plan ENV="$ENVIRONMENT"' in plan_scripts
    assert "terraform -chdir=" in plan_scripts
    assert " show -no-color " in plan_scripts
    assert "$GITHUB_STEP_SUMMARY" in plan_scripts
    uploads = [
        s for s in plan["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1
    assert uploads[0]["with"]["retention-days"] <= 7  # a plan file holds a copy of the state
    assert uploads[0]["with"]["if-no-files-found"] == "error"
    # The deploy job never plans: it applies the downloaded, checksum-verified plan.
    deploy_scripts = "\n".join(step.get("run", "") for step in deploy["steps"])
    assert "make plan" not in deploy_scripts
    assert "terraform plan" not in deploy_scripts
    assert 'make apply ENV="$ENVIRONMENT"' in deploy_scripts
    assert "sha256sum --check" in deploy_scripts
    downloads = [
        s["with"]["name"]
        for s in deploy["steps"]
        if str(s.get("uses", "")).startswith("actions/download-artifact@")
    ]
    assert "${{ needs.plan.outputs.artifact }}" in downloads
    names = [s.get("name", s.get("uses", "")) for s in deploy["steps"]]
    assert names.index("Check the plan is the published one") < names.index(
        "terraform apply (the reviewed plan)"
    )
    # The plan job uses the read-only plan role, never the environment's roles.
    plan_text = yaml.safe_dump(plan)
    assert "AWS_TERRAFORM_ROLE_ARN" not in plan_text
    assert "AWS_DEPLOY_ROLE_ARN" not in plan_text
    assert "AWS_PLAN_ROLE_ARN_PROD" in plan_text


def test_image_tags_are_unique_per_run_attempt_and_digests_are_verified() -> None:
    deploy = _load(GITHUB / "workflows" / "deploy-environment.yml")["jobs"]["deploy"]
    push = next(s for s in deploy["steps"] if s.get("name") == "Push the images (same digests)")
    # ECR tags are immutable and builds are not reproducible: a re-run must not
    # reuse the tag of an earlier attempt.
    assert ":git-$GITHUB_SHA-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT" in push["run"]
    assert ':git-$GITHUB_SHA"' not in push["run"]
    assert "--preserve-digests" in push["run"]
    assert '[[ "sha256:$served" == "$digest" ]]' in push["run"]


def test_the_web_app_is_built_once_without_tokens_and_deployed_after_the_api() -> None:
    # Whoever writes the web app's files runs code in every signed-in user's
    # browser: npm runs only where no OIDC token is, and the deploy job copies
    # that one build, after the API it calls.
    build = _load(GITHUB / "workflows" / "deploy.yml")["jobs"]["build"]
    assert "id-token" not in build["permissions"]
    assert any(step.get("run") == "make web" for step in build["steps"])
    uploads = [
        s["with"]
        for s in build["steps"]
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert {"name": "web", "path": "services/web/dist/"}.items() <= next(
        u for u in uploads if u["name"] == "web"
    ).items()
    deploy = _load(GITHUB / "workflows" / "deploy-environment.yml")["jobs"]["deploy"]
    scripts = [step.get("run", "") for step in deploy["steps"]]
    assert not any("npm" in script or "make web" in script for script in scripts)
    runs = [script.split(" ", 2)[:2] for script in scripts]
    assert runs.index(["make", "deploy-web"]) > runs.index(["make", "deploy"])
    downloads = [
        s["with"]
        for s in deploy["steps"]
        if str(s.get("uses", "")).startswith("actions/download-artifact@")
    ]
    assert {"name": "web", "path": "${{ runner.temp }}/web/"} in downloads
    assert 'make deploy-web ENV="$ENVIRONMENT" WEB_DIST="$RUNNER_TEMP/web"' in scripts
    # config.json stays Terraform's (the deploy role is denied it too).
    recipe = (ROOT / "Makefile").read_text().split("\ndeploy-web:", 1)[1].split("\n\n", 1)[0]
    assert "--exclude config.json" in recipe


def test_gate_runs_real_terraform_on_every_change_without_credentials() -> None:
    workflow = _load(GITHUB / "workflows" / "gate.yml")
    trigger = workflow[True]  # PyYAML reads the `on` key as a boolean
    # Every pull request and push to main: no path filter can skip it.
    assert trigger["pull_request"] is None
    assert trigger["push"] == {"branches": ["main"]}
    job = workflow["jobs"]["test"]
    assert "if" not in job
    assert job["permissions"] == {"contents": "read"}
    assert "id-token" not in yaml.safe_dump(job)
    assert "aws-actions/configure-aws-credentials" not in yaml.safe_dump(job)
    (setup,) = [
        s for s in job["steps"] if s.get("uses", "").startswith("hashicorp/setup-terraform@")
    ]
    assert (
        setup["with"]["terraform_version"]
        == (_load(GITHUB / "workflows" / "plan.yml")["env"]["TERRAFORM_VERSION"])
    )
    # The same Make target a person runs: no hand-written terraform lines.
    scripts = [step.get("run", "") for step in job["steps"]]
    assert "make test" in scripts
    assert not any("terraform " in script for script in scripts)


def test_make_validate_checks_every_root_and_module_and_runs_their_tests() -> None:
    from tests.devstack.terraform import configurations

    checked = {str(p.relative_to(ROOT)) for p in configurations()}
    assert checked == {
        *(f"environments/{root}" for root in ("bootstrap", "dev", "stage", "prod", "local")),
        *(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("modules/*/main.tf")),
    }
    assert sorted({p.parents[1].name for p in ROOT.glob("modules/*/tests/*.tftest.hcl")}) == [
        "audit-trail",
        "auth",
        "github-oidc",
        "kms",
        "malware-protection",
        "metadata-table",
        "permissions-boundary",
        "pipeline",
        "platform",
        "secure-bucket",
        "web",
    ]


# ------------------------------------------------- credentials only for main (finding 1)

REUSABLE = ("deploy-environment.yml", "smoke-environment.yml")
PROMOTION = "$GITHUB_REPOSITORY/.github/workflows/deploy.yml@refs/heads/main"
REFUSAL = [
    '[[ $GITHUB_REF == "refs/heads/main" ]] || { echo "::error::only main deploys"; exit 1; }',
    f'[[ $GITHUB_WORKFLOW_REF == "{PROMOTION}" ]] ||',
    '{ echo "::error::only deploy.yml deploys"; exit 1; }',
    '[[ $GITHUB_EVENT_NAME == "push" ]] || '
    '{ echo "::error::only a push to main deploys"; exit 1; }',
]


def _credentialed_jobs(path: Path) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in _load(path)["jobs"].items()
        if job.get("permissions", {}).get("id-token") == "write" and "steps" in job
    }


def test_the_promotion_workflow_runs_only_for_pushes_to_main() -> None:
    # The reusable workflows' first step accepts exactly this trigger.
    assert _load(GITHUB / "workflows" / "deploy.yml")[True] == {"push": {"branches": ["main"]}}


@pytest.mark.parametrize("name", REUSABLE)
def test_reusable_jobs_refuse_every_caller_but_main_before_anything_else(name: str) -> None:
    workflow = _load(GITHUB / "workflows" / name)
    jobs = _credentialed_jobs(GITHUB / "workflows" / name)
    assert set(jobs) == set(workflow["jobs"])  # every job holds a token
    for job_name, job in jobs.items():
        first = job["steps"][0]
        assert first["name"] == "Refuse any caller but the promotion workflow on main", job_name
        assert set(first) == {"name", "run"}  # no if, no continue-on-error, no env overrides
        assert [line.strip() for line in first["run"].splitlines()] == REFUSAL
        assert refuses_other_refs(first, job, workflow)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_job_with_an_oidc_token_runs_a_repository_action(path: Path) -> None:
    for name, job in _credentialed_jobs(path).items():
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            assert not uses.startswith(("./", "$/")), f"{path.name}: job {name} runs {uses}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_zizmor_finding_is_silenced(path: Path) -> None:
    assert "zizmor" + ":" not in path.read_text()


def test_python_and_uv_are_the_versions_the_makefile_expects() -> None:
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert uv_version
    seen = 0
    for path in WORKFLOWS:
        credentialed = _credentialed_jobs(path)
        for name, job in _load(path)["jobs"].items():
            for step in job.get("steps", []):
                uses = str(step.get("uses", ""))
                if uses.startswith("actions/setup-python@"):
                    assert step["with"]["python-version"] == "3.11"
                if uses.startswith("astral-sh/setup-uv@"):
                    seen += 1
                    assert step["with"]["version"] == uv_version.group(1)
                    # A job with a token never restores a cache another run wrote.
                    expected = "false" if name in credentialed else step["with"]["enable-cache"]
                    assert step["with"]["enable-cache"] == expected, f"{path.name}: {name}"
    assert seen == 6  # gate, plan, the offline plan, the plan and deploy jobs, the smoke job


def test_the_roles_trust_these_workflow_files_on_main_in_the_documented_subject() -> None:
    oidc = ROOT / "modules" / "github-oidc"
    readme = (oidc / "README.md").read_text()
    keys = re.search(r"'include_claim_keys\[\]=(\w+)'.*", readme)
    assert keys
    claim_keys = re.findall(r"'include_claim_keys\[\]=(\w+)'", keys.group(0))
    assert claim_keys == ["repo", "context", "ref", "job_workflow_ref"]
    subjects = re.findall(r'"(repo:\$\{var\.github_repository\}:[^"]+)"', (
        (oidc / "main.tf").read_text() + (oidc / "plan.tf").read_text()
    ))  # fmt: skip
    repo = "${var.github_repository}"
    main = "refs/heads/main"
    workflow = f"{repo}/.github/workflows"
    assert sorted(subjects) == sorted([
        f"repo:{repo}:environment:${{var.environment}}:ref:{main}"
        f":job_workflow_ref:{workflow}/deploy-environment.yml@{main}",
        f"repo:{repo}:environment:${{var.environment}}:ref:{main}"
        f":job_workflow_ref:{workflow}/smoke-environment.yml@{main}",
        f"repo:{repo}:ref:{main}:ref:{main}:job_workflow_ref:{workflow}/deploy-environment.yml@{main}",
        f"repo:{repo}:ref:{main}:job_workflow_ref:{workflow}/deploy-environment.yml@{main}",
        f"repo:{repo}:pull_request:ref:refs/pull/*/merge"
        f":job_workflow_ref:{workflow}/plan.yml@refs/pull/*/merge",
    ])  # fmt: skip
    for name in ("deploy-environment.yml", "smoke-environment.yml", "plan.yml"):
        assert (GITHUB / "workflows" / name).is_file()


def test_the_offline_plan_of_fork_pull_requests_holds_no_credential() -> None:
    """It runs a fork's code: only a read token, no OIDC, no secret, no cache of other runs."""
    job = _load(GITHUB / "workflows" / "plan.yml")["jobs"]["offline-plan"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert job["permissions"] == {"contents": "read"}
    text = yaml.safe_dump(job)
    assert "secrets." not in text
    assert "vars." not in text
    for step in job["steps"]:
        uses = str(step.get("uses", ""))
        if uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
        if uses.startswith("astral-sh/setup-uv@"):
            assert step["with"]["enable-cache"] == "false"
        assert not uses.startswith("aws-actions/")
