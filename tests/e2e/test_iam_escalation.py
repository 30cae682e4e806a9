"""The IAM that Terraform applied: each CI principal's closure keeps the threat model.

The analysis reads the emulator's authorization details, the bucket and key
policies, the state machines, Pipes and functions, as it would read an AWS
account, and asserts the invariants over what each CI principal can reach
itself and through what it can create or change (gate/iam_analysis.py). Its
findings must be none; the security model in policies/README.md must be the table it
generates. The restore tests bring back finding 1 of the previous review (the
Terraform role could create or re-trust roles under our prefix without a
permissions boundary) and H1 and M2 of the red-team review (a rule and queue
or topic of its own as a sink for upload events; a Pipe whose log
configuration sends every record anywhere) and show the analysis turns red on
each. The guard rails that close H1 allow-list event targets, queues and
topics by name: every one Terraform applied must stay allowed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gate.iam_analysis import (
    ADMIN,
    MODEL_END,
    MODEL_START,
    UPLOAD_DATA,
    Analysis,
    _allowed,
    analyse,
    read_environment,
    report,
    role_documents,
    security_model,
    statements,
)
from ops.environment import PROJECT
from tests.devstack import definitions as d
from tests.e2e.conftest import RunningStack

PREFIX = f"{PROJECT}-{d.ENVIRONMENT}"
REPO_ROOT = d.REPO_ROOT


@pytest.fixture(scope="module")
def applied(stack: RunningStack) -> dict[str, Any]:
    return read_environment(stack.client, PREFIX, d.PARAMETER_PATH)


@pytest.fixture(scope="module")
def analysis(applied: dict[str, Any]) -> Analysis:
    return run(applied)


def run(applied: dict[str, Any], details: dict[str, Any] | None = None) -> Analysis:
    return analyse(
        details or applied["details"],
        applied["env"],
        bucket_policy=applied["bucket_policy"],
        key_policy=applied["key_policy"],
        functions=applied["functions"],
    )


def test_no_ci_principal_reaches_what_the_threat_model_forbids(analysis: Analysis) -> None:
    assert analysis.findings == [], report(analysis)


def test_the_analysis_read_the_applied_environment(
    applied: dict[str, Any], analysis: Analysis
) -> None:
    env = applied["env"]
    # The CI principals, their closures, and the roles Terraform created, boundaries included.
    assert analysis.principals == [
        "github-deploy",
        "github-plan",
        "github-smoke",
        "github-terraform",
    ]
    names = {node.arn.rsplit("/", 1)[-1] for node in analysis.nodes}
    assert {f"{PREFIX}-github-terraform", f"{PREFIX}-upload-api", f"{PREFIX}-processor"} <= names
    bounded = {n.arn.rsplit("/", 1)[-1] for n in analysis.nodes if n.permissions_boundary}
    assert f"{PREFIX}-upload-api" in bounded
    assert env.data_roles == {
        f"{PREFIX}-upload-api",
        f"{PREFIX}-processor",
        f"{PREFIX}-malware-scan",
    }
    assert env.function_roles == {f"{PREFIX}-upload-api", f"{PREFIX}-processor"}
    # What runs as a role: the state machine, the Pipe and the processor function.
    runners = {(r.service, r.name, r.role_arn.rsplit("/", 1)[-1]) for r in env.runners}
    assert {
        ("states", f"{PREFIX}-processing", f"{PREFIX}-processing-sfn"),
        ("pipes", f"{PREFIX}-files-stream", f"{PREFIX}-files-stream-pipe"),
        ("lambda", f"{PREFIX}-processor", f"{PREFIX}-processor"),
    } <= runners
    assert env.files_stream_arn.startswith(f"{env.table_arn}/stream/")
    assert set(env.tables) == {"files", "pending-uploads", "user-usage"}
    assert applied["key_policy"]["Statement"]


def restore_finding_1(details: dict[str, Any]) -> dict[str, Any]:
    """The Terraform role's IAM statement as it was before the fix: no boundary, trust edits."""
    restored = copy.deepcopy(details)
    (role,) = [
        r for r in restored["RoleDetailList"] if r["RoleName"] == f"{PREFIX}-github-terraform"
    ]
    statement = {
        "Sid": "WorkloadRoles",
        "Effect": "Allow",
        "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"],
        "Resource": f"arn:aws:iam::{d.ACCOUNT_ID}:role/{PREFIX}-*",
    }
    role["RolePolicyList"].append(
        {
            "PolicyName": "restored",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        }
    )
    # ...and the guard rails as they were: without the denies the fix added.
    added = {"DenyBoundaryRemoval", "DenyTrustChanges", "DenyDataRoleReplacement"}
    guard_rails = [p for p in restored["Policies"] if p["Arn"].endswith("-guard-rails")]
    assert guard_rails, "the Terraform role's guard rails are managed policies"
    for version in (v for policy in guard_rails for v in policy["PolicyVersionList"]):
        document = version["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") not in added]
        version["Document"] = document
    return restored


def test_restoring_finding_1_turns_the_analysis_red(applied: dict[str, Any]) -> None:
    analysis = run(applied, restore_finding_1(applied["details"]))
    found = {(f.source, f.target, f.how) for f in analysis.findings}
    terraform = "github-terraform"
    assert (terraform, ADMIN, "can create a role without the permissions boundary") in found
    for workload in ("upload-api", "processor", "processing-sfn", "files-stream-pipe"):
        edge = (terraform, workload, f"{workload}: can update the trust document to access")
        assert edge in found, report(analysis)
    # The closure says the same: a role without the boundary can do anything.
    created = "github-terraform → creates role (no boundary + any policy) → any action"
    assert any(str(f).startswith(created) for f in analysis.findings), report(analysis)
    assert json.dumps(applied["details"], default=str).count("restored") == 0  # untouched


def _documents(details: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    """The role's inline and attached managed policy documents, as dicts one may edit in place."""
    (role,) = [r for r in details["RoleDetailList"] if r["RoleName"] == role_name]
    attached = {a["PolicyArn"] for a in role["AttachedManagedPolicies"]}
    out = []
    for holder in role["RolePolicyList"]:
        if isinstance(holder["PolicyDocument"], str):
            holder["PolicyDocument"] = json.loads(holder["PolicyDocument"])
        out.append(holder["PolicyDocument"])
    for policy in (p for p in details["Policies"] if p["Arn"] in attached):
        for version in policy["PolicyVersionList"]:
            if isinstance(version["Document"], str):
                version["Document"] = json.loads(version["Document"])
            out.append(version["Document"])
    return out


def _statement(documents: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    (found,) = [s for d in documents for s in d["Statement"] if s.get("Sid") == sid]
    statement: dict[str, Any] = found
    return statement


def restore_h1(details: dict[str, Any]) -> dict[str, Any]:
    """The Terraform role's events, queue and topic rights as the red-team review found them."""
    restored = copy.deepcopy(details)
    documents = _documents(restored, f"{PREFIX}-github-terraform")
    arn = f"arn:aws:%s:us-east-1:{d.ACCOUNT_ID}:"
    rules = _statement(documents, "EventRules")
    rules["Resource"] = f"{arn % 'events'}rule/{PREFIX}-*"
    rules["Action"] = [*rules["Action"], "events:PutTargets"]
    queues = _statement(documents, "Queues")
    queues["Resource"] = f"{arn % 'sqs'}{PREFIX}-*"
    queues["Action"] = [*queues["Action"], "sqs:SetQueueAttributes"]
    _statement(documents, "Topics")["Resource"] = f"{arn % 'sns'}{PREFIX}-*"
    deny = _statement(documents, "DenyEventTargetsAndQueuePolicies")
    deny["Action"] = "events:PutTargets"
    deny["Sid"] = "DenyTargetsInOtherAccounts"
    deny["Condition"] = {
        "ForAnyValue:ArnNotLike": {"events:TargetArn": f"arn:aws:*:*:{d.ACCOUNT_ID}:*"}
    }
    return restored


def test_restoring_h1_turns_the_analysis_red(applied: dict[str, Any]) -> None:
    analysis = run(applied, restore_h1(applied["details"]))
    routes = [
        f
        for f in analysis.findings
        if str(f).startswith("github-terraform → events:PutTargets (target: a queue of its own)")
    ]
    assert {f.target for f in routes} == {UPLOAD_DATA}, report(analysis)
    assert any("on a rule on the default bus (object-created events" in f.how for f in routes)
    assert any(f"on a rule on bus {PREFIX}-file-events" in f.how for f in routes)


def restore_m2(details: dict[str, Any]) -> dict[str, Any]:
    """The Terraform role may create and update the Pipe again."""
    restored = copy.deepcopy(details)
    documents = _documents(restored, f"{PREFIX}-github-terraform")
    pipes = _statement(documents, "Pipes")
    pipes["Action"] = [*pipes["Action"], "pipes:CreatePipe", "pipes:UpdatePipe"]
    for document in documents:
        document["Statement"] = [
            s for s in document["Statement"] if s.get("Sid") != "DenyPipeChanges"
        ]
    return restored


def test_restoring_m2_turns_the_analysis_red(applied: dict[str, Any]) -> None:
    analysis = run(applied, restore_m2(applied["details"]))
    logged = [f for f in analysis.findings if "its log configuration" in f.how]
    assert [str(f) for f in logged] == [
        "github-terraform → pipes:UpdatePipe, pipes:CreatePipe on the Pipe (its log "
        "configuration: every record, whole items, to any destination)"
    ], report(analysis)


def test_the_terraform_role_may_apply_every_target_queue_and_topic(
    stack: RunningStack, applied: dict[str, Any], analysis: Analysis
) -> None:
    """What the H1 guard rails allow by name is what Terraform applied, or an apply on AWS fails.

    Rule targets and queue policies are applied by a person: refused to this role."""
    (terraform,) = [n for n in analysis.nodes if n.arn.endswith(f"/{PREFIX}-github-terraform")]
    tagged: dict[str, str | list[str]] = {"aws:RequestTag/environment": d.ENVIRONMENT}
    events = stack.client("events")
    applied_targets = [
        (rule["Arn"], target["Arn"])
        for bus in events.list_event_buses()["EventBuses"]
        for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]
        if rule["Name"].startswith(f"{PREFIX}-")
        for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])[
            "Targets"
        ]
    ]
    assert applied_targets, "the object-created rule and its target"
    for rule_arn, target_arn in applied_targets:
        context: dict[str, str | list[str]] = {**tagged, "events:TargetArn": [target_arn]}
        assert _allowed(terraform, "events:PutRule", rule_arn, context), (rule_arn, target_arn)
        assert not _allowed(terraform, "events:PutTargets", rule_arn, context), rule_arn
    region_account = f"us-east-1:{d.ACCOUNT_ID}"
    # Terraform's own, not the queues and topics other tests subscribe with.
    queues = [
        f"arn:aws:sqs:{region_account}:{name}"
        for url in stack.client("sqs").list_queues().get("QueueUrls", [])
        if (name := url.rsplit("/", 1)[-1]).startswith(f"{PREFIX}-")
    ]
    topics = [
        t["TopicArn"]
        for t in stack.client("sns").list_topics()["Topics"]
        if t["TopicArn"].rsplit(":", 1)[-1].startswith(f"{PREFIX}-")
    ]
    assert queues
    assert topics
    for queue in queues:
        for action in ("sqs:CreateQueue", "sqs:TagQueue"):
            assert _allowed(terraform, action, queue, tagged), (action, queue)
        assert not _allowed(terraform, "sqs:SetQueueAttributes", queue, tagged), queue
    for topic in topics:
        for action in ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:TagResource"):
            assert _allowed(terraform, action, topic, tagged), (action, topic)
        assert _allowed(terraform, "sns:Subscribe", topic, {"sns:Protocol": "email"})
        assert not _allowed(terraform, "sns:Subscribe", topic, {"sns:Protocol": "https"})


def test_the_readme_security_model_is_the_applied_iam(
    applied: dict[str, Any], analysis: Analysis
) -> None:
    generated = security_model(applied["details"], applied["env"], analysis)
    readme = (REPO_ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    start = readme.index(MODEL_START) + len(MODEL_START)
    written = readme[start : readme.index(MODEL_END)].strip()
    assert written == generated, (
        "policies/README.md's security model is stale: make dev, then make security-model"
    )


# For each resource type Terraform applied: the call that creates it, which
# the Terraform role must be allowed, and the call that refreshes it, which
# the plan role must be allowed; or an apply or plan on AWS fails where moto
# (which does not enforce IAM) succeeds. None: a person applies that type
# (environments/README.md, "Deploying to AWS", step 3), and the guard rails deny it.
ACTIONS: dict[str, tuple[str | None, str]] = {
    "aws_cloudwatch_dashboard": ("cloudwatch:PutDashboard", "cloudwatch:GetDashboard"),
    "aws_cloudwatch_event_bus": ("events:CreateEventBus", "events:DescribeEventBus"),
    "aws_cloudwatch_event_rule": ("events:PutRule", "events:DescribeRule"),
    # Rule targets and queue policies are applied by a person (a target's
    # dead-letter queue is no IAM condition key); CI refreshes them.
    "aws_cloudwatch_event_target": (None, "events:ListTargetsByRule"),
    "aws_cloudwatch_log_group": ("logs:CreateLogGroup", "logs:DescribeLogGroups"),
    "aws_cloudwatch_log_metric_filter": ("logs:PutMetricFilter", "logs:DescribeMetricFilters"),
    "aws_cloudwatch_metric_alarm": ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"),
    "aws_cognito_user_pool": ("cognito-idp:CreateUserPool", "cognito-idp:DescribeUserPool"),
    "aws_cognito_user_pool_client": (
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:DescribeUserPoolClient",
    ),
    "aws_dynamodb_table": ("dynamodb:CreateTable", "dynamodb:DescribeTable"),
    "aws_ecr_lifecycle_policy": ("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy"),
    "aws_ecr_repository": ("ecr:CreateRepository", "ecr:DescribeRepositories"),
    "aws_ecr_repository_policy": ("ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy"),
    "aws_guardduty_malware_protection_plan": (
        "guardduty:CreateMalwareProtectionPlan",
        "guardduty:GetMalwareProtectionPlan",
    ),
    # The permissions boundary and the guard rails.
    "aws_iam_policy": (None, "iam:GetPolicy"),
    "aws_iam_role": ("iam:CreateRole", "iam:GetRole"),
    "aws_iam_role_policy": ("iam:PutRolePolicy", "iam:GetRolePolicy"),
    "aws_iam_role_policy_attachment": ("iam:AttachRolePolicy", "iam:ListAttachedRolePolicies"),
    "aws_kms_alias": ("kms:CreateAlias", "kms:ListAliases"),
    "aws_kms_key": ("kms:CreateKey", "kms:DescribeKey"),
    # Its log configuration could send every record anywhere (M2 of the red-team review).
    "aws_pipes_pipe": (None, "pipes:DescribePipe"),
    "aws_s3_bucket": ("s3:CreateBucket", "s3:ListBucket"),
    "aws_s3_bucket_lifecycle_configuration": (
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    "aws_s3_bucket_logging": ("s3:PutBucketLogging", "s3:GetBucketLogging"),
    "aws_s3_bucket_notification": ("s3:PutBucketNotification", "s3:GetBucketNotification"),
    "aws_s3_bucket_ownership_controls": (
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    "aws_s3_bucket_policy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy"),
    "aws_s3_bucket_public_access_block": (
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ),
    "aws_s3_bucket_versioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    # The smoke user's secret: created and changed by a person (the guard rails
    # deny the Terraform role its container and policy), refreshed by CI.
    "aws_secretsmanager_secret": (None, "secretsmanager:DescribeSecret"),
    "aws_secretsmanager_secret_policy": (None, "secretsmanager:GetResourcePolicy"),
    "aws_sfn_state_machine": ("states:CreateStateMachine", "states:DescribeStateMachine"),
    "aws_sns_topic": ("sns:CreateTopic", "sns:GetTopicAttributes"),
    "aws_sns_topic_policy": ("sns:SetTopicAttributes", "sns:GetTopicAttributes"),
    "aws_sqs_queue": ("sqs:CreateQueue", "sqs:GetQueueAttributes"),
    "aws_sqs_queue_policy": (None, "sqs:GetQueueAttributes"),
    "aws_ssm_parameter": ("ssm:PutParameter", "ssm:GetParameter"),
}


def allowed_actions(details: dict[str, Any], role_name: str) -> set[str]:
    """Every action an Allow statement of the role's own or attached policies names."""
    (role,) = [r for r in details["RoleDetailList"] if r["RoleName"] == role_name]
    actions: set[str] = set()
    for statement in (s for doc in role_documents(details, role) for s in statements(doc)):
        if statement["Effect"] == "Allow":
            named = statement.get("Action", [])
            actions.update([named] if isinstance(named, str) else named)
    return actions


def applied_types(stack: RunningStack) -> set[str]:
    state = json.loads(stack.child.terraform_state_file.read_text(encoding="utf-8"))
    types = {r["type"] for r in state["resources"] if r["mode"] == "managed"}
    unnamed = types - ACTIONS.keys()
    assert not unnamed, f"name the calls that create and refresh {unnamed} in ACTIONS"
    return types


def test_the_terraform_role_may_create_every_resource_type_applied(
    stack: RunningStack, applied: dict[str, Any]
) -> None:
    allowed = allowed_actions(applied["details"], f"{PREFIX}-github-terraform")
    needed = {kind: ACTIONS[kind][0] for kind in applied_types(stack)}
    missing = {kind: action for kind, action in needed.items() if action and action not in allowed}
    assert missing == {}


def test_the_plan_role_may_refresh_every_resource_type_applied(
    stack: RunningStack, applied: dict[str, Any]
) -> None:
    allowed = allowed_actions(applied["details"], f"{PREFIX}-github-plan")
    needed = {kind: ACTIONS[kind][1] for kind in applied_types(stack)}
    assert {kind: action for kind, action in needed.items() if action not in allowed} == {}
