"""The offline Terraform validator catches each class of mistake, and the real
tree (modules/, environments/) has none. Also: the Terraform facts other
parts of the repository rely on match the team contract."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from tests.infra.terraform_facts import table_definition
from tests.infra.validate_terraform import (
    PROVIDER_BLOCK_PATH,
    REPO_ROOT,
    SCHEMA_PATH,
    Finding,
    load_provider_block,
    load_schema,
    main,
    validate,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
M = "modules/m/main.tf"
PARENT = "modules/parent/main.tf"
OUTPUTS = "modules/m/outputs.tf"
PROVIDERS = "modules/m/providers.tf"

EXPECTED: dict[str, list[Finding]] = {
    "valid": [],
    "unknown_resource_type": [
        Finding(M, 'resource aws_s3_buckets.this: unknown resource type "aws_s3_buckets"'),
    ],
    "unknown_argument": [
        Finding(M, 'data aws_iam_policy_document.this: unknown argument "statement.actionz"'),
        Finding(M, 'resource aws_sfn_state_machine.this: unknown argument "colour"'),
        Finding(
            M,
            "resource aws_sfn_state_machine.this: "
            'unknown argument "logging_configuration.destination"',
        ),
        Finding(M, 'resource aws_sfn_state_machine.this: unknown block "tracing"'),
    ],
    "missing_required_argument": [
        Finding(M, 'resource aws_kms_alias.this: missing required argument "target_key_id"'),
        Finding(
            M,
            "resource aws_pipes_pipe.this: missing required argument "
            '"source_parameters.dynamodb_stream_parameters.starting_position"',
        ),
    ],
    "computed_only": [
        Finding(
            M,
            'resource aws_dynamodb_table.this: computed-only attribute "stream_arn" cannot be set',
        ),
    ],
    "undeclared_module_variable": [
        Finding(PARENT, 'module "child": unknown variable "colour"'),
    ],
    "missing_module_variable": [
        Finding(PARENT, 'module "child": missing required variable "name"'),
    ],
    "unresolved_reference": [
        Finding(M, "unresolved reference aws_kms_key.missing"),
        Finding(M, "unresolved reference data.aws_region.missing"),
        Finding(M, "unresolved reference local.suffix"),
        Finding(M, "unresolved reference module.missing"),
        Finding(M, "unresolved reference var.nmae"),
    ],
    "missing_module_output": [
        Finding(PARENT, 'module.child.bucket_arn: module "child" has no output "bucket_arn"'),
    ],
    "duplicate_declaration": [
        Finding(M, 'duplicate resource "aws_s3_bucket" "this"'),
        Finding(OUTPUTS, 'duplicate data "aws_region" "current"'),
        Finding(OUTPUTS, 'duplicate local "prefix"'),
        Finding(OUTPUTS, 'duplicate output "bucket"'),
        Finding(OUTPUTS, 'duplicate variable "name"'),
    ],
    "unknown_reference_attribute": [
        Finding(
            M, 'aws_s3_bucket.this.arnn: resource type "aws_s3_bucket" has no attribute "arnn"'
        ),
        Finding(
            M,
            "aws_sfn_state_machine.this.logging_configuration[0].levell: "
            'resource type "aws_sfn_state_machine" has no attribute "levell"',
        ),
        Finding(
            M, 'aws_sqs_queue.q[*].urll: resource type "aws_sqs_queue" has no attribute "urll"'
        ),
        Finding(
            M,
            "aws_sqs_queue.q[0].nonexistent_attr: "
            'resource type "aws_sqs_queue" has no attribute "nonexistent_attr"',
        ),
        Finding(
            M,
            "data.aws_caller_identity.current.account_idd: "
            'data source type "aws_caller_identity" has no attribute "account_idd"',
        ),
    ],
    "literal_type_mismatch": [
        Finding(
            M,
            'resource aws_s3_bucket.this: inappropriate value for "force_destroy": '
            'bool required, got string "maybe"',
        ),
        Finding(
            M,
            'resource aws_s3_bucket.this: inappropriate value for "tags": '
            'map(string) required, got string "everything"',
        ),
        Finding(
            M,
            "resource aws_sfn_state_machine.this: inappropriate value for "
            '"logging_configuration.include_execution_data": bool required, got string "yes"',
        ),
        Finding(
            M,
            'resource aws_sqs_queue.this: inappropriate value for "message_retention_seconds": '
            'number required, got string "soon"',
        ),
        Finding(
            M,
            'resource aws_sqs_queue.this: inappropriate value for "visibility_timeout_seconds": '
            "number required, got bool true",
        ),
    ],
    "undeclared_resource_reference": [
        Finding(M, "unresolved reference random_id.nope"),
        Finding(M, "unresolved reference random_pet.name"),
    ],
    "provider_block": [
        Finding(
            PROVIDERS,
            'provider aws: inappropriate value for "skip_credentials_validation": '
            'bool required, got string "sometimes"',
        ),
        Finding(PROVIDERS, 'provider aws: unknown argument "default_tags.tagz"'),
        Finding(PROVIDERS, 'provider aws: unknown argument "regoin"'),
        Finding(PROVIDERS, 'provider aws: unknown block "assume_rol"'),
    ],
    "environment_root_resource": [
        Finding(
            "environments/dev/main.tf",
            'environment root declares resource "aws_sqs_queue" "stray"; '
            "roots only call modules/platform",
        ),
        Finding(
            "environments/dev/main.tf",
            'module "other": environment roots may call only modules/platform',
        ),
    ],
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture_reports_exactly_the_expected_errors(case: str) -> None:
    assert validate(FIXTURES / case) == EXPECTED[case]


def test_every_fixture_has_an_expectation() -> None:
    cases = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert cases == set(EXPECTED) | {"parse_error"}


def test_unparsable_file_is_reported() -> None:
    [finding] = validate(FIXTURES / "parse_error")
    assert finding.file == M
    assert finding.message.startswith("cannot parse: ")


def test_main_prints_file_and_message_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURES / "missing_module_variable")]) == 1
    err = capsys.readouterr().err
    assert f'{PARENT}: module "child": missing required variable "name"' in err


def test_main_succeeds_on_a_clean_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURES / "valid")]) == 0
    assert "no errors" in capsys.readouterr().out


def test_repository_terraform_has_no_errors() -> None:
    assert validate(REPO_ROOT) == []


def test_vendored_schema_is_the_pinned_provider_release() -> None:
    schema = load_schema(SCHEMA_PATH)
    assert schema["provider_version"] == "6.47.0"
    assert "aws_pipes_pipe" in schema["resource_schemas"]
    assert (SCHEMA_PATH.parent / "README.md").is_file()


def test_vendored_provider_block_has_the_provider_arguments() -> None:
    block = load_provider_block(PROVIDER_BLOCK_PATH)
    assert {"region", "allowed_account_ids"} <= set(block["attributes"])
    assert {"assume_role", "default_tags", "endpoints"} <= set(block["block_types"])


# ------------------------------------------------------------------ contract facts


def test_table_definition_matches_the_contract() -> None:
    assert table_definition() == {
        "hash_key": "file_id",
        "attributes": {"file_id": "S", "owner": "S", "created_at": "S"},
        "gsis": [
            {
                "name": "owner-created_at-index",
                "hash_key": "owner",
                "range_key": "created_at",
                "projection": "ALL",
            }
        ],
        "stream_view_type": "NEW_IMAGE",
    }


def test_platform_publishes_exactly_the_contract_ssm_parameters() -> None:
    with (REPO_ROOT / "modules/platform/main.tf").open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    parameters = next(entry["parameters"] for entry in document["locals"] if "parameters" in entry)
    names = {key.strip('"') for key in parameters}
    assert names == {
        "upload-bucket-name",
        "files-table-name",
        "kms-key-arn",
        "cognito-user-pool-id",
        "cognito-issuer-url",
        "cognito-app-client-id",
        "upload-api-role-arn",
        "processor-role-arn",
        "processor-function-name",
        "upload-api-function-name",
        "upload-api-repository-uri",
        "processor-repository-uri",
        "api-access-log-group-arn",
    }


SHARED_ROOT_FILES = ("main.tf", "variables.tf", "providers.tf", "versions.tf", "outputs.tf")


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_environment_roots_differ_only_in_backend_and_tfvars(env: str) -> None:
    dev, other = REPO_ROOT / "environments/dev", REPO_ROOT / f"environments/{env}"
    assert sorted(p.name for p in other.iterdir()) == sorted(p.name for p in dev.iterdir())
    for name in SHARED_ROOT_FILES:
        assert (other / name).read_text() == (dev / name).read_text(), name


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_backend_locks_and_encrypts_in_the_tfvars_account(env: str) -> None:
    root = REPO_ROOT / "environments" / env
    backend = (root / "backend.tf").read_text()
    tfvars = (root / "terraform.tfvars").read_text()
    account = re.search(r'^account_id\s*=\s*"(\d{12})"', tfvars, re.M)
    assert account is not None
    assert "use_lockfile = true" in backend
    assert "encrypt      = true" in backend
    assert f'key          = "{env}/terraform.tfstate"' in backend
    assert f'bucket       = "secure-upload-tfstate-{account.group(1)}"' in backend
    assert re.search(rf'^environment\s*=\s*"{env}"', tfvars, re.M)
