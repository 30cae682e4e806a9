"""CKV_SUP_3 and CKV_SUP_4: least-privilege identity policies.

CKV_SUP_3: no Allow statement uses a wildcard in an action (`*`, `s3:*`,
`s3:Get*`) or NotAction. Built-ins only reject full admin (`*:*`) and a few
service-wide wildcards; we list every action so a review sees the grant.
CKV_SUP_4: no Allow statement grants a data-plane action (object, item,
message, key-use, invoke) on `*` or NotResource; those must name ARNs.
Control-plane actions AWS only offers on `*` (xray:PutTraceSegments,
ecr:GetAuthorizationToken, logs:*LogDelivery) stay allowed there.

Identity policies only: resource policies (statements with a Principal, such
as KMS key policies whose root statement is AWS's documented default) are
governed by their own rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from sup_common import (
    Statement,
    actions,
    any_action_matches,
    as_list,
    document_statements,
    has_principal,
    has_wildcard,
    is_allow,
    is_reference,
    is_set,
    parse_policy,
    policy_statements,
    resources,
    unwrap,
)

IDENTITY_POLICY_RESOURCES = [
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_role",
]

# Concrete data-plane actions; a statement action (wildcards allowed) that
# matches any of them is data-plane.
DATA_PLANE_ACTIONS = frozenset(
    {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:RestoreObject",
        "s3:AbortMultipartUpload",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListMultipartUploadParts",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
        "dynamodb:TransactGetItems",
        "dynamodb:TransactWriteItems",
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:GenerateMac",
        "kms:VerifyMac",
        "kms:Sign",
        "kms:Verify",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:PurgeQueue",
        "sns:Publish",
        "lambda:InvokeFunction",
        "lambda:InvokeFunctionUrl",
        "lambda:InvokeAsync",
        "states:StartExecution",
        "states:StartSyncExecution",
        "states:StopExecution",
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "logs:PutLogEvents",
        "logs:CreateLogStream",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:PutImage",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:PutParameter",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:PutRecord",
        "kinesis:PutRecords",
        "events:PutEvents",
    }
)


def resource_identity_statements(
    entity_type: str, conf: Mapping[str, Any]
) -> list[Statement] | None:
    """Identity-policy statements of an IAM resource; None if a policy is unreadable.

    References (a data.aws_iam_policy_document's json) are skipped: the
    document is checked on its own. Anything else we cannot read fails closed.
    """
    if entity_type == "aws_iam_role":
        raw = [
            inline.get("policy")
            for inline in as_list(conf.get("inline_policy"))
            if isinstance(inline, dict)
        ]
    else:
        raw = [conf.get("policy")]
    statements: list[Statement] = []
    for value in raw:
        policy = parse_policy(value)
        if policy is not None:
            statements.extend(policy_statements(policy))
        elif is_set(value) and not is_reference(unwrap(value)):
            return None
    return statements


def document_identity_statements(conf: Mapping[str, Any]) -> list[Statement]:
    return [s for s in document_statements(conf) if not has_principal(s)]


def wildcard_action(statement: Statement) -> bool:
    return is_allow(statement) and (
        "NotAction" in statement or any(has_wildcard(a) for a in actions(statement))
    )


def _wildcard_resource(arn: str) -> bool:
    # "*" or an ARN whose resource part is only "*" (arn:aws:s3:::*).
    return arn == "*" or (arn.startswith("arn:") and arn.split(":", 5)[-1] == "*")


def data_plane_on_any_resource(statement: Statement) -> bool:
    if not is_allow(statement):
        return False
    broad = "NotResource" in statement or any(_wildcard_resource(r) for r in resources(statement))
    return broad and any_action_matches(actions(statement), DATA_PLANE_ACTIONS)


Predicate = Callable[[Statement], bool]


def _result(statements: list[Statement] | None, failing: Predicate) -> CheckResult:
    if statements is None:
        return CheckResult.FAILED
    if not statements:
        return CheckResult.UNKNOWN
    return CheckResult.FAILED if any(failing(s) for s in statements) else CheckResult.PASSED


class IdentityPolicyCheck(BaseResourceCheck):
    def __init__(self, check_id: str, name: str, failing: Predicate) -> None:
        self.failing = failing
        super().__init__(
            name=name,
            id=check_id,
            categories=[CheckCategories.IAM],
            supported_resources=IDENTITY_POLICY_RESOURCES,
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return _result(resource_identity_statements(self.entity_type, conf), self.failing)


class IdentityPolicyDocumentCheck(BaseDataCheck):
    def __init__(self, check_id: str, name: str, failing: Predicate) -> None:
        self.failing = failing
        super().__init__(
            name=name,
            id=check_id,
            categories=[CheckCategories.IAM],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return _result(document_identity_statements(conf), self.failing)


NO_WILDCARD = "Ensure no IAM identity policy statement allows wildcard actions or NotAction"
DATA_PLANE = "Ensure no IAM identity policy grants data-plane actions on '*' resources"

# The same id in the resource and the data registry: one rule, both shapes.
no_wildcard_actions = IdentityPolicyCheck("CKV_SUP_3", NO_WILDCARD, wildcard_action)
no_wildcard_actions_document = IdentityPolicyDocumentCheck(
    "CKV_SUP_3", NO_WILDCARD, wildcard_action
)
no_data_plane_on_any_resource = IdentityPolicyCheck(
    "CKV_SUP_4", DATA_PLANE, data_plane_on_any_resource
)
no_data_plane_on_any_resource_document = IdentityPolicyDocumentCheck(
    "CKV_SUP_4", DATA_PLANE, data_plane_on_any_resource
)
