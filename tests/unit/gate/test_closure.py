"""The IAM closure analysis on small synthetic accounts: green as IAM should be, red per finding.

The green account is what the review's fixes make of the IAM: GitHub trusts
pinned to main and one workflow file each (the smoke role its own), a
boundary that caps every role at its narrow grants, a state machine role that
may set only the status attributes, a smoke role without Cognito admin calls.
Each red fixture restores one finding of the review (1 to 5) on a copy of it,
and the analysis must name the path. No stack: these run in seconds.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.iam_analysis import (
    ADMIN,
    AUDIT_TRAIL,
    IDENTITY_PROVIDER,
    MODEL_END,
    MODEL_START,
    STATUS_ATTRIBUTES,
    TRUST,
    UPLOAD_DATA,
    AcceptedPath,
    Analysis,
    Environment,
    Finding,
    Runner,
    _allowed,
    analyse,
    build_nodes,
    load_exceptions,
    report,
    security_model,
    write_model,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = "secure-upload-test"
REPO = "example-org/secure-upload-platform"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
WORKFLOWS = f"{REPO}/.github/workflows"
MAIN = "refs/heads/main"

BUCKET = f"{PREFIX}-uploads-{ACCOUNT}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-files"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f0f0f0f-0000-4000-8000-000000000000"
POOL_ARN = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_pool"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-workload-boundary"
GUARD_RAILS_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-github-terraform-guard-rails"
PARAMETERS_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/secure-upload/test/*"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{PREFIX}-processing"
PIPE_ARN = f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{PREFIX}-files-stream"
FUNCTIONS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-*"
PROCESSOR_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-processor"
UPLOAD_API_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-upload-api"
RULES_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{PREFIX}-*"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-{name}"


UPLOAD_API, PROCESSOR = role_arn("upload-api"), role_arn("processor")
MALWARE_SCAN, SFN, PIPE = (
    role_arn("malware-scan"),
    role_arn("processing-sfn"),
    role_arn("files-stream-pipe"),
)


def allow(
    actions: list[str], resources: list[str], sid: str = "", **condition: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = condition
    return statement


def deny(
    actions: list[str], resources: list[str], sid: str = "", **condition: Any
) -> dict[str, Any]:
    return {**allow(actions, resources, sid, **condition), "Effect": "Deny"}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def subject(workflow: str, *, environment: str = "test", ref: str | None = MAIN) -> str:
    """GitHub's customised subject: repo, context, ref, job_workflow_ref."""
    ref_part = f":ref:{ref}" if ref else ""
    workflow_ref = f"job_workflow_ref:{WORKFLOWS}/{workflow}@{MAIN}"
    return f"repo:{REPO}:environment:{environment}{ref_part}:{workflow_ref}"


def github_trust(*subjects: str, like: bool = False) -> dict[str, Any]:
    condition: dict[str, dict[str, Any]] = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    }
    operator = "StringLike" if like else "StringEquals"
    condition.setdefault(operator, {})["token.actions.githubusercontent.com:sub"] = list(subjects)
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


def service_trust(service: str, source_arn: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_arn:
        statement["Condition"] = {"ArnLike": {"aws:SourceArn": source_arn}}
    return document(statement)


def role(
    name: str,
    trust: dict[str, Any],
    policy: dict[str, Any],
    *,
    boundary: bool = False,
    managed: tuple[str, ...] = (),
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "Path": "/",
        "RoleName": f"{PREFIX}-{name}",
        "RoleId": f"AROA{name.upper().replace('-', '')}",
        "Arn": role_arn(name),
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": "policy", "PolicyDocument": policy}],
        "AttachedManagedPolicies": [
            {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed
        ],
        "Tags": [{"Key": "environment", "Value": "test"}],
    }
    if boundary:
        detail["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": BOUNDARY_ARN,
        }
    return detail


def managed(arn: str, policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyId": "ANPA" + arn.rsplit("/", 1)[-1].upper().replace("-", "")[:16],
        "Arn": arn,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": policy, "VersionId": "v1", "IsDefaultVersion": True}],
    }


OBJECTS = f"{BUCKET_ARN}/uploads/*"
TABLES = [TABLE_ARN, f"{TABLE_ARN}/*"]
NOT_THESE = "ArnNotEquals"


def boundary_policy() -> dict[str, Any]:
    """Every workload role's ceiling: broad Allows, Denies that leave each its narrow grants."""

    def only(*roles: str) -> dict[str, Any]:
        return {NOT_THESE: {"aws:PrincipalArn": list(roles)}}

    return document(
        allow(
            ["s3:*", "dynamodb:*", "kms:Decrypt", "lambda:InvokeFunction", "states:StartExecution"],
            [BUCKET_ARN, f"{BUCKET_ARN}/*", *TABLES, KEY_ARN, FUNCTIONS_ARN, STATE_MACHINE_ARN],
            "WorkloadServices",
        ),
        deny(
            ["iam:*", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
            ["*"],
            "NoIdentityAdministration",
        ),
        deny(
            [
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:PutBucketVersioning",
                "s3:PutLifecycleConfiguration",
                "s3:PutBucketLogging",
            ],
            [BUCKET_ARN],
            "NoDataProtectionChanges",
        ),
        deny(
            ["s3:GetObject"],
            [f"{BUCKET_ARN}/*"],
            "ObjectReads",
            **only(UPLOAD_API, PROCESSOR, MALWARE_SCAN),
        ),
        deny(
            ["s3:GetObjectVersion"],
            [f"{BUCKET_ARN}/*"],
            "VersionReads",
            **only(PROCESSOR, MALWARE_SCAN),
        ),
        deny(
            ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            [f"{BUCKET_ARN}/*"],
            "ObjectWrites",
            **only(UPLOAD_API),
        ),
        deny(["s3:PutObjectTagging"], [f"{BUCKET_ARN}/*"], "ScanTags", **only(MALWARE_SCAN)),
        deny(["dynamodb:GetItem"], TABLES, "ItemReads", **only(UPLOAD_API, PROCESSOR)),
        deny(
            ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
            TABLES,
            "ItemWrites",
            **only(UPLOAD_API),
        ),
        deny(["dynamodb:UpdateItem"], TABLES, "ItemUpdates", **only(UPLOAD_API, PROCESSOR, SFN)),
        # The state machine: status attributes only, and nothing read back.
        deny(
            ["dynamodb:UpdateItem"],
            TABLES,
            "StateMachineStatusOnly",
            ArnEquals={"aws:PrincipalArn": SFN},
            **{"ForAnyValue:StringNotEquals": {"dynamodb:Attributes": list(STATUS_ATTRIBUTES)}},
        ),
        deny(
            ["dynamodb:UpdateItem"],
            TABLES,
            "StateMachineReturnsNothing",
            ArnEquals={"aws:PrincipalArn": SFN},
            StringNotEquals={"dynamodb:ReturnValues": "NONE"},
        ),
        deny(
            [
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:Scan",
                "dynamodb:ExportTableToPointInTime",
                "dynamodb:DeleteTable",
                "dynamodb:UpdateTable",
            ],
            TABLES,
            "NoBulkOrTableChanges",
        ),
        deny(["dynamodb:GetRecords"], TABLES, "StreamOnlyForThePipe", **only(PIPE)),
        deny(
            ["kms:Decrypt"],
            ["*"],
            "DecryptOnlyForKeyUsers",
            **only(UPLOAD_API, PROCESSOR, MALWARE_SCAN, SFN, PIPE),
        ),
    )


def terraform_policy() -> dict[str, Any]:
    bounded = {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY_ARN}}
    return document(
        allow(
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy"],
            [role_arn("*")],
            "ChangeWorkloadRolesWithinTheBoundary",
            **bounded,
        ),
        allow(
            ["iam:PassRole"],
            [role_arn("*")],
            "PassWorkloadRoles",
            StringEquals={"iam:PassedToService": ["states.amazonaws.com", "pipes.amazonaws.com"]},
        ),
        allow(
            ["states:CreateStateMachine", "states:UpdateStateMachine"],
            [f"{STATE_MACHINE_ARN[: -len('processing')]}*"],
            "StateMachines",
        ),
        # The Pipe is applied by a person (its log configuration): refresh only.
        allow(["pipes:DescribePipe"], [f"{PIPE_ARN[: -len('files-stream')]}*"], "Pipes"),
        # Rules under the prefix; the guard rails decide their targets.
        allow(["events:PutRule", "events:PutTargets"], [RULES_ARN], "EventRules"),
        allow(["logs:CreateLogDelivery"], ["*"], "AccountLevelOnly"),
        allow(["s3:CreateBucket", "s3:PutEncryptionConfiguration"], [BUCKET_ARN], "Buckets"),
        allow(["dynamodb:CreateTable", "dynamodb:DescribeTable"], [TABLE_ARN], "Tables"),
        # Parameters are created, never overwritten (the workloads read them).
        allow(
            ["ssm:PutParameter"],
            [PARAMETERS_ARN],
            "Parameters",
            StringEquals={"ssm:Overwrite": "false"},
        ),
        allow(
            ["cognito-idp:UpdateUserPool", "cognito-idp:UpdateUserPoolClient"],
            [f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/*"],
            "UserPools",
            StringEquals={"aws:ResourceTag/environment": "test"},
        ),
        allow(
            ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
            [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}-*"],
            "LogGroups",
        ),
    )


def guard_rails() -> dict[str, Any]:
    return document(
        deny(
            [
                "iam:CreatePolicyVersion",
                "iam:DeleteRolePermissionsBoundary",
                "iam:UpdateAssumeRolePolicy",
                "iam:DeleteRole",
            ],
            ["*"],
            "DenyIdentityAdministration",
        ),
        deny(
            ["iam:AttachRolePolicy", "iam:CreateRole", "iam:PassRole", "iam:PutRolePolicy"],
            [role_arn("github-*")],
            "DenyGitHubRoleChanges",
        ),
        deny(["s3:GetObject", "s3:GetObjectVersion"], [f"{BUCKET_ARN}/*"], "DenyDataReads"),
        deny_other_event_targets(),
        deny(
            ["pipes:CreatePipe", "pipes:UpdatePipe", "pipes:DeletePipe"], ["*"], "DenyPipeChanges"
        ),
    )


def deny_other_event_targets() -> dict[str, Any]:
    """No target and no queue policy from CI: a target's dead-letter queue is no condition key."""
    return deny(
        ["events:PutTargets", "events:RemoveTargets", "sqs:SetQueueAttributes"],
        ["*"],
        "DenyEventTargetsAndQueuePolicies",
    )


def green_details() -> dict[str, Any]:
    deploy_subject = subject("deploy-environment.yml")
    lambda_only = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    roles = [
        role(
            "github-terraform",
            github_trust(deploy_subject),
            terraform_policy(),
            managed=(GUARD_RAILS_ARN,),
        ),
        role(
            "github-deploy",
            github_trust(deploy_subject),
            document(
                allow(
                    [
                        "lambda:CreateFunction",
                        "lambda:UpdateFunctionCode",
                        "lambda:UpdateFunctionConfiguration",
                    ],
                    [FUNCTIONS_ARN],
                    "Functions",
                ),
                allow(
                    ["iam:PassRole"],
                    [UPLOAD_API, PROCESSOR],
                    "PassOnlyTheExecutionRoles",
                    **lambda_only,
                ),
                allow(
                    ["apigateway:GET", "apigateway:PATCH", "apigateway:POST"],
                    [
                        f"arn:aws:apigateway:{REGION}::/apis",
                        f"arn:aws:apigateway:{REGION}::/apis/*",
                    ],
                    "HttpApis",
                ),
                allow(["ssm:GetParameter"], [PARAMETERS_ARN], "ReadPlatformParameters"),
            ),
        ),
        role(
            "github-smoke",
            github_trust(subject("smoke-environment.yml")),
            document(
                allow(["ssm:GetParameter"], [PARAMETERS_ARN], "ReadPlatformParameters"),
                allow(
                    ["secretsmanager:GetSecretValue"],
                    [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{PREFIX}-smoke-user-*"],
                    "SmokeUserPassword",
                ),
            ),
        ),
        role(
            "github-plan",
            document(
                *github_trust(
                    f"repo:{REPO}:ref:{MAIN}:job_workflow_ref:{WORKFLOWS}/deploy-environment.yml@{MAIN}"
                )["Statement"],
                *github_trust(
                    f"repo:{REPO}:pull_request:job_workflow_ref:{WORKFLOWS}/plan.yml@refs/pull/*/merge",
                    like=True,
                )["Statement"],
            ),
            document(
                allow(
                    ["dynamodb:DescribeTable", "s3:GetBucketPolicy", "s3:ListBucket"],
                    ["*"],
                    "RefreshPlatformResources",
                ),
                deny(
                    ["s3:GetObject", "dynamodb:GetItem", "dynamodb:Query"],
                    [f"{BUCKET_ARN}/*", *TABLES],
                    "DenyDataReads",
                ),
            ),
        ),
        role(
            "upload-api",
            service_trust("lambda.amazonaws.com"),
            document(
                allow(
                    ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                    [OBJECTS],
                    "UploadObjects",
                ),
                allow(
                    [
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:Query",
                    ],
                    TABLES,
                    "MetadataItems",
                ),
            ),
            boundary=True,
        ),
        role(
            "processor",
            service_trust("lambda.amazonaws.com"),
            document(
                allow(["s3:GetObject", "s3:GetObjectVersion"], [OBJECTS], "ReadUploads"),
                allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE_ARN], "RecordOutcome"),
            ),
            boundary=True,
        ),
        role(
            "malware-scan",
            service_trust("malware-protection-plan.guardduty.amazonaws.com"),
            document(
                allow(
                    ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectTagging"],
                    [f"{BUCKET_ARN}/*"],
                    "ScanObjects",
                )
            ),
            boundary=True,
        ),
        role(
            "processing-sfn",
            service_trust("states.amazonaws.com", f"{STATE_MACHINE_ARN}*"),
            document(
                allow(["lambda:InvokeFunction"], [PROCESSOR_FUNCTION_ARN], "InvokeProcessor"),
                allow(
                    ["dynamodb:UpdateItem"],
                    [TABLE_ARN],
                    "MarkFailed",
                    **{
                        "ForAllValues:StringEquals": {
                            "dynamodb:Attributes": list(STATUS_ATTRIBUTES)
                        },
                        "StringEquals": {"dynamodb:ReturnValues": "NONE"},
                    },
                ),
            ),
            boundary=True,
        ),
        role(
            "files-stream-pipe",
            service_trust("pipes.amazonaws.com", PIPE_ARN),
            document(
                allow(
                    ["dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [STREAM_ARN],
                    "ReadThisStream",
                ),
                allow(["states:StartExecution"], [STATE_MACHINE_ARN], "StartThisStateMachine"),
            ),
            boundary=True,
        ),
    ]
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": [
            managed(BOUNDARY_ARN, boundary_policy()),
            managed(GUARD_RAILS_ARN, guard_rails()),
        ],
    }


BUCKET_POLICY = document(
    {
        **deny(
            ["s3:GetObject", "s3:GetObjectVersion"],
            [f"{BUCKET_ARN}/*"],
            "ObjectReadsOnlyForListedRoles",
        ),
        "Principal": {"AWS": "*"},
        "Condition": {NOT_THESE: {"aws:PrincipalArn": [UPLOAD_API, PROCESSOR, MALWARE_SCAN]}},
    },
)
KEY_POLICY = document(
    {
        **allow(["kms:Decrypt", "kms:GenerateDataKey"], ["*"], "UseThroughAwsServices"),
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [f"s3.{REGION}.amazonaws.com", f"dynamodb.{REGION}.amazonaws.com"]
            }
        },
    },
)

ENV = Environment(
    account_id=ACCOUNT,
    project="secure-upload",
    environment="test",
    bucket=BUCKET,
    tables={"files": TABLE_ARN},
    key_arn=KEY_ARN,
    user_pool_arn=POOL_ARN,
    data_roles=frozenset(f"{PREFIX}-{n}" for n in ("upload-api", "processor", "malware-scan")),
    function_roles=frozenset(f"{PREFIX}-{n}" for n in ("upload-api", "processor")),
    runners=(
        Runner("states", f"{PREFIX}-processing", STATE_MACHINE_ARN, SFN),
        Runner("pipes", f"{PREFIX}-files-stream", PIPE_ARN, PIPE),
        Runner("lambda", f"{PREFIX}-processor", PROCESSOR_FUNCTION_ARN, PROCESSOR),
    ),
    files_stream_arn=STREAM_ARN,
    log_groups=(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}-upload-api",),
)
FUNCTIONS = [
    {
        "FunctionName": f"{PREFIX}-processor",
        "FunctionArn": PROCESSOR_FUNCTION_ARN,
        "Role": PROCESSOR,
    }
]

EVIDENCE = "the compensating control is here"


def accepted_paths(evidence: tuple[tuple[str, str], ...]) -> list[AcceptedPath]:
    """What the green account accepts: the deploy role deploys; Terraform's updates are alarmed."""

    def entry(
        source: str,
        via: str | None,
        reaches: set[str],
        actions: frozenset[str] | set[str] = frozenset(),
        widened: bool | None = False,
    ) -> AcceptedPath:
        control, reason = f"control of {source} via {via}", "a reason a reviewer would accept"
        return AcceptedPath(
            source, via, widened, frozenset(reaches), frozenset(actions), control, reason, evidence
        )

    return [
        entry("github-deploy", "upload-api", {"upload-api", UPLOAD_DATA}),
        entry("github-deploy", "processor", {"processor", UPLOAD_DATA}),
        entry(
            "github-deploy",
            None,
            {IDENTITY_PROVIDER},
            {
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "apigateway:POST",
                "apigateway:PATCH",
            },
        ),
        entry(
            "github-terraform",
            "processing-sfn",
            {UPLOAD_DATA},
            {"dynamodb:UpdateItem"},
            widened=None,
        ),
        entry(
            "github-terraform",
            "files-stream-pipe",
            {UPLOAD_DATA},
            {"dynamodb:GetRecords"},
            widened=None,
        ),
        entry(
            "github-terraform",
            None,
            {IDENTITY_PROVIDER},
            {"cognito-idp:UpdateUserPool", "cognito-idp:UpdateUserPoolClient"},
        ),
    ]


@dataclass
class Account:
    details: dict[str, Any]
    bucket_policy: dict[str, Any]
    key_policy: dict[str, Any]

    def role(self, name: str) -> dict[str, Any]:
        (found,) = [
            r for r in self.details["RoleDetailList"] if r["RoleName"] == f"{PREFIX}-{name}"
        ]
        detail: dict[str, Any] = found
        return detail

    def policy(self, name: str) -> dict[str, Any]:
        document: dict[str, Any] = self.role(name)["RolePolicyList"][0]["PolicyDocument"]
        return document

    def boundary(self) -> dict[str, Any]:
        (found,) = [p for p in self.details["Policies"] if p["Arn"] == BOUNDARY_ARN]
        document: dict[str, Any] = found["PolicyVersionList"][0]["Document"]
        return document


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "control.tf").write_text(f"# {EVIDENCE}\n", encoding="utf-8")
    return tmp_path


def green() -> Account:
    return Account(green_details(), copy.deepcopy(BUCKET_POLICY), copy.deepcopy(KEY_POLICY))


def run(account: Account, root: Path, exceptions: list[AcceptedPath] | None = None) -> Analysis:
    return analyse(
        account.details,
        ENV,
        bucket_policy=account.bucket_policy,
        key_policy=account.key_policy,
        functions=FUNCTIONS,
        exceptions=accepted_paths((("control.tf", EVIDENCE),))
        if exceptions is None
        else exceptions,
        root=root,
    )


def messages(analysis: Analysis) -> list[str]:
    return [str(f) for f in analysis.findings]


def red(analysis: Analysis, *parts: str) -> list[str]:
    """The findings whose message names every part (the path and what it reaches)."""
    named = [m for m in messages(analysis) if all(p in m for p in parts)]
    assert named, f"no finding names {parts}:\n{report(analysis)}"
    return named


# ------------------------------------------------------------ green


def test_the_green_account_has_no_finding(root: Path) -> None:
    analysis = run(green(), root)
    assert analysis.findings == [], report(analysis)
    assert analysis.principals == [
        "github-deploy",
        "github-plan",
        "github-smoke",
        "github-terraform",
    ]
    accepted = {(f.source, f.via, f.target) for f, _ in analysis.accepted}
    # The deploy role runs code as the two functions, and nothing else is reached unseen.
    assert ("github-deploy", "upload-api", UPLOAD_DATA) in accepted
    assert ("github-deploy", "processor", UPLOAD_DATA) in accepted
    assert ("github-terraform", "processing-sfn", UPLOAD_DATA) in accepted
    assert ("github-terraform", "files-stream-pipe", UPLOAD_DATA) in accepted


def test_green_state_machine_role_reaches_only_status_updates(root: Path) -> None:
    analysis = run(green(), root)
    through_sfn = [f for f, _ in analysis.accepted if f.via == "processing-sfn"]
    assert {f.how for f in through_sfn} == {
        "dynamodb:UpdateItem (status attributes only) on the files table"
    }
    assert {f.steps for f in through_sfn} == {
        ("updates state machine processing (runs as processing-sfn)",),
        ("changes the policy of processing-sfn (boundary + any policy)",),
    }


def test_only_the_function_roles_may_rewrite_an_items_location(root: Path) -> None:
    """MarkFailed's context with s3_key and ReturnValues ALL_OLD: denied but to the functions."""
    analysis = run(green(), root)
    rewrites = [
        f for f, _ in analysis.accepted if "s3_key" in f.how or "ReturnValues ALL_OLD" in f.how
    ] + [f for f in analysis.findings if "s3_key" in f.how]
    assert rewrites, "the functions' own rewrite is part of the deploy role's accepted closure"
    assert {(f.via, f.widened) for f in rewrites} <= {("upload-api", False), ("processor", False)}


def test_without_exceptions_the_deploy_path_is_a_finding(root: Path) -> None:
    analysis = run(green(), root, exceptions=[])
    red(
        analysis,
        "github-deploy → creates function (runs as upload-api) → ",
        "s3:PutObject",
        "upload bucket",
    )
    red(analysis, "github-deploy → upload-api: can create a function with its own code")


# ------------------------------------------------------------ finding 1: trust admits another ref


@pytest.mark.parametrize("name", ["github-deploy", "github-terraform", "github-smoke"])
def test_finding_1_a_trust_without_the_callers_ref_is_red(root: Path, name: str) -> None:
    account = green()
    workflow = "smoke-environment.yml" if name == "github-smoke" else "deploy-environment.yml"
    account.role(name)["AssumeRolePolicyDocument"] = github_trust(subject(workflow, ref=None))
    analysis = run(account, root)
    (message,) = red(analysis, f"{name} → trust admits another ref", f"does not pin ref:{MAIN}")
    assert workflow in message
    # No exception holds while the trust admits another ref.
    if name != "github-smoke":
        assert not [f for f, _ in analysis.accepted if f.source == name]
        assert any(f"the trust of {name} admits another ref" in note for note in analysis.unproven)


def test_finding_1_a_wildcard_subject_is_red(root: Path) -> None:
    account = green()
    account.role("github-terraform")["AssumeRolePolicyDocument"] = github_trust(
        f"repo:{REPO}:environment:test:ref:refs/heads/*:job_workflow_ref:{WORKFLOWS}/deploy-environment.yml@{MAIN}",
        like=True,
    )
    red(run(account, root), "github-terraform → trust admits another ref: a wildcard subject")


def test_finding_1_the_workflow_file_from_another_ref_is_red(root: Path) -> None:
    account = green()
    account.role("github-deploy")["AssumeRolePolicyDocument"] = github_trust(
        f"repo:{REPO}:environment:test:ref:{MAIN}:job_workflow_ref:{WORKFLOWS}/deploy-environment.yml@refs/heads/feature"
    )
    red(run(account, root), "github-deploy → trust admits another ref: the workflow file from")


def test_finding_1_trusting_the_pull_request_workflow_is_red(root: Path) -> None:
    account = green()
    account.role("github-terraform")["AssumeRolePolicyDocument"] = github_trust(subject("plan.yml"))
    red(
        run(account, root),
        "github-terraform → trust admits another ref: ",
        "plan.yml is a pull-request workflow (wrong file)",
    )


def test_finding_4_the_smoke_role_trusting_the_deploy_workflow_is_red(root: Path) -> None:
    account = green()
    account.role("github-smoke")["AssumeRolePolicyDocument"] = github_trust(
        subject("deploy-environment.yml")
    )
    red(
        run(account, root),
        "github-smoke → trust admits another role's job: the same subject as github-deploy",
        "can assume the smoke role",
    )


# ------------------------------------------------------------ finding 2: the files table's s3_key


def test_finding_2_a_state_machine_role_that_writes_any_attribute_is_red(root: Path) -> None:
    account = green()
    policy = account.policy("processing-sfn")
    (mark_failed,) = [s for s in policy["Statement"] if s["Sid"] == "MarkFailed"]
    del mark_failed["Condition"]
    boundary = account.boundary()
    boundary["Statement"] = [
        s for s in boundary["Statement"] if not s.get("Sid", "").startswith("StateMachine")
    ]
    analysis = run(account, root)
    red(
        analysis,
        "github-terraform → updates state machine processing (runs as processing-sfn) → ",
        "dynamodb:UpdateItem (s3_key, ReturnValues ALL_OLD)",
        "on the files table",
    )
    # The exception for status updates through the state machine does not cover it.
    rewrite = [f for f in analysis.findings if "s3_key" in f.how and f.via == "processing-sfn"]
    assert rewrite
    assert not any(f.acceptable for f in rewrite)


def test_finding_2_any_ci_role_that_writes_the_files_table_is_red(root: Path) -> None:
    account = green()
    account.policy("github-deploy")["Statement"].append(
        allow(["dynamodb:UpdateItem"], [TABLE_ARN], "Restored")
    )
    red(
        run(account, root),
        "github-deploy → dynamodb:UpdateItem (s3_key, ReturnValues ALL_OLD)",
        "on the files table",
    )


# ------------------------------------------------------------ finding 3: what Terraform can change


def without_object_denies(account: Account) -> Account:
    """The boundary as it was: s3:* on the data buckets for every role it bounds."""
    boundary = account.boundary()
    boundary["Statement"] = [
        s for s in boundary["Statement"] if s.get("Sid") not in {"ObjectWrites", "ObjectReads"}
    ]
    return account


def test_finding_3_a_boundary_that_allows_s3_lets_a_created_role_reach_the_objects(
    root: Path,
) -> None:
    analysis = run(without_object_denies(green()), root)
    (message,) = red(
        analysis,
        "github-terraform → creates role (boundary + any policy) → ",
        "on the upload bucket",
    )
    assert "s3:PutObject, s3:DeleteObject, s3:DeleteObjectVersion" in message
    # Reads stay denied: the bucket policy (the resource policy) lists who may read.
    assert "s3:GetObject" not in message


def test_finding_3_the_bucket_policy_is_evaluated_as_the_resource_policy(root: Path) -> None:
    account = without_object_denies(green())
    account.bucket_policy = document()
    red(
        run(account, root),
        "github-terraform → creates role (boundary + any policy) → s3:GetObject, s3:PutObject",
    )


def test_finding_3_overwriting_the_issuer_parameter_is_red(root: Path) -> None:
    account = green()
    (parameters,) = [
        s for s in account.policy("github-terraform")["Statement"] if s["Sid"] == "Parameters"
    ]
    del parameters["Condition"]
    red(
        run(account, root),
        "github-terraform → ssm:PutParameter (overwrite) on parameter cognito-issuer-url",
        "changes which identity provider the API trusts",
    )


def test_finding_3_creating_roles_without_the_boundary_is_red(root: Path) -> None:
    """Finding 1 of the previous review: CreateRole without the boundary condition."""
    account = green()
    (roles,) = [
        s
        for s in account.policy("github-terraform")["Statement"]
        if s["Sid"] == "ChangeWorkloadRolesWithinTheBoundary"
    ]
    del roles["Condition"]
    analysis = run(account, root)
    red(
        analysis,
        "github-terraform → creates role (no boundary + any policy) → any action on any resource",
    )
    red(analysis, "github-terraform → can create a role without the permissions boundary")


def test_finding_3_changing_an_unbounded_roles_policy_is_red(root: Path) -> None:
    account = green()
    (roles,) = [
        s
        for s in account.policy("github-terraform")["Statement"]
        if s["Sid"] == "ChangeWorkloadRolesWithinTheBoundary"
    ]
    roles["Condition"] = {
        "StringNotEquals": {
            "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"
        }
    }
    account.role("processing-sfn").pop("PermissionsBoundary")
    red(
        run(account, root),
        "github-terraform → changes the policy of processing-sfn (no boundary + any policy) → ",
        "any action on any resource",
    )


def test_finding_3_a_created_state_machine_that_runs_as_a_trusting_role_is_red(root: Path) -> None:
    """A role that trusts any state machine: Terraform creates one that runs as it."""
    account = green()
    account.role("processing-sfn")["AssumeRolePolicyDocument"] = service_trust(
        "states.amazonaws.com"
    )
    account.policy("processing-sfn")["Statement"].append(
        allow(["dynamodb:DeleteTable"], [TABLE_ARN], "Restored")
    )
    account.boundary()["Statement"] = [
        s for s in account.boundary()["Statement"] if s.get("Sid") != "NoBulkOrTableChanges"
    ]
    analysis = run(account, root)
    red(
        analysis,
        "github-terraform → creates state machine (runs as processing-sfn) → dynamodb:DeleteTable",
        "on the files table",
    )


def test_finding_3_deleting_a_log_group_silences_the_audit_trail(root: Path) -> None:
    account = green()
    (logs,) = [
        s for s in account.policy("github-terraform")["Statement"] if s["Sid"] == "LogGroups"
    ]
    logs["Action"].append("logs:DeleteLogGroup")
    analysis = run(account, root)
    (message,) = red(analysis, "github-terraform → logs:DeleteLogGroup on log group /aws/lambda/")
    (finding,) = [f for f in analysis.findings if str(f) == message]
    assert finding.target == AUDIT_TRAIL


# ------------------------------------------------------------ finding 4: the smoke role


def test_finding_4_pool_wide_cognito_admin_calls_are_user_takeover(root: Path) -> None:
    account = green()
    account.policy("github-smoke")["Statement"].append(
        allow(
            ["cognito-idp:AdminSetUserPassword", "cognito-idp:AdminInitiateAuth"],
            [POOL_ARN],
            "SmokeTestUser",
        )
    )
    analysis = run(account, root)
    (message,) = red(
        analysis, "github-smoke → cognito-idp:AdminInitiateAuth, cognito-idp:AdminSetUserPassword"
    )
    assert message.endswith("on the user pool (user takeover)")
    assert {f.target for f in analysis.findings} == {IDENTITY_PROVIDER}


# ------------------------------------------------------------ finding 5: objects under uploads/


def test_finding_5_a_ci_role_that_writes_or_deletes_uploads_is_red(root: Path) -> None:
    account = green()
    account.policy("github-terraform")["Statement"].append(
        allow(["s3:PutObject", "s3:DeleteObjectVersion"], [OBJECTS], "EmptyBucketsOnDestroy")
    )
    red(
        run(account, root),
        "github-terraform → s3:PutObject, s3:DeleteObjectVersion on the upload bucket",
    )


# ------------------------------------------------------------ red-team review: where events go


def with_old_target_deny(account: Account) -> Account:
    """The guard rails as they were: any target in this account (H1 of the red-team review)."""
    (guard_rails,) = [p for p in account.details["Policies"] if p["Arn"] == GUARD_RAILS_ARN]
    document = guard_rails["PolicyVersionList"][0]["Document"]
    document["Statement"] = [
        s for s in document["Statement"] if s.get("Sid") != "DenyEventTargetsAndQueuePolicies"
    ] + [
        deny(
            ["events:PutTargets"],
            ["*"],
            "DenyTargetsInOtherAccounts",
            **{"ForAnyValue:ArnNotLike": {"events:TargetArn": [f"arn:aws:*:*:{ACCOUNT}:*"]}},
        )
    ]
    return account


def test_h1_a_rule_of_its_own_sending_to_a_queue_of_its_own_is_red(root: Path) -> None:
    """A target in this account passed the old deny: object keys to whoever reads the queue."""
    analysis = run(with_old_target_deny(green()), root)
    (default_bus,) = red(
        analysis,
        "github-terraform → events:PutTargets (target: a queue of its own), ",
        "events:PutTargets (target: a topic of its own)",
        "on a rule on the default bus (object-created events: keys)",
    )
    (finding,) = [f for f in analysis.findings if str(f) == default_bus]
    assert finding.target == UPLOAD_DATA
    assert finding.acceptable  # an exception could name a control, but none does
    red(analysis, "github-terraform → events:PutTargets", f"on a rule on bus {PREFIX}-file-events")


def test_h1_even_the_platforms_own_target_is_put_by_a_person(root: Path) -> None:
    """The upload API's own target could carry a dead-letter queue: no target from CI."""
    (terraform,) = [
        n for n in build_nodes(green().details) if n.arn == role_arn("github-terraform")
    ]
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{PREFIX}-object-created"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-exfil"
    target = "events:TargetArn"
    assert not _allowed(terraform, "events:PutTargets", rule, {target: [UPLOAD_API_FUNCTION_ARN]})
    assert not _allowed(terraform, "events:PutTargets", rule, {target: [queue]})


def test_a_target_whose_dead_letter_queue_ci_may_open_is_red(root: Path) -> None:
    """The second pass: the platform's own target and the queue policy route the same keys."""
    account = green()
    (guard_rails,) = [p for p in account.details["Policies"] if p["Arn"] == GUARD_RAILS_ARN]
    document = guard_rails["PolicyVersionList"][0]["Document"]
    document["Statement"] = [
        s for s in document["Statement"] if s.get("Sid") != "DenyEventTargetsAndQueuePolicies"
    ] + [
        deny(
            ["events:PutTargets"],
            ["*"],
            "DenyOtherEventTargets",
            **{"ForAnyValue:ArnNotEquals": {"events:TargetArn": [UPLOAD_API_FUNCTION_ARN]}},
        )
    ]
    analysis = run(account, root)
    red(
        analysis,
        "github-terraform → events:PutTargets",
        "on the object-created rule's own target (its input and dead-letter queue)",
    )


def test_h1_a_created_role_whose_boundary_allows_targets_is_red(root: Path) -> None:
    """The same route through a role the Terraform role creates: the boundary must not allow it."""
    account = green()
    account.boundary()["Statement"].append(
        allow(["events:PutRule", "events:PutTargets"], [RULES_ARN], "Restored")
    )
    red(
        run(account, root),
        "github-terraform → creates role (boundary + any policy) → events:PutTargets",
        "on a rule on the default bus",
    )


def test_h1_a_deploy_role_that_puts_targets_is_red(root: Path) -> None:
    account = green()
    account.policy("github-deploy")["Statement"].append(
        allow(["events:PutTargets"], [RULES_ARN], "Restored")
    )
    red(run(account, root), "github-deploy → events:PutTargets (target: a queue of its own)")


def test_m2_a_terraform_role_that_updates_the_pipe_reaches_its_records(root: Path) -> None:
    """A Pipe's log configuration sends every record (whole items) where the caller says."""
    account = green()
    (guard_rails,) = [p for p in account.details["Policies"] if p["Arn"] == GUARD_RAILS_ARN]
    document = guard_rails["PolicyVersionList"][0]["Document"]
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DenyPipeChanges"]
    (pipes,) = [s for s in account.policy("github-terraform")["Statement"] if s["Sid"] == "Pipes"]
    pipes["Action"] = ["pipes:CreatePipe", "pipes:UpdatePipe", "pipes:DescribePipe"]
    analysis = run(account, root)
    (message,) = red(
        analysis,
        "github-terraform → pipes:UpdatePipe, pipes:CreatePipe on the Pipe",
        "its log configuration",
    )
    (finding,) = [f for f in analysis.findings if str(f) == message]
    # The Pipe's accepted path (its role, any policy) does not cover the Pipe's own settings.
    assert finding.via is None
    assert finding.target == UPLOAD_DATA
    # ...and a Pipe it may update again runs as the Pipe's role.
    assert any(
        f.steps == ("updates pipe files-stream (runs as files-stream-pipe)",)
        for f, _ in analysis.accepted
    )


# ------------------------------------------------------------ exceptions


def test_an_exception_without_its_control_in_the_repository_is_not_applied(root: Path) -> None:
    exceptions = accepted_paths((("control.tf", "a control nobody wrote"),))
    analysis = run(green(), root, exceptions)
    red(analysis, "github-terraform → updates state machine processing (runs as processing-sfn)")
    assert any(
        "control.tf does not contain 'a control nobody wrote'" in n for n in analysis.unproven
    )
    assert analysis.accepted == []


def test_evidence_in_a_folder_counts_but_not_in_its_hidden_folders(tmp_path: Path) -> None:
    (tmp_path / "bootstrap" / ".terraform").mkdir(parents=True)
    (tmp_path / "bootstrap" / ".terraform" / "modules.json").write_text("audit-trail")
    entry = AcceptedPath(
        "github-terraform",
        None,
        False,
        frozenset({IDENTITY_PROVIDER}),
        frozenset(),
        "an alarm",
        "a reason that is long enough",
        (("bootstrap", "audit-trail"),),
    )
    assert entry.missing_evidence(tmp_path) == ["bootstrap does not contain 'audit-trail'"]
    (tmp_path / "bootstrap" / "audit.tf").write_text('source = "../../modules/audit-trail"')
    assert entry.missing_evidence(tmp_path) == []


def test_a_pull_request_subject_is_only_for_the_plan_role(root: Path) -> None:
    account = green()
    account.role("github-deploy")["AssumeRolePolicyDocument"] = github_trust(
        f"repo:{REPO}:pull_request:job_workflow_ref:{WORKFLOWS}/deploy-environment.yml@{MAIN}"
    )
    red(run(account, root), "github-deploy → trust admits another ref: pull-request runs")


def test_the_exceptions_file_names_a_control_and_its_evidence_for_each_entry() -> None:
    entries = load_exceptions()
    assert entries
    for entry in entries:
        assert entry.control
        assert len(entry.reason) >= 20
        assert entry.evidence
        assert entry.source.startswith("github-")
        assert entry.reaches <= {UPLOAD_DATA, IDENTITY_PROVIDER, AUDIT_TRAIL} | {entry.via}


def test_an_exception_without_a_control_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        "- source: github-deploy\n  via: upload-api\n  reaches: [upload data]\n"
        "  reason: deploying the functions is this role's job\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="control"):
        load_exceptions(path)


def test_no_exception_accepts_admin_or_a_trust(root: Path) -> None:
    everything = AcceptedPath(
        "github-terraform",
        None,
        None,
        frozenset({ADMIN, TRUST}),
        frozenset(),
        "anything",
        "a reason that is long enough",
        (("control.tf", EVIDENCE),),
    )
    assert not everything.covers(
        Finding("github-terraform", TRUST, "trust admits another ref", acceptable=False)
    )
    assert not everything.covers(
        Finding(
            "github-terraform",
            ADMIN,
            "can create a role without the permissions boundary",
            acceptable=False,
        )
    )


# ------------------------------------------------------------ the security model


def test_the_security_model_shows_each_closure(root: Path) -> None:
    analysis = run(green(), root)
    table = security_model(green().details, ENV, analysis)
    rows = {line.split(" | ")[0].strip("| `"): line for line in table.splitlines()[2:]}
    assert "upload data: accepted: control of github-deploy via " in rows["github-deploy"]
    assert "identity provider: accepted: control of github-deploy via None" in rows["github-deploy"]
    assert (
        "upload data: no<br>identity provider: no<br>audit trail: no<br>trust: main only"
        in rows["github-smoke"]
    )
    assert "upload data: yes (by design)" in rows["upload-api"]
    assert "processor (accepted), upload-api (accepted)" in rows["github-deploy"]
    # What the plan role's trust and ListBucket really admit (L5 of the red-team review).
    assert (
        "upload data: object keys only (s3:ListBucket)<br>identity provider: no<br>"
        "audit trail: no<br>trust: main; pull requests of plan.yml (read-only)"
    ) in rows["github-plan"]

    account = green()
    account.policy("github-smoke")["Statement"].append(
        allow(["cognito-idp:AdminSetUserPassword"], [POOL_ARN], "SmokeTestUser")
    )
    analysis = run(account, root)
    table = security_model(account.details, ENV, analysis)
    (smoke,) = [line for line in table.splitlines() if line.startswith("| `github-smoke`")]
    assert "identity provider: **FINDING** (1 path)" in smoke


def test_the_security_model_reads_trust_and_listing_from_the_iam(root: Path) -> None:
    """Nothing is keyed on a role's name: a plan role that writes is not read-only, a
    Terraform role that lists the bucket says so next to its accepted paths."""
    account = green()
    account.policy("github-plan")["Statement"].append(
        allow(["s3:PutObject"], [f"arn:aws:s3:::{PREFIX}-tfstate/*"], "WriteState")
    )
    account.policy("github-terraform")["Statement"].append(
        allow(["s3:ListBucket", "s3:ListBucketVersions"], [BUCKET_ARN], "Buckets")
    )
    analysis = run(account, root)
    table = security_model(account.details, ENV, analysis)
    rows = {line.split(" | ")[0].strip("| `"): line for line in table.splitlines()[2:]}
    assert "trust: main; pull requests of plan.yml |" in rows["github-plan"]
    assert "(read-only)" not in rows["github-plan"]
    assert "; object keys (s3:ListBucket, s3:ListBucketVersions)<br>" in rows["github-terraform"]
    # Without its pull-request statement the plan role is main's alone.
    plan = account.role("github-plan")["AssumeRolePolicyDocument"]
    plan["Statement"] = plan["Statement"][:1]
    table = security_model(account.details, ENV, run(account, root))
    (row,) = [line for line in table.splitlines() if line.startswith("| `github-plan`")]
    assert "trust: main only |" in row


def test_write_model_rewrites_only_the_marked_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{MODEL_START}\nold\n{MODEL_END}\n\nmore\n", encoding="utf-8")
    assert write_model(readme, "| new |")
    assert (
        readme.read_text(encoding="utf-8")
        == f"# Title\n\n{MODEL_START}\n| new |\n{MODEL_END}\n\nmore\n"
    )
    assert not write_model(readme, "| new |")


def test_fixture_documents_are_json(root: Path) -> None:
    """What the analysis reads could come from the API: the fixtures survive a JSON round trip."""
    account = green()
    account.details = json.loads(json.dumps(account.details))
    assert run(account, root).findings == []
