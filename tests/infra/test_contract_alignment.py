"""Terraform agrees with what the deploy side (samconfig, workflows, smoke client) expects.

- Region: every environment's tfvars, backend and bootstrap settings use the
  region services/samconfig.toml deploys that environment to.
- Cognito: the app client allows the flow the smoke client signs in with.
- IAM: the deploy role allows what `make deploy` and the image push call, and
  neither it nor the smoke role holds a Cognito permission; the Terraform role
  exists for the workflow's AWS_TERRAFORM_ROLE_ARN; the Lambda execution roles
  allow what the code calls.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "stage", "prod")
# A module of several files (one per role): read as one document.
GITHUB_OIDC = ROOT / "modules" / "github-oidc"
LAMBDA_ROLES = ROOT / "modules" / "lambda-roles" / "main.tf"
SMOKE_SIGNIN = ROOT / "services" / "smoke" / "smoke" / "signin.py"

Statement = dict[str, Any]


# ------------------------------------------------------------------ helpers


def _text(value: Any) -> str:
    """A python-hcl2 string literal without its quotes."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _load(path: Path) -> dict[str, Any]:
    """One .tf file, or every .tf file of a module folder merged block type by block type."""
    if not path.is_dir():
        with path.open(encoding="utf-8") as handle:
            loaded: dict[str, Any] = hcl2.load(handle)
        return loaded
    document: dict[str, Any] = {}
    for file in sorted(path.glob("*.tf")):
        for key, blocks in _load(file).items():
            document.setdefault(key, []).extend(blocks)
    return document


@cache
def _samconfig() -> dict[str, Any]:
    with (ROOT / "services" / "samconfig.toml").open("rb") as handle:
        return tomllib.load(handle)


def _sam_region(env: str) -> str:
    region: str = _samconfig()[env]["deploy"]["parameters"]["region"]
    return region


def _tfvars(path: Path) -> dict[str, Any]:
    return {
        key: [_text(v) for v in value] if isinstance(value, list) else _text(value)
        for key, value in _load(path).items()
        if not key.startswith("__")
    }


def _region_of_arn(arn: str) -> str:
    return arn.split(":")[3]


def _as_list(value: Any) -> list[Any]:
    """`resources = var.arns` is one expression, `resources = [a, b]` a list."""
    return value if isinstance(value, list) else [value]


def _policy_statements(path: Path, name: str) -> list[Statement]:
    """Statements of data "aws_iam_policy_document" <name>, dynamic ones included."""
    for entry in _load(path).get("data", []):
        for kind, blocks in entry.items():
            if _text(kind) != "aws_iam_policy_document":
                continue
            for block_name, block in blocks.items():
                if _text(block_name) != name:
                    continue
                statements = list(block.get("statement", []))
                for dynamic in block.get("dynamic", []):
                    for content in dynamic.values():
                        body = content["content"]
                        statements.extend(body if isinstance(body, list) else [body])
                return [
                    {
                        "sid": _text(s.get("sid", "")),
                        "effect": _text(s.get("effect", "Allow")),
                        "actions": [_text(a) for a in _as_list(s.get("actions", []))],
                        "resources": [_text(r) for r in _as_list(s.get("resources", []))],
                        "conditions": [
                            (_text(c["test"]), _text(c["variable"])) for c in s.get("condition", [])
                        ],
                    }
                    for s in statements
                ]
    raise LookupError(f'no data "aws_iam_policy_document" "{name}" in {path}')


def _allowed(statements: list[Statement]) -> dict[str, list[Statement]]:
    """Action -> the Allow statements that grant it."""
    out: dict[str, list[Statement]] = {}
    for statement in statements:
        if statement["effect"] == "Allow":
            for action in statement["actions"]:
                out.setdefault(action, []).append(statement)
    return out


def _locals(path: Path) -> dict[str, Any]:
    return {
        key: value
        for entry in _load(path).get("locals", [])
        for key, value in entry.items()
        if not key.startswith("__")
    }


# ------------------------------------------------------------------ region


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_region_is_the_samconfig_region(env: str) -> None:
    tfvars = _tfvars(ROOT / "environments" / env / "terraform.tfvars")
    assert tfvars["region"] == _sam_region(env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_lives_in_the_environment_region(env: str) -> None:
    region = _tfvars(ROOT / "environments" / env / "terraform.tfvars")["region"]
    [backend] = _load(ROOT / "environments" / env / "backend.tf")["terraform"][0]["backend"]
    s3 = backend['"s3"']
    assert _text(s3["region"]) == region
    assert _region_of_arn(_text(s3["kms_key_id"])) == region


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bootstrap_account_settings_match_the_environment(env: str) -> None:
    accounts = ROOT / "environments" / "bootstrap" / "accounts"
    bootstrap = _tfvars(accounts / f"{env}.tfvars")
    backend = _tfvars(accounts / f"{env}.s3.tfbackend")
    root = _tfvars(ROOT / "environments" / env / "terraform.tfvars")
    assert bootstrap["region"] == root["region"] == _sam_region(env)
    assert bootstrap["account_id"] == root["account_id"]
    assert bootstrap["environment"] == env
    assert backend["region"] == root["region"]
    assert _region_of_arn(backend["kms_key_id"]) == root["region"]
    assert backend["bucket"] == root["state_bucket_name"]


# ------------------------------------------------------------------ Cognito


def _smoke_auth_flow() -> str:
    match = re.search(r'AuthFlow="([A-Z_]+)"', SMOKE_SIGNIN.read_text())
    assert match, "the smoke sign-in no longer names its AuthFlow"
    return match.group(1)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_app_client_allows_the_smoke_client_sign_in(env: str) -> None:
    flows = _tfvars(ROOT / "environments" / env / "terraform.tfvars")["explicit_auth_flows"]
    assert f"ALLOW_{_smoke_auth_flow()}" in flows
    assert "ALLOW_CUSTOM_AUTH" not in flows


def test_auth_module_accepts_the_smoke_flow_and_not_custom_auth() -> None:
    text = (ROOT / "modules" / "auth" / "variables.tf").read_text()
    block = text[text.index('variable "explicit_auth_flows"') :]
    accepted = re.search(r"contains\(\[([^\]]*)\]", block)
    assert accepted
    names = {_text(name.strip()) for name in accepted.group(1).split(",")}
    assert f"ALLOW_{_smoke_auth_flow()}" in names
    assert "ALLOW_CUSTOM_AUTH" not in names


# ------------------------------------------------------------------ deploy role


def test_neither_the_deploy_nor_the_smoke_role_holds_cognito_permissions() -> None:
    # The smoke user signs in publicly (tests/unit/smoke pins the smoke role's exact grants);
    # a person creates it with `make smoke-user`.
    for role in ("deploy", "smoke"):
        allowed = _allowed(_policy_statements(GITHUB_OIDC, role))
        assert not [a for a in allowed if a.startswith("cognito-idp:")], role


ECR_PUSH_PULL = {
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
}


def test_deploy_role_can_push_images_to_the_two_repositories_only() -> None:
    statements = _policy_statements(GITHUB_OIDC, "deploy")
    allowed = _allowed(statements)
    for action in ECR_PUSH_PULL:
        assert [s["resources"] for s in allowed[action]] == [["${var.ecr_repository_arns}"]]
    [login] = allowed["ecr:GetAuthorizationToken"]
    assert login["actions"] == ["ecr:GetAuthorizationToken"]  # alone with its "*"
    assert login["resources"] == ["*"]
    ecr_actions = {a for s in statements for a in s["actions"] if a.startswith("ecr:")}
    assert ecr_actions == ECR_PUSH_PULL | {"ecr:GetAuthorizationToken"}


def test_deploy_role_reads_the_published_parameter_path() -> None:
    ssm_arn = _text(_locals(GITHUB_OIDC)["ssm_arn"])
    assert ssm_arn.endswith(":parameter${var.ssm_parameter_path}/*")
    platform = (ROOT / "modules" / "platform" / "main.tf").read_text()
    assert 'parameter_path = "/${var.project}/${var.environment}"' in platform
    assert re.search(r"ssm_parameter_path\s+= local\.parameter_path", platform)
    # ...and the parameters are published under that same path.
    assert 'name        = "/${var.project}/${var.environment}/${each.key}"' in platform


# ------------------------------------------------------------------ Terraform role


def test_workflow_assumes_the_terraform_role_in_the_environment() -> None:
    workflow = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "deploy-environment.yml").read_text()
    )
    job = workflow["jobs"]["deploy"]
    roles = [
        step["with"]["role-to-assume"]
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    assert roles == [
        "${{ vars.AWS_TERRAFORM_ROLE_ARN }}",
        "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
    ]
    assert job["environment"] == "${{ inputs.environment }}"


def test_terraform_role_trusts_exactly_the_github_environment() -> None:
    terraform = (GITHUB_OIDC / "terraform.tf").read_text()
    role = terraform[terraform.index('resource "aws_iam_role" "terraform"') :]
    role = role[: role.index("\n}\n")]
    assert re.search(
        r"assume_role_policy\s+=\s+data\.aws_iam_policy_document\.environment_assume\.json", role
    )
    main = (GITHUB_OIDC / "main.tf").read_text()
    assume = main[main.index('data "aws_iam_policy_document" "environment_assume"') :]
    # The environment, the caller's ref, and only the promotion workflow on main.
    subject = (
        '"repo:${var.github_repository}:environment:${var.environment}:ref:refs/heads/main'
        ":job_workflow_ref:${var.github_repository}/.github/workflows/deploy-environment.yml"
        '@refs/heads/main"'
    )
    assert subject in assume
    assert '["sts.amazonaws.com"]' in assume


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_roots_output_the_terraform_role(env: str) -> None:
    outputs = (ROOT / "environments" / env / "outputs.tf").read_text()
    assert 'output "github_terraform_role_arn"' in outputs
    assert "module.platform.github_terraform_role_arn" in outputs


# Actions AWS offers on "*" only (or, for CreateKey/CreateUserPool, before any
# resource exists); every other Allow of the Terraform role names ARNs. The
# Terraform role's own set, narrower than the scan's ACCOUNT_LEVEL_ACTIONS
# (policies/python/iam_least_privilege.py, for every role: X-Ray, the ECR
# login, ...); written out rather than read from there or from terraform.tf,
# so that widening either one cannot widen what this test accepts.
TERRAFORM_ACCOUNT_LEVEL = {
    "cognito-idp:CreateUserPool",
    "cognito-idp:TagResource",
    "kms:CreateKey",
    "kms:ListAliases",
    "kms:TagResource",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
    "sns:Unsubscribe",
    "ssm:DescribeParameters",
}


def test_terraform_role_grants_star_only_for_account_level_actions() -> None:
    for statement in _policy_statements(GITHUB_OIDC, "terraform"):
        assert statement["effect"] == "Allow", "denies belong in the guard-rail policy"
        if "*" in statement["resources"]:
            assert set(statement["actions"]) <= TERRAFORM_ACCOUNT_LEVEL, statement["sid"]
        for action in statement["actions"]:
            assert "*" not in action, action


def test_terraform_role_state_access_is_this_environment_only() -> None:
    allowed = _allowed(_policy_statements(GITHUB_OIDC, "terraform"))
    state_objects = {"${local.state_arn}", "${local.state_arn}.tflock"}
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        granted = {r for s in allowed[action] for r in s["resources"]}
        assert granted <= state_objects | {"${local.tf_bucket_arn}/*"}, action
    assert {r for s in allowed["s3:DeleteObject"] for r in s["resources"]} & state_objects == {
        "${local.state_arn}.tflock"
    }
    [state_key] = [s for s in allowed["kms:Decrypt"] if s["sid"] == "StateKey"]
    assert ("ForAnyValue:StringEquals", "kms:ResourceAliases") in state_key["conditions"]
    assert ("StringEquals", "kms:ViaService") in state_key["conditions"]


def test_terraform_role_guard_rails_deny_identity_github_roles_and_data() -> None:
    statements = {s["sid"]: s for s in _policy_statements(GITHUB_OIDC, "terraform_guard_rails")}
    assert all(s["effect"] == "Deny" for s in statements.values())
    assert {"iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"} <= set(
        statements["DenyIdentityAdministration"]["actions"]
    )
    github = statements["DenyGitHubRoleChanges"]
    assert github["resources"] == ["${local.tf_github_role_arn}"]
    assert {"iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"} <= set(
        github["actions"]
    )
    assert {"s3:GetObject", "dynamodb:GetItem", "dynamodb:Query"} <= set(
        statements["DenyDataAndItsProtection"]["actions"]
    )
    assert _text(_locals(GITHUB_OIDC)["tf_github_role_arn"]).endswith(
        ":role/${var.name_prefix}-github-*"
    )


# ------------------------------------------------------------------ Lambda execution roles


def test_upload_api_role_matches_what_the_api_calls() -> None:
    allowed = _allowed(_policy_statements(LAMBDA_ROLES, "upload_api"))
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert [s["resources"] for s in allowed[action]] == [["${local.objects_arn}"]], action
    for action in ("s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"):
        assert [s["resources"] for s in allowed[action]] == [["${local.objects_arn}"]], action
    assert [s["resources"] for s in allowed["dynamodb:PutItem"]] == [
        ["${var.table_arn}"],
        ["${var.pending_table_arn}"],
    ]
    assert [s["resources"] for s in allowed["dynamodb:GetItem"]] == [
        ["${var.table_arn}"],
        ["${var.usage_table_arn}"],
        ["${var.pending_table_arn}"],
    ]
    # Deletion marks the file item DELETING, then deletes it; completion deletes
    # the pending record; the usage counters are updated with both.
    assert [s["resources"] for s in allowed["dynamodb:DeleteItem"]] == [
        ["${var.table_arn}"],
        ["${var.pending_table_arn}"],
    ]
    assert [s["resources"] for s in allowed["dynamodb:UpdateItem"]] == [
        ["${var.table_arn}"],
        ["${var.usage_table_arn}"],
    ]
    assert [s["resources"] for s in allowed["dynamodb:Query"]] == [["${var.owner_index_arn}"]]
    [versions] = allowed["s3:ListBucketVersions"]
    assert versions["resources"] == ["${var.bucket_arn}"]
    assert ("StringLike", "s3:prefix") in versions["conditions"]
    assert "kms:GenerateDataKey" in allowed


@pytest.mark.parametrize("role", ["upload_api", "processor"])
def test_execution_roles_decrypt_their_environment_variables(role: str) -> None:
    decrypts = _allowed(_policy_statements(LAMBDA_ROLES, role))["kms:Decrypt"]
    assert any(
        s["resources"] == ["${var.kms_key_arn}"]
        and ("StringEquals", "kms:ViaService") in s["conditions"]
        and s["sid"] == "EnvironmentVariables"
        for s in decrypts
    )
    via = _text(_locals(LAMBDA_ROLES)["lambda_via_service"])
    assert via == "lambda.${local.region}.amazonaws.com"


def test_processor_role_reads_objects_and_records_outcomes() -> None:
    allowed = _allowed(_policy_statements(LAMBDA_ROLES, "processor"))
    assert [s["resources"] for s in allowed["s3:GetObject"]] == [["${local.objects_arn}"]]
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem"):
        assert [s["resources"] for s in allowed[action]] == [["${var.table_arn}"]], action
    assert "s3:PutObject" not in allowed
    assert "s3:DeleteObject" not in allowed


# ------------------------------------------------------------------ alarms


def test_files_failed_alarm_watches_the_metric_the_processor_emits() -> None:
    """Namespace and service dimension from the SAM template, metric name from the handler."""
    platform = _load(ROOT / "modules" / "platform" / "main.tf")
    [observability] = [
        body
        for entry in platform["module"]
        for name, body in entry.items()
        if _text(name) == "observability"
    ]
    metrics = {k: _text(v) for k, v in observability["processor_metrics"].items()}
    template = (ROOT / "services" / "template.yaml").read_text()
    namespace = re.search(r"POWERTOOLS_METRICS_NAMESPACE: (\S+)", template)
    assert namespace
    assert metrics["namespace"] == namespace.group(1)
    assert f"POWERTOOLS_SERVICE_NAME: {metrics['service']}" in template
    handler = (ROOT / "services" / "processor" / "processor" / "handler.py").read_text()
    assert f'add_metric(name="{metrics["metric_name"]}"' in handler
    alarm = (ROOT / "modules" / "observability" / "main.tf").read_text()
    assert re.search(r"dimensions\s+= \{ service = var\.processor_metrics\.service \}", alarm)
