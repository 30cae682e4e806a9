"""The IAM that Terraform applied: each CI principal's closure keeps the threat model.

The analysis reads the emulator's authorization details, the bucket and key
policies, the state machines, Pipes and functions, as it would read an AWS
account, and asserts the invariants over what each CI principal can reach
itself and through what it can create or change (gate/iam_analysis.py). Its
findings must be none; the security model in policies/README.md must be the table it
generates. The restore tests bring back finding 1 of the previous review (the
Terraform role could create or re-trust roles under our prefix without a
permissions boundary), H1 and M2 of the red-team review (a rule and queue
or topic of its own as a sink for upload events; a Pipe whose log
configuration sends every record anywhere) and the web app's two known paths
(the Terraform role writing the web bucket's policy, the deploy role writing
config.json) and show the analysis turns red on each. The guard rails that
close H1 allow-list event targets, queues and topics by name: every one
Terraform applied must stay allowed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from gate.iam_analysis import (
    ADMIN,
    IDENTITY_PROVIDER,
    MODEL_END,
    MODEL_START,
    UPLOAD_DATA,
    WEB_CONFIG,
    WEB_FILES,
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


def test_the_analysis_read_the_web_app_terraform_applied(
    stack: RunningStack, applied: dict[str, Any], analysis: Analysis
) -> None:
    """The web bucket, its distribution and response-headers policy, and the deploy role's path."""
    web = applied["env"].web
    assert web is not None, "the local stack applies the web app"
    state = json.loads(stack.child.terraform_state_file.read_text(encoding="utf-8"))
    (distribution,) = _attributes(state, "aws_cloudfront_distribution")
    (headers,) = _attributes(state, "aws_cloudfront_response_headers_policy")
    assert web.bucket == f"{PREFIX}-web-{d.ACCOUNT_ID}"
    assert web.distribution_arns == (distribution["arn"],)
    assert web.headers_policy_arns == (
        f"arn:aws:cloudfront::{d.ACCOUNT_ID}:response-headers-policy/{headers['id']}",
    )
    # Deploying the app's files is the deploy role's job: accepted, on those files only.
    deployed = {
        f.how for f, _ in analysis.accepted if f.source == "github-deploy" and f.label == WEB_FILES
    }
    assert deployed == {f"s3:PutObject, s3:DeleteObject on {WEB_FILES}"}, report(analysis)


def _attributes(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        instance["attributes"]
        for resource in state["resources"]
        if resource["mode"] == "managed" and resource["type"] == kind
        for instance in resource["instances"]
    ]


def restore_web_bucket_policy(details: dict[str, Any]) -> dict[str, Any]:
    """The Terraform role's guard rails without the web bucket: its policy is Terraform's again."""
    restored = copy.deepcopy(details)
    documents = _documents(restored, f"{PREFIX}-github-terraform")
    deny = _statement(documents, "DenyDataAndItsProtection")
    deny["Resource"] = [r for r in deny["Resource"] if f"{PREFIX}-web-" not in r]
    return restored


def test_restoring_the_web_bucket_policy_to_terraform_turns_the_analysis_red(
    applied: dict[str, Any],
) -> None:
    # Its policy could let any principal write the code every signed-in user runs.
    analysis = run(applied, restore_web_bucket_policy(applied["details"]))
    red = [str(f) for f in analysis.findings]
    assert red == [
        "github-terraform → s3:PutBucketPolicy, s3:DeleteBucketPolicy on the web bucket's "
        "policy (who may write the app)"
    ], report(analysis)


def restore_web_config_to_the_deploy_role(details: dict[str, Any]) -> dict[str, Any]:
    """The deploy role without DenyWebConfig: it would write config.json with the app's files."""
    restored = copy.deepcopy(details)
    for document in _documents(restored, f"{PREFIX}-github-deploy"):
        document["Statement"] = [
            s for s in document["Statement"] if s.get("Sid") != "DenyWebConfig"
        ]
    return restored


def test_restoring_config_json_to_the_deploy_role_turns_the_analysis_red(
    applied: dict[str, Any],
) -> None:
    # config.json names the Cognito endpoint and app client users sign in with.
    analysis = run(applied, restore_web_config_to_the_deploy_role(applied["details"]))
    red = [(f.source, f.target, f.how) for f in analysis.findings]
    assert red == [("github-deploy", IDENTITY_PROVIDER, f"s3:PutObject on {WEB_CONFIG}")], report(
        analysis
    )


def test_the_deploy_role_writes_no_config_json_under_any_prefix(analysis: Analysis) -> None:
    """A copy of the app under another prefix would read the config.json beside it: the
    deploy role may write the app's files anywhere in the bucket, no config.json."""
    (deploy,) = [n for n in analysis.nodes if n.arn.endswith(f"/{PREFIX}-github-deploy")]
    bucket = f"arn:aws:s3:::{PREFIX}-web-{d.ACCOUNT_ID}"
    assert _allowed(deploy, "s3:PutObject", f"{bucket}/evil/app.js", {})
    refused = [f"{bucket}/config.json", f"{bucket}/evil/config.json", f"{bucket}/a/b/config.json"]
    assert [key for key in refused if _allowed(deploy, "s3:PutObject", key, {})] == []


def test_deploying_the_web_app_accepts_no_write_of_the_upload_bucket(
    applied: dict[str, Any],
) -> None:
    # The deploy role's accepted path names the web app's files: the same
    # actions on users' objects stay a finding.
    widened = copy.deepcopy(applied["details"])
    document = _documents(widened, f"{PREFIX}-github-deploy")[0]
    document["Statement"].append(
        {
            "Sid": "UploadWrites",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{applied['env'].bucket}/*",
        }
    )
    analysis = run(applied, widened)
    red = [str(f) for f in analysis.findings]
    assert red == ["github-deploy → s3:PutObject, s3:DeleteObject on the upload bucket"], report(
        analysis
    )


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
# (environments/README.md, "Deploying to AWS", step 3), and the Terraform role
# is refused it (REFUSED, below).
ACTIONS: dict[str, tuple[str | None, str]] = {
    # The web app (modules/web): what code and which identity provider users'
    # browsers trust, applied by a person (environments/README.md, "The web
    # app"); no CI role has a CloudFront right but the plan role's reads.
    "aws_cloudfront_distribution": (None, "cloudfront:GetDistribution"),
    "aws_cloudfront_origin_access_control": (None, "cloudfront:GetOriginAccessControl"),
    "aws_cloudfront_response_headers_policy": (None, "cloudfront:GetResponseHeadersPolicy"),
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
    # The upload bucket's CORS, the web app's origin: no access control (S3
    # authorises by signature and policy), so CI applies it.
    "aws_s3_bucket_cors_configuration": ("s3:PutBucketCORS", "s3:GetBucketCORS"),
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
    # The web app's config.json (a person applies it): refresh reads its
    # metadata and tags (HeadObject), on that object only.
    "aws_s3_object": (None, "s3:GetObjectTagging"),
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


# What the Terraform role must be refused on each resource of a type a person
# applies (None in ACTIONS): the call that creates or changes it, and the
# resource's ARN from its Terraform state.
ARN = f"arn:aws:%s:us-east-1:{d.ACCOUNT_ID}:%s"
CLOUDFRONT = f"arn:aws:cloudfront::{d.ACCOUNT_ID}:%s"


def _rule_arn(target: dict[str, Any]) -> str:
    bus, rule = target["event_bus_name"], target["rule"]
    return ARN % ("events", f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}")


# What would let whoever holds a key's administration open it to someone else, or
# destroy what it encrypts.
KEY_CHANGES = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey")

REFUSED: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "aws_cloudfront_distribution": ("cloudfront:UpdateDistribution", lambda a: a["arn"]),
    "aws_cloudfront_origin_access_control": (
        "cloudfront:UpdateOriginAccessControl",
        lambda a: CLOUDFRONT % f"origin-access-control/{a['id']}",
    ),
    "aws_cloudfront_response_headers_policy": (
        "cloudfront:UpdateResponseHeadersPolicy",
        lambda a: CLOUDFRONT % f"response-headers-policy/{a['id']}",
    ),
    "aws_cloudwatch_event_target": ("events:PutTargets", _rule_arn),
    "aws_iam_policy": ("iam:CreatePolicyVersion", lambda a: a["arn"]),
    "aws_pipes_pipe": ("pipes:UpdatePipe", lambda a: a["arn"]),
    "aws_s3_object": ("s3:PutObject", lambda a: f"arn:aws:s3:::{a['bucket']}/{a['key']}"),
    "aws_secretsmanager_secret": ("secretsmanager:CreateSecret", lambda a: a["arn"]),
    "aws_secretsmanager_secret_policy": (
        "secretsmanager:PutResourcePolicy",
        lambda a: a["secret_arn"],
    ),
    "aws_sqs_queue_policy": (
        "sqs:SetQueueAttributes",
        lambda a: ARN % ("sqs", a["queue_url"].rsplit("/", 1)[-1]),
    ),
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


def test_the_terraform_role_is_refused_what_a_person_applies(
    stack: RunningStack, analysis: Analysis
) -> None:
    """Each resource of a type a person applies, the web bucket's settings and policy, and
    the web key's policy and life (who decrypts the app's files)."""
    assert REFUSED.keys() == {kind for kind, (create, _) in ACTIONS.items() if create is None}
    (terraform,) = [n for n in analysis.nodes if n.arn.endswith(f"/{PREFIX}-github-terraform")]
    tagged: dict[str, str | list[str]] = {"aws:ResourceTag/environment": d.ENVIRONMENT}
    state = json.loads(stack.child.terraform_state_file.read_text(encoding="utf-8"))
    checked: set[str] = set()
    allowed: list[tuple[str, str, str]] = []
    for resource in (r for r in state["resources"] if r["mode"] == "managed"):
        kind, module = resource["type"], resource.get("module", "")
        for attributes in (i["attributes"] for i in resource["instances"]):
            if kind in REFUSED:
                tried = [(REFUSED[kind][0], REFUSED[kind][1](attributes))]
            elif module.endswith(".module.web[0]") and kind.startswith("aws_s3_bucket_"):
                # The web bucket's policy and settings: the guard rails protect
                # it as they protect the data (who may write the app's code).
                tried = [(str(ACTIONS[kind][0]), f"arn:aws:s3:::{attributes['bucket']}")]
            elif module.endswith(".module.web[0]") and kind == "aws_kms_key":
                tried = [(action, attributes["arn"]) for action in KEY_CHANGES]
            else:
                continue
            checked.add(kind)
            allowed += [(kind, a, arn) for a, arn in tried if _allowed(terraform, a, arn, tagged)]
    assert allowed == []
    assert {
        "aws_cloudfront_distribution", "aws_s3_object", "aws_s3_bucket_policy", "aws_kms_key"
    } <= checked  # fmt: skip
    assert checked >= REFUSED.keys() & applied_types(stack)
