"""Closure analysis of the IAM that Terraform applied: what each CI principal can reach.

    python -m gate.iam_analysis --local-stack [--readme README.md]
    python -m gate.iam_analysis --endpoint http://127.0.0.1:5000

Reads the account's authorization details (GetAccountAuthorizationDetails),
the upload bucket's and the environment key's resource policies, the state
machines, Pipes and functions (and the role each runs as), the log groups and
trails, the web app's distributions, from the emulator the local stack
applied Terraform into (or from AWS, with credentials and no --endpoint).
Every question is answered by principalmapper's IAM policy engine
(local_check_authorization_full), with the resource's own policy where it has
one.

The threat model: no CI principal, nor anything it can create or change, can
read, alter or delete users' objects or items, change which identity provider
the API trusts, or silence the audit trail. So for each CI principal (a role
GitHub's OIDC provider may assume) the analysis builds its closure: what it can
do itself, and through

- any role it may create: a role under our prefix with the permissions
  boundary its iam:CreateRole condition requires, any inline policy (Allow *:*)
  and any trust;
- any existing role whose policy it may change (PutRolePolicy,
  AttachRolePolicy, CreatePolicyVersion of an attached policy): that role with
  any policy inside its boundary (a role that reads upload data by design is
  judged on what it could do beyond its own policy);
- any service whose configuration it may update and which runs as a role:
  state machines, Pipes and functions (UpdateStateMachine, CreatePipe,
  UpdateFunctionCode, ... and iam:PassRole to the service);
- principalmapper's edges (sts:AssumeRole, trust rewrites);

and, in turn, what each of those can reach. Each finding names its path, e.g.
"github-terraform → creates role (boundary + any policy) → s3:DeleteObjectVersion
on the upload bucket". Over that closure it asserts the
invariants (upload data, identity provider, audit trail; see
invariant_checks), counting the SSM parameters the workloads read as
configuration: overwriting one redirects where they read and write or which
identity provider the API trusts. Upload data also leaves by routing: a rule
whose target the closure chooses (a queue or topic under our prefix) receives
every object-created event (owner, file id, name) or file outcome, and a Pipe
the closure may create or update can log every record it reads to a
destination of its choosing. Whoever writes the web app's files (or the
policy of their bucket, or the distribution that serves them) runs code in
every signed-in user's browser, as that user: upload data too; its
config.json and its CSP decide where the browsers sign in: the identity
provider. The GitHub trusts themselves must admit only main's own runs of one
workflow file per role (trust_findings).

The role-to-role checks stay: principalmapper's graph and the checks it misses
because it asks about the resource "*" (creating a role without the
boundary, taking a boundary off or rewriting it, creating a function under our
names that runs as a role). Any path from one of our roles to admin or to
another role is a finding too.

A finding is accepted only by an entry of policies/gate/iam-exceptions.yaml
that names the compensating control, where it lives in this repository (each
`evidence` file must contain its text, or the entry is not applied) and the
reason; no entry applies while the principal's trust admits another ref, and a
rewrite of an item's location is never accepted but through the two functions.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import copy
import fnmatch
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import boto3
import yaml

from gate.tools import REPO_ROOT
from ops.environment import LOCAL_CREDENTIAL, local_client, published_parameters, read_local_stack
from upload_contract import HASH_KEY, ITEM_ATTRIBUTES, OWNER_INDEX, SSM_PARAMETERS, ScanVerdict

# principalmapper 1.1.5 imports collections.Mapping & co., which moved to
# collections.abc in Python 3.10.
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Edge, Node, Policy  # noqa: E402
from principalmapper.graphing import gathering, iam_edges, lambda_edges, sts_edges  # noqa: E402
from principalmapper.querying import query_interface  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    ResourcePolicyEvalResult,
    resource_policy_authorization,
)

EXCEPTIONS_FILE = Path(__file__).with_name("iam-exceptions.yaml")
PROBE = "escalation-probe"  # a name under our prefix that nothing creates

# What a closure may reach (the threat model's three invariants), and the
# other targets of a finding: a GitHub trust, admin, or a role's name.
UPLOAD_DATA: Final = "upload data"
IDENTITY_PROVIDER: Final = "identity provider"
AUDIT_TRAIL: Final = "audit trail"
REACHES: Final = (UPLOAD_DATA, IDENTITY_PROVIDER, AUDIT_TRAIL)
TRUST: Final = "trust"
ADMIN: Final = "admin"
NEW_ROLE: Final = "new role"

GITHUB_OIDC: Final = "token.actions.githubusercontent.com"
TRUSTED_REF: Final = "refs/heads/main"
# The plan role only reads; where plan_on_pull_requests is set (dev) it also
# trusts the plan workflow's pull-request runs. Every other CI role: main only.
PLAN_ROLE: Final = "github-plan"
# The smoke role must not be assumable by another CI role's job (finding 4 of the review).
SMOKE_ROLE: Final = "github-smoke"
ADMINISTRATOR_ACCESS: Final = "arn:aws:iam::aws:policy/AdministratorAccess"
ALLOW_ALL: Final = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

UPLOAD_PREFIX: Final = "uploads/"
# What MarkFailed writes (and the key it names): all the state machine may set.
STATUS_ATTRIBUTES: Final = (HASH_KEY, "status", "failure_reason", "processed_at", "updated_at")
# The attributes the API treats as where an item's bytes are.
LOCATION_ATTRIBUTES: Final = (HASH_KEY, "s3_key")

# Parameters the workloads read as configuration (services/template.yaml
# resolves them at each deploy): contract key -> (what it reaches, what
# overwriting or deleting it changes).
CONFIGURATION_PARAMETERS: Final = {
    "cognito_issuer_url": (IDENTITY_PROVIDER, "changes which identity provider the API trusts"),
    "cognito_user_pool_id": (IDENTITY_PROVIDER, "changes which identity provider the API trusts"),
    "cognito_app_client_id": (IDENTITY_PROVIDER, "changes which identity provider the API trusts"),
    "upload_bucket_name": (UPLOAD_DATA, "redirects where the workloads read and write"),
    "files_table_name": (UPLOAD_DATA, "redirects where the workloads read and write"),
    "pending_uploads_table_name": (UPLOAD_DATA, "redirects where the workloads read and write"),
    "user_usage_table_name": (UPLOAD_DATA, "redirects where the workloads read and write"),
    "kms_key_arn": (UPLOAD_DATA, "redirects where the workloads read and write"),
    "upload_api_role_arn": (UPLOAD_DATA, "changes which role the functions run as"),
    "processor_role_arn": (UPLOAD_DATA, "changes which role the functions run as"),
    "api_access_log_group_arn": (AUDIT_TRAIL, "redirects the API's access log"),
    "alarm_topic_arn": (AUDIT_TRAIL, "redirects the alarms"),
}

# Pool-wide Cognito calls that act on any user: enough to take one over.
COGNITO_ADMIN_ACTIONS: Final = tuple(
    f"cognito-idp:Admin{name}"
    for name in (
        "AddUserToGroup",
        "ConfirmSignUp",
        "CreateUser",
        "DeleteUser",
        "DeleteUserAttributes",
        "DisableProviderForUser",
        "DisableUser",
        "EnableUser",
        "ForgetDevice",
        "GetDevice",
        "GetUser",
        "InitiateAuth",
        "LinkProviderForUser",
        "ListDevices",
        "ListGroupsForUser",
        "ListUserAuthEvents",
        "RemoveUserFromGroup",
        "ResetUserPassword",
        "RespondToAuthChallenge",
        "SetUserMFAPreference",
        "SetUserPassword",
        "SetUserSettings",
        "UpdateAuthEventFeedback",
        "UpdateDeviceStatus",
        "UpdateUserAttributes",
        "UserGlobalSignOut",
    )
)


@dataclass(frozen=True)
class Runner:
    """A resource that runs as a role: a state machine, a Pipe or a function."""

    service: str  # a key of SERVICES
    name: str
    arn: str
    role_arn: str


@dataclass(frozen=True)
class WebApp:
    """The web app's hosting (modules/web): what decides the code users' browsers run."""

    bucket: str  # <prefix>-web-<account>: the app's files and config.json
    distribution_arns: tuple[str, ...] = ()  # the distributions serving the bucket
    headers_policy_arns: tuple[str, ...] = ()  # their response-headers policies (the CSP)


@dataclass(frozen=True)
class Environment:
    """What the analysis needs to know about one applied environment."""

    account_id: str
    project: str
    environment: str  # also the value of every resource's environment tag
    bucket: str
    tables: Mapping[str, str]  # label (files, pending-uploads, user-usage) -> table ARN
    key_arn: str
    user_pool_arn: str
    data_roles: frozenset[str]  # role names that read upload data by design
    function_roles: frozenset[str]  # the two functions' roles: trusted with users' data
    region: str = "us-east-1"
    runners: tuple[Runner, ...] = ()
    files_stream_arn: str = ""  # the files table's stream (default: any stream of the table)
    log_groups: tuple[str, ...] = ()  # ARNs (without ":*")
    trails: tuple[str, ...] = ()  # ARNs
    event_buses: tuple[str, ...] = ()  # names (default: <prefix>-file-events)
    web: WebApp | None = None  # None: no web app yet (web_api_url unset)

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def buses(self) -> tuple[str, ...]:
        return self.event_buses or (f"{self.prefix}-file-events",)

    @property
    def parameter_path(self) -> str:
        return f"/{self.project}/{self.environment}/"

    @property
    def table_arn(self) -> str:
        return self.tables["files"]

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{name}"

    def short(self, role: str) -> str:
        """A role's name without the arn and the <project>-<env>- prefix."""
        name = role.rsplit("/", 1)[-1]
        return name.removeprefix(f"{self.prefix}-")


@dataclass(frozen=True)
class Finding:
    """One path: `source` reaches `target` (a REACHES value, TRUST, ADMIN or a role)."""

    source: str  # short role name
    target: str
    how: str  # the last step: "<action> on <what>", or an edge's reason
    steps: tuple[str, ...] = ()  # how the source got the rights `how` uses
    via: str | None = None  # whose rights: a short role name, NEW_ROLE, None for the source's own
    widened: bool = False  # via with any policy (inside its boundary, if any)
    actions: tuple[str, ...] = ()  # the IAM actions `how` names
    acceptable: bool = True  # False: no exception may accept it
    label: str = ""  # what `how` acts on (a check's label)

    def __str__(self) -> str:
        return " → ".join((self.source, *self.steps, self.how))


@dataclass(frozen=True)
class AcceptedPath:
    """An entry of iam-exceptions.yaml: the paths it covers and the control that compensates."""

    source: str
    via: str | None
    widened: bool | None  # None: with the role's own policy or any policy
    reaches: frozenset[str]
    actions: frozenset[str]  # empty: every action
    control: str
    reason: str
    evidence: tuple[tuple[str, str], ...]  # (path in the repository, text it must contain)
    # Empty: on anything; else only on these (the labels findings name), so that
    # writing the web app's files accepts no write of the upload bucket.
    resources: frozenset[str] = frozenset()

    def covers(self, finding: Finding) -> bool:
        return (
            finding.acceptable
            and finding.source == self.source
            and finding.via == self.via
            and self.widened in (None, finding.widened)
            and finding.target in self.reaches
            and (not self.actions or set(finding.actions) <= self.actions)
            and (not self.resources or finding.label in self.resources)
        )

    def missing_evidence(self, root: Path) -> list[str]:
        """Each evidence whose file (or any file under a folder) lacks its text."""
        missing = []
        for path, text in self.evidence:
            where = root / path
            files = [where]
            if where.is_dir():  # its files, not hidden ones (.terraform holds provider binaries)
                files = [
                    f
                    for f in sorted(where.rglob("*"))
                    if f.is_file()
                    and not any(p.startswith(".") for p in f.relative_to(where).parts)
                ]
            if not any(f.is_file() and text in f.read_text(errors="replace") for f in files):
                missing.append(f"{path} does not contain {text!r}")
        return missing

    def __str__(self) -> str:
        via = "itself" if self.via is None else self.via + (" (any policy)" if self.widened else "")
        return f"{self.source} through {via} to {', '.join(sorted(self.reaches))}"


@dataclass
class Analysis:
    nodes: list[Node]
    principals: list[str] = field(default_factory=list)  # the CI principals (short names)
    findings: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, AcceptedPath]] = field(default_factory=list)
    # Exceptions that would have accepted a finding but were not applied, and why.
    unproven: list[str] = field(default_factory=list)
    # Every role's closure, CI or not, before exceptions (the security model shows it).
    closures: dict[str, list[Finding]] = field(default_factory=dict)
    # The listing actions each role may call on the upload bucket (its keys, no bytes).
    lists_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _DetailsClient:
    """Hands principalmapper's gatherer authorization details already read (no users here)."""

    def __init__(self, details: dict[str, Any]) -> None:
        self._details = details

    def get_paginator(self, name: str) -> Any:
        pages = {
            "get_account_authorization_details": [self._details],
            "list_virtual_mfa_devices": [{"VirtualMFADevices": []}],
        }[name]

        class _Paginator:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return pages

        return _Paginator()


def read_authorization_details(iam: Any) -> dict[str, Any]:
    """Every page of GetAccountAuthorizationDetails, merged."""
    merged: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key, items in merged.items():
            items.extend(page.get(key, []))
    return merged


def _only_attached_policies(details: dict[str, Any]) -> dict[str, Any]:
    """Managed policies nobody uses (the emulator loads every AWS one) are left out."""
    attached = {
        p["PolicyArn"]
        for kind in ("UserDetailList", "GroupDetailList", "RoleDetailList")
        for principal in details[kind]
        for p in principal.get("AttachedManagedPolicies", [])
    } | {
        r["PermissionsBoundary"]["PermissionsBoundaryArn"]
        for r in details["RoleDetailList"]
        if r.get("PermissionsBoundary")
    }
    return {**details, "Policies": [p for p in details["Policies"] if p["Arn"] in attached]}


def _document(document: Any) -> dict[str, Any]:
    return json.loads(document) if isinstance(document, str) else dict(document)


def _managed_policies(details: dict[str, Any]) -> dict[str, Policy]:
    """Customer-managed policies and those in use, by ARN (the candidate boundaries too)."""
    used = {p["Arn"] for p in _only_attached_policies(details)["Policies"]}
    out = {}
    for p in details["Policies"]:
        if p["Arn"] in used or ":aws:policy/" not in p["Arn"]:
            version = next(v for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
            out[p["Arn"]] = Policy(
                p["Arn"], p.get("PolicyName", p["Arn"]), _document(version["Document"])
            )
    return out


def build_nodes(details: dict[str, Any]) -> list[Node]:
    """principalmapper's nodes, with the roles' permissions boundaries (its gatherer drops them)."""
    details = _only_attached_policies(details)
    gathered = gathering.get_nodes_groups_and_policies(_DetailsClient(details))
    nodes: list[Node] = gathered["nodes"]
    policies = {p.arn: p for p in gathered["policies"]}
    boundaries = {
        r["Arn"]: r["PermissionsBoundary"]["PermissionsBoundaryArn"]
        for r in details["RoleDetailList"]
        if r.get("PermissionsBoundary")
    }
    for node in nodes:
        if node.arn in boundaries:
            node.permissions_boundary = policies[boundaries[node.arn]]
    gathering.update_admin_status(nodes)
    return nodes


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _allowed(
    node: Node,
    action: str,
    resource: str,
    context: Mapping[str, str | list[str]] | None = None,
    *,
    resource_policy: dict[str, Any] | None = None,
    owner: str | None = None,
) -> bool:
    return bool(
        query_interface.local_check_authorization_full(
            node, action, resource, dict(context or {}), resource_policy, owner
        )
    )


# ------------------------------------------------------------ the invariants


@dataclass(frozen=True)
class Check:
    """One call the closure must not be allowed: `action` on `resource`, in `context`."""

    reach: str  # a REACHES value
    action: str
    resource: str
    label: str  # what the resource is, for the message
    context: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    resource_policy: str | None = None  # "bucket" or "key": evaluated with that policy
    note: str = ""
    # No exception accepts it unless the rights used are a function role's own.
    only_functions: bool = False
    # Checks of one capability (reading a table's items, writing objects, ...): a
    # role that has it by design gains nothing new by another action of it.
    capability: str = ""

    def describe(self) -> str:
        return f"{self.action}{self.note} on {self.label}"

    @property
    def kind(self) -> str:
        return self.capability or f"{self.action} {self.resource}"


OBJECT_ACTIONS: Final = (
    "GetObject",
    "GetObjectVersion",
    "PutObject",
    "DeleteObject",
    "DeleteObjectVersion",
    "PutObjectTagging",
)
BUCKET_ACTIONS: Final = (
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketVersioning",
    "PutLifecycleConfiguration",
)
OBJECT_CAPABILITIES: Final = {
    "GetObject": "read objects",
    "GetObjectVersion": "read objects",
    "PutObject": "write objects",
    "DeleteObject": "write objects",
    "DeleteObjectVersion": "write objects",
}
ITEM_READS: Final = ("GetItem", "BatchGetItem", "Query", "Scan")
ITEM_WRITES: Final = ("PutItem", "DeleteItem", "BatchWriteItem")
TABLE_ACTIONS: Final = ("ExportTableToPointInTime", "DeleteTable", "UpdateTable")
TRAIL_ACTIONS: Final = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
# The alarm on CloudTrail events (a compensating control) must stay on too.
AUDIT_RULE_ACTIONS: Final = ("DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets")
AUDIT_TOPIC_ACTIONS: Final = (
    "DeleteTopic",
    "SetTopicAttributes",
    "Unsubscribe",
    "SetSubscriptionAttributes",
)


def invariant_checks(env: Environment) -> list[Check]:
    """Every call that would break the threat model, on this environment's resources."""
    region, account = env.region, env.account_id
    checks: list[Check] = []

    # ---- upload data: objects (with the bucket policy), items, the key
    bucket = f"arn:aws:s3:::{env.bucket}"
    an_object = f"{bucket}/{UPLOAD_PREFIX}{PROBE}/{PROBE}/{PROBE}"
    # As a caller who follows the bucket's rules would send it: SSE-KMS with the
    # environment key, on an object the scanner found clean.
    object_context: tuple[tuple[str, str | tuple[str, ...]], ...] = (
        ("s3:x-amz-server-side-encryption", "aws:kms"),
        ("s3:x-amz-server-side-encryption-aws-kms-key-id", env.key_arn),
        (f"s3:ExistingObjectTag/{ScanVerdict.TAG_KEY}", ScanVerdict.CLEAN),
    )
    checks += [
        Check(
            UPLOAD_DATA,
            f"s3:{a}",
            an_object,
            "the upload bucket",
            object_context,
            "bucket",
            capability=OBJECT_CAPABILITIES.get(a, ""),
        )
        for a in OBJECT_ACTIONS
    ]
    checks += [
        Check(UPLOAD_DATA, f"s3:{a}", bucket, "the upload bucket", (), "bucket")
        for a in BUCKET_ACTIONS
    ]
    item_context: tuple[tuple[str, str | tuple[str, ...]], ...] = (
        ("dynamodb:Attributes", ITEM_ATTRIBUTES),
        ("dynamodb:ReturnValues", "ALL_OLD"),
        ("dynamodb:Select", "ALL_ATTRIBUTES"),
    )
    for label, table in env.tables.items():
        name = f"the {label} table"
        read, write = f"read items of {name}", f"write items of {name}"
        checks += [
            Check(UPLOAD_DATA, f"dynamodb:{a}", table, name, item_context, capability=read)
            for a in ITEM_READS
        ]
        checks += [
            Check(UPLOAD_DATA, f"dynamodb:{a}", table, name, item_context, capability=write)
            for a in ITEM_WRITES
        ]
        checks += [Check(UPLOAD_DATA, f"dynamodb:{a}", table, name) for a in TABLE_ACTIONS]
        if label != "files":
            checks.append(
                Check(
                    UPLOAD_DATA,
                    "dynamodb:UpdateItem",
                    table,
                    name,
                    item_context,
                    capability=write,
                )
            )
            continue
        checks.append(
            Check(
                UPLOAD_DATA,
                "dynamodb:Query",
                f"{table}/index/{OWNER_INDEX}",
                name,
                item_context,
                note=" (owner index)",
                capability=read,
            )
        )
        # The files table: its items say where the bytes are (finding 2 of the
        # review). Rewriting s3_key, or reading the old item back, is for the
        # functions only; setting the status attributes can be compensated.
        checks += [
            Check(
                UPLOAD_DATA,
                "dynamodb:UpdateItem",
                table,
                name,
                (
                    ("dynamodb:Attributes", LOCATION_ATTRIBUTES),
                    ("dynamodb:ReturnValues", "ALL_OLD"),
                ),
                note=" (s3_key, ReturnValues ALL_OLD)",
                only_functions=True,
                capability=write,
            ),
            Check(
                UPLOAD_DATA,
                "dynamodb:UpdateItem",
                table,
                name,
                (("dynamodb:Attributes", STATUS_ATTRIBUTES), ("dynamodb:ReturnValues", "ALL_OLD")),
                note=" (status attributes, ReturnValues ALL_OLD)",
                only_functions=True,
                capability=write,
            ),
            Check(
                UPLOAD_DATA,
                "dynamodb:UpdateItem",
                table,
                name,
                (("dynamodb:Attributes", STATUS_ATTRIBUTES), ("dynamodb:ReturnValues", "NONE")),
                note=" (status attributes only)",
                capability=write,
            ),
            # Stream records carry every new item whole.
            Check(
                UPLOAD_DATA,
                "dynamodb:GetRecords",
                env.files_stream_arn or f"{table}/stream/{PROBE}",
                "the files table's stream",
                capability=read,
            ),
        ]
    checks.append(Check(UPLOAD_DATA, "kms:Decrypt", env.key_arn, "the environment key", (), "key"))
    checks += _routing_checks(env)
    checks += _web_app_checks(env)

    # ---- configuration the workloads read
    for key, (reach, meaning) in CONFIGURATION_PARAMETERS.items():
        name = SSM_PARAMETERS[key]
        arn = f"arn:aws:ssm:{region}:{account}:parameter{env.parameter_path}{name}"
        label = f"parameter {name} ({meaning})"
        overwrite = (("ssm:Overwrite", "true"),)
        checks += [
            Check(reach, "ssm:PutParameter", arn, label, overwrite, note=" (overwrite)"),
            Check(reach, "ssm:DeleteParameter", arn, label),
        ]

    # ---- the identity provider: the pool, its clients and providers, the
    # API's authorizer and the function that checks tokens
    for action in (
        "UpdateUserPool",
        "UpdateUserPoolClient",
        "CreateIdentityProvider",
        "UpdateIdentityProvider",
    ):
        checks.append(
            Check(IDENTITY_PROVIDER, f"cognito-idp:{action}", env.user_pool_arn, "the user pool")
        )
    checks += [
        Check(IDENTITY_PROVIDER, action, env.user_pool_arn, "the user pool (user takeover)")
        for action in COGNITO_ADMIN_ACTIONS
    ]
    apis = f"arn:aws:apigateway:{region}::/apis/{PROBE}"
    authorizers = "the HTTP API's JWT authorizers"
    for method, resource, label in (
        ("POST", f"{apis}/authorizers", authorizers),
        ("PATCH", f"{apis}/authorizers/{PROBE}", authorizers),
        ("DELETE", f"{apis}/authorizers/{PROBE}", authorizers),
        ("PATCH", f"{apis}/routes/{PROBE}", "the HTTP API's routes (their authorizer)"),
    ):
        checks.append(Check(IDENTITY_PROVIDER, f"apigateway:{method}", resource, label))
    api_function = f"arn:aws:lambda:{region}:{account}:function:{env.prefix}-upload-api"
    checks += [
        Check(
            IDENTITY_PROVIDER,
            f"lambda:{a}",
            api_function,
            "the upload API function (its code and issuer setting)",
        )
        for a in ("UpdateFunctionCode", "UpdateFunctionConfiguration")
    ]

    # ---- the audit trail: any trail, any log group, the upload bucket's access
    # log, the alarms on CloudTrail events and their topic (named <project>-audit-*
    # by environments/bootstrap)
    audit = f"{env.project}-audit"
    trails = (*env.trails, f"arn:aws:cloudtrail:{region}:{account}:trail/{audit}-trail")
    checks += [
        Check(AUDIT_TRAIL, f"cloudtrail:{a}", trail, f"trail {trail.rsplit('/', 1)[-1]}")
        for trail in dict.fromkeys(trails)
        for a in TRAIL_ACTIONS
    ]
    groups = (*env.log_groups, f"arn:aws:logs:{region}:{account}:log-group:/aws/cloudtrail/{audit}")
    checks += [
        Check(
            AUDIT_TRAIL,
            "logs:DeleteLogGroup",
            group,
            f"log group {group.split(':log-group:', 1)[-1]}",
        )
        for group in dict.fromkeys(groups)
    ]
    access_log = "the upload bucket's access logging"
    checks.append(Check(AUDIT_TRAIL, "s3:PutBucketLogging", bucket, access_log, (), "bucket"))
    audit_rule = f"arn:aws:events:{region}:{account}:rule/{audit}-{PROBE}"
    checks += [
        Check(AUDIT_TRAIL, f"events:{a}", audit_rule, "the alarm rules on CloudTrail events")
        for a in AUDIT_RULE_ACTIONS
    ]
    audit_topic = f"arn:aws:sns:{region}:{account}:{audit}-alerts"
    checks += [
        Check(AUDIT_TRAIL, f"sns:{a}", audit_topic, "the alarms' topic")
        for a in AUDIT_TOPIC_ACTIONS
    ]
    return checks


# Where upload events can be sent (H1 and M2 of the red-team review).
ROUTE_EVENTS: Final = "route upload events"
LOG_RECORDS: Final = "log stream records"
# The rule GuardDuty Malware Protection keeps in the account: it hears of every new object.
# pragma: allowlist nextline secret (the rule name AWS fixes, not a credential)
GUARDDUTY_RULE: Final = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3"


def _routing_checks(env: Environment) -> list[Check]:
    """Routes by which object keys, outcomes or whole items leave for a target the closure picks.

    Object-created events on the default bus name every new object's key
    (owner, file id, name); the file-events bus carries every outcome. A rule
    with a target of the closure's choosing (a queue or topic of its own, in
    this account: its policy or subscriptions decide who reads) sends them
    out; the probes are a rule and targets under our prefix, which IAM
    patterns on <prefix>-* would admit. A Pipe's log configuration
    (IncludeExecutionData ALL) delivers every record it reads, whole new
    items, to an S3 bucket or Firehose stream of any account with the
    caller's rights, so creating or updating the Pipe reaches them.
    """
    region, account, prefix = env.region, env.account_id, env.prefix
    rule = f"arn:aws:events:{region}:{account}:rule/%s"
    rules = [
        (rule % f"{prefix}-{PROBE}", "a rule on the default bus (object-created events: keys)"),
        *(
            (rule % f"{bus}/{prefix}-{PROBE}", f"a rule on bus {bus} (file outcomes)")
            for bus in env.buses
        ),
        (rule % f"{GUARDDUTY_RULE}{PROBE}", "GuardDuty's rule (object-created events: keys)"),
    ]
    targets = {
        "a queue of its own": f"arn:aws:sqs:{region}:{account}:{prefix}-{PROBE}",
        "a topic of its own": f"arn:aws:sns:{region}:{account}:{prefix}-{PROBE}",
    }
    checks = [
        Check(
            UPLOAD_DATA,
            "events:PutTargets",
            arn,
            label,
            (("events:TargetArn", (target,)),),
            note=f" (target: {what})",
            capability=ROUTE_EVENTS,
        )
        for arn, label in rules
        for what, target in targets.items()
    ]
    # A target's input and dead-letter queue are no IAM condition keys: putting
    # even the upload API's own target on the object-created rule can send the
    # events to a queue whose policy the closure opens (second red-team pass).
    upload_api = f"arn:aws:lambda:{region}:{account}:function:{prefix}-upload-api"
    checks.append(
        Check(
            UPLOAD_DATA,
            "events:PutTargets",
            rule % f"{prefix}-object-created",
            "the object-created rule's own target (its input and dead-letter queue)",
            (("events:TargetArn", (upload_api,)),),
            capability=ROUTE_EVENTS,
        )
    )
    checks += [
        Check(
            UPLOAD_DATA,
            "sqs:SetQueueAttributes",
            f"arn:aws:sqs:{region}:{account}:{prefix}-{name}",
            f"queue {prefix}-{name}'s policy (a dead-letter destination)",
            capability=ROUTE_EVENTS,
        )
        for name in ("files-stream-dlq", PROBE)
    ]
    pipes = [r.arn for r in env.runners if r.service == "pipes"]
    label = "the Pipe (its log configuration: every record, whole items, to any destination)"
    request = (("aws:RequestTag/environment", env.environment),)
    for arn in pipes:
        checks += [
            Check(UPLOAD_DATA, "pipes:UpdatePipe", arn, label, capability=LOG_RECORDS),
            # Deleted and created again under its name, the one its role trusts.
            Check(UPLOAD_DATA, "pipes:CreatePipe", arn, label, request, capability=LOG_RECORDS),
        ]
    return checks


# What the web app's users run and where they sign in (modules/web).
WEB_FILES: Final = "the web app's files (code each signed-in user's browser runs, as that user)"
WEB_CONFIG: Final = (
    "the web app's config.json (the Cognito endpoint and app client it signs users in with)"
)


def _web_app_checks(env: Environment) -> list[Check]:
    """Whoever decides the code users' browsers run acts as each user who signs in.

    The app's files, the bucket policy that says who may write them and the
    distribution that says where they come from reach upload data (the code
    holds the user's token). config.json names the Cognito endpoint and app
    client the app signs users in with, and the response-headers policy's CSP
    the origins it may call: which identity provider the browsers trust.
    """
    if env.web is None:
        return []
    bucket = f"arn:aws:s3:::{env.web.bucket}"
    checks = [
        Check(UPLOAD_DATA, f"s3:{a}", f"{bucket}/index.html", WEB_FILES)
        for a in ("PutObject", "DeleteObject")
    ]
    checks += [
        Check(UPLOAD_DATA, f"s3:{a}", bucket, "the web bucket's policy (who may write the app)")
        for a in ("PutBucketPolicy", "DeleteBucketPolicy")
    ]
    checks += [
        Check(
            UPLOAD_DATA,
            "cloudfront:UpdateDistribution",
            arn,
            "the web app's distribution (where the app's files come from)",
        )
        for arn in env.web.distribution_arns
    ]
    checks.append(Check(IDENTITY_PROVIDER, "s3:PutObject", f"{bucket}/config.json", WEB_CONFIG))
    checks += [
        Check(
            IDENTITY_PROVIDER,
            "cloudfront:UpdateResponseHeadersPolicy",
            arn,
            "the web app's response-headers policy (its CSP: the origins the app may call)",
        )
        for arn in env.web.headers_policy_arns
    ]
    return checks


# ------------------------------------------------------------ the closure


@dataclass(frozen=True)
class _Service:
    """A service that runs a resource's configuration as a role."""

    noun: str
    principal: str
    arn_format: str
    create: tuple[str, ...]
    update: tuple[str, ...]

    def arn(self, env: Environment, name: str) -> str:
        return self.arn_format.format(region=env.region, account=env.account_id, name=name)


SERVICES: Final = {
    "states": _Service(
        "state machine",
        "states.amazonaws.com",
        "arn:aws:states:{region}:{account}:stateMachine:{name}",
        ("states:CreateStateMachine",),
        ("states:UpdateStateMachine",),
    ),
    "pipes": _Service(
        "pipe",
        "pipes.amazonaws.com",
        "arn:aws:pipes:{region}:{account}:pipe/{name}",
        ("pipes:CreatePipe",),
        ("pipes:UpdatePipe",),
    ),
    "lambda": _Service(
        "function",
        "lambda.amazonaws.com",
        "arn:aws:lambda:{region}:{account}:function:{name}",
        ("lambda:CreateFunction",),
        ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"),
    ),
}


@dataclass(frozen=True)
class _Member:
    """A set of rights in a principal's closure and how the principal got them."""

    node: Node
    steps: tuple[str, ...]
    via: str | None
    widened: bool
    # By-design access not reported again (a data role given any policy: only what is new).
    baseline: Node | None = None


class _Closure:
    MAX_STEPS = 4  # deep enough for create -> pass -> run; a cycle ends earlier (seen)

    def __init__(
        self,
        env: Environment,
        nodes: list[Node],
        edges: list[Edge],
        policies: Mapping[str, Policy],
        resource_policies: Mapping[str, dict[str, Any] | None],
    ) -> None:
        self.env = env
        self.nodes = nodes
        self.roles = [n for n in nodes if ":role/" in n.arn]
        self.edges = edges
        self.policies = policies
        self.resource_policies = resource_policies
        self.checks = invariant_checks(env)
        self.tags = {"environment": env.environment}
        # (id(node), action) -> (node, named): the node is kept so its id stays its own
        self._named: dict[tuple[int, str], tuple[Node, bool]] = {}

    # ---- evaluation

    def allowed(self, node: Node, check: Check) -> bool:
        policy = self.resource_policies.get(check.resource_policy or "")
        if not (self._names(node, check.action) or _names_action(policy, check.action)):
            return False  # no Allow names the action: the engine would say no, slowly
        context: dict[str, str | list[str]] = {"aws:ResourceTag/environment": self.env.environment}
        for key, value in check.context:
            context[key] = list(value) if isinstance(value, tuple) else value
        return _allowed(
            node,
            check.action,
            check.resource,
            context,
            resource_policy=policy,
            owner=self.env.account_id if policy is not None else None,
        )

    def _names(self, node: Node, action: str) -> bool:
        """Whether an Allow of the node's policies, and of its boundary if any, names `action`."""
        key = (id(node), action)
        if key not in self._named:
            boundary = node.permissions_boundary
            self._named[key] = (
                node,
                any(_names_action(p.policy_doc, action) for p in node.attached_policies)
                and (
                    not isinstance(boundary, Policy) or _names_action(boundary.policy_doc, action)
                ),
            )
        return self._named[key][1]

    def _may(
        self, node: Node, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> bool:
        tagged = {"aws:ResourceTag/environment": self.env.environment, **(context or {})}
        return _allowed(node, action, resource, tagged)

    # ---- members

    def members(self, start: Node) -> list[_Member]:
        seen: set[tuple[str, ...]] = {("as-is", start.arn)}
        queue = deque([_Member(start, (), None, False)])
        out = []
        while queue:
            member = queue.popleft()
            out.append(member)
            if self._unbounded_admin(member.node) or len(member.steps) >= self.MAX_STEPS:
                continue
            for key, found in self._next(member):
                if key not in seen:
                    seen.add(key)
                    queue.append(found)
        return out

    @staticmethod
    def _unbounded_admin(node: Node) -> bool:
        return bool(node.is_admin) and node.permissions_boundary is None

    def _any_policy(self, arn: str, boundary: Policy | None, like: Node | None = None) -> Node:
        """A role with Allow *:* inside `boundary`, as an attacker would shape it."""
        node = Node(
            arn,
            like.id_value if like is not None else f"AROA{PROBE.upper()}",
            [Policy(arn, "any-policy", copy.deepcopy(ALLOW_ALL))],
            None,
            like.trust_policy if like is not None else {"Version": "2012-10-17", "Statement": []},
            [],
            0,
            False,
            False,
            boundary,
            False,
            dict(like.tags) if like is not None else dict(self.tags),
        )
        gathering.update_admin_status([node])
        return node

    def _next(self, member: _Member) -> Iterator[tuple[tuple[str, ...], _Member]]:
        yield from self._created_roles(member)
        yield from self._changed_roles(member)
        yield from self._services(member)
        yield from self._edges(member)

    def _boundary_context(self, boundary: str | None) -> dict[str, str]:
        return {"iam:PermissionsBoundary": boundary} if boundary else {}

    def _may_give_any_policy(self, node: Node, role_arn: str, boundary: str | None) -> bool:
        context = self._boundary_context(boundary)
        return self._may(node, "iam:PutRolePolicy", role_arn, context) or self._may(
            node,
            "iam:AttachRolePolicy",
            role_arn,
            {**context, "iam:PolicyARN": ADMINISTRATOR_ACCESS},
        )

    def _created_roles(self, member: _Member) -> Iterator[tuple[tuple[str, ...], _Member]]:
        node, env = member.node, self.env
        # A new name, and every existing role it could delete and create again
        # (keeping the name the key, bucket and boundary policies trust).
        names = [f"{env.prefix}-{PROBE}"] + [
            _role_name(r.arn)
            for r in self.roles
            if r is not node and self._may(node, "iam:DeleteRole", r.arn)
        ]
        for name in names:
            arn = env.role_arn(name)
            for boundary in (None, *self.policies):
                create_context = {
                    **self._boundary_context(boundary),
                    "aws:RequestTag/environment": env.environment,
                }
                if not (
                    self._may(node, "iam:CreateRole", arn, create_context)
                    and self._may_give_any_policy(node, arn, boundary)
                ):
                    continue
                ceiling = "no boundary" if boundary is None else "boundary"
                if name.endswith(PROBE):
                    step, via = f"creates role ({ceiling} + any policy)", NEW_ROLE
                else:
                    via = env.short(name)
                    step = f"deletes and re-creates {via} ({ceiling} + any policy, any trust)"
                created = self._any_policy(arn, self.policies[boundary] if boundary else None)
                key = ("created", arn, boundary or "")
                yield key, _Member(created, (*member.steps, step), via, True)

    def _changed_roles(self, member: _Member) -> Iterator[tuple[tuple[str, ...], _Member]]:
        node = member.node
        for role in self.roles:
            if role.arn == node.arn:
                continue
            short = self.env.short(role.arn)
            boundary = (
                role.permissions_boundary if isinstance(role.permissions_boundary, Policy) else None
            )
            managed = [
                p.arn
                for p in role.attached_policies
                if ":policy/" in p.arn and ":aws:policy/" not in p.arn
            ]
            if self._may_give_any_policy(node, role.arn, boundary.arn if boundary else None) or any(
                self._may(node, "iam:CreatePolicyVersion", arn) for arn in managed
            ):
                ceiling = "boundary" if boundary is not None else "no boundary"
                widened = self._any_policy(role.arn, boundary, like=role)
                baseline = role if _role_name(role.arn) in self.env.data_roles else None
                step = f"changes the policy of {short} ({ceiling} + any policy)"
                key = ("any-policy", role.arn, boundary.arn if boundary else "")
                yield key, _Member(widened, (*member.steps, step), short, True, baseline)
            if boundary is not None and self._may(
                node, "iam:DeleteRolePermissionsBoundary", role.arn
            ):
                unbounded = copy.copy(role)
                unbounded.permissions_boundary = None
                unbounded.cache = {}
                gathering.update_admin_status([unbounded])
                step = f"takes the boundary off {short}"
                yield (
                    ("unbounded", role.arn),
                    _Member(unbounded, (*member.steps, step), short, True),
                )

    def _services(self, member: _Member) -> Iterator[tuple[tuple[str, ...], _Member]]:
        node, env = member.node, self.env
        by_arn = {r.arn: r for r in self.roles}
        for key, service in SERVICES.items():
            # (resource ARN, what the principal does to it, the role it runs as now)
            targets: list[tuple[str, str, str | None]] = []
            probe = service.arn(env, f"{env.prefix}-{PROBE}")
            request = {"aws:RequestTag/environment": env.environment}
            if any(self._may(node, action, probe, request) for action in service.create):
                targets.append((probe, f"creates {service.noun}", None))
            for runner in env.runners:
                if runner.service == key and any(
                    self._may(node, action, runner.arn) for action in service.update
                ):
                    targets.append(
                        (
                            runner.arn,
                            f"updates {service.noun} {env.short(runner.name)}",
                            runner.role_arn,
                        )
                    )
            for resource, doing, current in targets:
                runs_as = [by_arn[current]] if current in by_arn else []
                runs_as += [
                    role
                    for role in self.roles
                    if role.arn != current
                    and self._may(
                        node, "iam:PassRole", role.arn, {"iam:PassedToService": service.principal}
                    )
                    and _trusts_service(role, service.principal, resource, env.account_id)
                ]
                for role in runs_as:
                    short = env.short(role.arn)
                    step = f"{doing} (runs as {short})"
                    yield ("as-is", role.arn), _Member(role, (*member.steps, step), short, False)

    def _edges(self, member: _Member) -> Iterator[tuple[tuple[str, ...], _Member]]:
        node = member.node
        if any(node is n for n in self.nodes):
            edges = [e for e in self.edges if e.source is node]
        else:
            # A role the closure shaped: principalmapper's IAM and STS edges from it.
            others = [n for n in self.nodes if n.arn != node.arn]
            edges = [
                e
                for e in (
                    *iam_edges.generate_edges_locally([node, *others]),
                    *sts_edges.generate_edges_locally([node, *others]),
                )
                if e.source is node
            ]
        for edge in edges:
            if edge.destination.arn == node.arn:
                continue
            short = self.env.short(edge.destination.arn)
            step = f"{edge.reason} {short}"
            yield (
                ("as-is", edge.destination.arn),
                _Member(edge.destination, (*member.steps, step), short, False),
            )

    # ---- findings

    def findings(self, start: Node) -> list[Finding]:
        """One finding per set of rights in the closure and resource reached (actions grouped)."""
        source = self.env.short(start.arn)
        functions = {self.env.short(r) for r in self.env.function_roles}
        found: list[Finding] = []
        for member in self.members(start):
            if self._unbounded_admin(member.node):
                how = "any action on any resource (no boundary)"
                found.append(
                    Finding(
                        source, ADMIN, how, member.steps, member.via, member.widened, ("*",), False
                    )
                )
                continue
            function_role = member.via in functions and not member.widened
            by_design = set()
            if member.baseline is not None:
                by_design = {c.kind for c in self.checks if self.allowed(member.baseline, c)}
            # (reach, label, acceptable) -> the checks allowed, in order
            reached: dict[tuple[str, str, bool], list[Check]] = {}
            for check in self.checks:
                if check.kind in by_design or not self.allowed(member.node, check):
                    continue
                acceptable = not check.only_functions or function_role
                reached.setdefault((check.reach, check.label, acceptable), []).append(check)
            for (reach, label, acceptable), checks in reached.items():
                how = f"{', '.join(c.action + c.note for c in checks)} on {label}"
                actions = tuple(dict.fromkeys(c.action for c in checks))
                found.append(
                    Finding(
                        source,
                        reach,
                        how,
                        member.steps,
                        member.via,
                        member.widened,
                        actions,
                        acceptable,
                        label,
                    )
                )
        return found


def _names_action(document: dict[str, Any] | None, action: str) -> bool:
    """Whether an Allow statement of `document` could match `action` (NotAction: any)."""
    for statement in statements(document or {}):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            return True
        patterns = _values(statement.get("Action", []))
        if any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns):
            return True
    return False


def _trusts_service(role: Node, service: str, source_arn: str, account: str) -> bool:
    """Whether the role's trust lets `service` assume it for the resource `source_arn`."""
    result = resource_policy_authorization(
        service,
        account,
        role.trust_policy,
        "sts:AssumeRole",
        role.arn,
        {"aws:SourceArn": source_arn, "aws:SourceAccount": account},
    )
    return bool(result == ResourcePolicyEvalResult.SERVICE_MATCH)


# ------------------------------------------------------------ GitHub trusts (finding 1)


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _claims(subject: str) -> dict[str, str]:
    """repo:o/r:environment:e:ref:refs/heads/main:job_workflow_ref:o/r/.github/workflows/f@ref."""
    parts, claims = subject.split(":"), {}
    index = 0
    while index < len(parts):
        if parts[index] == "pull_request":  # a context without a value
            claims["pull_request"] = ""
            index += 1
        else:
            claims[parts[index]] = parts[index + 1] if index + 1 < len(parts) else ""
            index += 2
    return claims


def _github_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for statement in statements(role["AssumeRolePolicyDocument"]):
        principal = statement.get("Principal", {})
        federated = principal.get("Federated", []) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and any(GITHUB_OIDC in f for f in _values(federated)):
            out.append(statement)
    return out


def ci_roles(details: dict[str, Any], env: Environment) -> list[dict[str, Any]]:
    """The environment's roles that GitHub's OIDC provider may assume."""
    return [
        r
        for r in details["RoleDetailList"]
        if r["RoleName"].startswith(f"{env.prefix}-") and _github_statements(r)
    ]


@dataclass
class _Pins:
    """What one GitHub trust statement pins: subjects (with their operator), audiences, ref."""

    subjects: list[tuple[str, str]] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)


def _pins(statement: dict[str, Any]) -> _Pins:
    pins = _Pins()
    for operator, entries in statement.get("Condition", {}).items():
        if "Not" in operator or "IfExists" in operator:
            continue  # negations and IfExists pin nothing
        for key, value in entries.items():
            claim = key.lower().removeprefix(f"{GITHUB_OIDC}:")
            if claim == "sub":
                pins.subjects += [(operator, v) for v in _values(value)]
            elif claim == "aud":
                pins.audiences += _values(value)
            elif claim == "ref" and "Like" not in operator:
                pins.ref += _values(value)
    return pins


def _subject_problems(subject: str, operator: str, pins: _Pins) -> list[str]:
    """Why a (non-pull-request) subject admits more than main's own run of one workflow file."""
    if "Like" in operator and any(c in subject for c in "*?"):
        return [f"trust admits another ref: a wildcard subject ({subject})"]
    claims = _claims(subject)
    problems = []
    if (claims.get("ref") or (pins.ref[0] if pins.ref == [TRUSTED_REF] else "")) != TRUSTED_REF:
        problems.append(
            f"trust admits another ref: the subject does not pin ref:{TRUSTED_REF} "
            f"(a branch can call the workflow on main) ({subject})"
        )
    if not claims.get("repo"):
        problems.append(f"trust admits another repository ({subject})")
    workflow = claims.get("job_workflow_ref", "")
    if not workflow:
        problems.append(f"trust admits another ref: no job_workflow_ref, any workflow ({subject})")
    elif not workflow.endswith(f"@{TRUSTED_REF}"):
        problems.append(f"trust admits another ref: the workflow file from {workflow}")
    return problems


@dataclass
class _Trust:
    """One CI role's GitHub trust: what is wrong with it, and what it admits."""

    problems: list[str] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    workflows: set[str] = field(default_factory=set)  # workflow files on main
    pull_request_workflows: set[str] = field(default_factory=set)


def _trust(name: str, role: dict[str, Any]) -> _Trust:
    trust = _Trust()
    for pins in map(_pins, _github_statements(role)):
        if pins.audiences != ["sts.amazonaws.com"]:
            trust.problems.append("trust admits any audience of GitHub's tokens")
        if not pins.subjects:
            trust.problems.append("trust admits another ref: no subject condition (any workflow)")
        for operator, subject in pins.subjects:
            claims = _claims(subject)
            workflow = claims.get("job_workflow_ref", "").split("@")[0]
            if "pull_request" in claims:
                # Only the plan role (read-only) may plan pull requests.
                if name == PLAN_ROLE:
                    trust.pull_request_workflows.add(workflow)
                else:
                    trust.problems.append(
                        f"trust admits another ref: pull-request runs ({subject})"
                    )
                continue
            problems = _subject_problems(subject, operator, pins)
            trust.problems += problems
            trust.subjects.add(subject)
            if not problems:
                trust.workflows.add(workflow)
    if name != PLAN_ROLE and len(trust.workflows) > 1:
        files = ", ".join(sorted(trust.workflows))
        trust.problems.append(f"trust admits more than one workflow file: {files}")
    return trust


def trust_findings(details: dict[str, Any], env: Environment) -> list[Finding]:
    """Each CI role admits only main's own runs of one workflow file; the smoke role its own."""
    trusts = {
        env.short(r["RoleName"]): _trust(env.short(r["RoleName"]), r)
        for r in ci_roles(details, env)
    }
    pull_requests = {w for t in trusts.values() for w in t.pull_request_workflows}
    problems = [(name, problem) for name, t in trusts.items() for problem in t.problems]
    for name, trust in trusts.items():
        for file in sorted(trust.workflows & pull_requests):
            problems.append(
                (name, f"trust admits another ref: {file} is a pull-request workflow (wrong file)")
            )
    smoke = trusts.get(SMOKE_ROLE, _Trust()).subjects
    for other, trust in sorted(trusts.items()):
        shared = sorted(smoke & trust.subjects)
        if other != SMOKE_ROLE and shared:
            problems.append(
                (
                    SMOKE_ROLE,
                    f"trust admits another role's job: the same subject as {other}, so its "
                    f"job can assume the smoke role ({shared[0]})",
                )
            )
    return [Finding(name, TRUST, how, acceptable=False) for name, how in problems]


# ------------------------------------------------------------ the role-to-role checks


def _escalation_findings(node: Node, env: Environment, roles: list[Node]) -> Iterator[Finding]:
    me = env.short(node.arn)
    probe_role = env.role_arn(f"{env.prefix}-{PROBE}")
    if _allowed(node, "iam:CreateRole", probe_role):
        yield Finding(
            me, ADMIN, "can create a role without the permissions boundary", acceptable=False
        )
    for role in roles:
        if role is node:
            continue
        name = env.short(role.arn)
        if role.permissions_boundary is not None and _allowed(
            node, "iam:DeleteRolePermissionsBoundary", role.arn
        ):
            yield Finding(
                me, name, f"{name}: can take the role's permissions boundary off", via=name
            )
        if isinstance(role.permissions_boundary, Policy) and _allowed(
            node, "iam:CreatePolicyVersion", role.permissions_boundary.arn
        ):
            yield Finding(
                me, ADMIN, f"can rewrite the permissions boundary of {name}", acceptable=False
            )
        lambda_trusted = "lambda.amazonaws.com" in json.dumps(role.trust_policy)
        if (
            lambda_trusted
            and _allowed(
                node, "iam:PassRole", role.arn, {"iam:PassedToService": "lambda.amazonaws.com"}
            )
            and _allowed(
                node,
                "lambda:CreateFunction",
                f"arn:aws:lambda:{env.region}:{env.account_id}:function:{env.prefix}-{PROBE}",
            )
        ):
            yield Finding(
                me,
                name,
                f"{name}: can create a function with its own code that runs as the role",
                via=name,
            )


def _data_findings(
    node: Node, env: Environment, bucket_policy: dict[str, Any] | None, key_policy: dict[str, Any]
) -> Iterator[Finding]:
    me = env.short(node.arn)
    checks = (
        ("s3:GetObject", f"arn:aws:s3:::{env.bucket}/{UPLOAD_PREFIX}user/file/name", bucket_policy),
        ("dynamodb:GetItem", env.table_arn, None),
        ("dynamodb:Query", f"{env.table_arn}/index/any", None),
        ("kms:Decrypt", env.key_arn, key_policy),
    )
    for action, resource, policy in checks:
        owner = env.account_id if policy is not None else None
        if _allowed(node, action, resource, resource_policy=policy, owner=owner):
            yield Finding(me, UPLOAD_DATA, f"can {action} on {resource}", actions=(action,))


# ------------------------------------------------------------ the analysis


def analyse(
    details: dict[str, Any],
    env: Environment,
    *,
    bucket_policy: dict[str, Any] | None,
    key_policy: dict[str, Any],
    functions: list[dict[str, Any]],
    exceptions: list[AcceptedPath] | None = None,
    root: Path = REPO_ROOT,
) -> Analysis:
    """Findings and accepted paths; `exceptions` as in the file (default: the file itself)."""
    nodes = build_nodes(details)
    ours = [n for n in nodes if _role_name(n.arn).startswith(f"{env.prefix}-")]
    edges = [
        *iam_edges.generate_edges_locally(nodes),
        *sts_edges.generate_edges_locally(nodes),
        *lambda_edges.generate_edges_locally(nodes, functions),
    ]
    principals = {env.short(r["RoleName"]) for r in ci_roles(details, env)}
    closure = _Closure(
        env, nodes, edges, _managed_policies(details), {"bucket": bucket_policy, "key": key_policy}
    )
    analysis = Analysis(nodes=nodes, principals=sorted(principals))
    found: list[Finding] = trust_findings(details, env)
    bucket = f"arn:aws:s3:::{env.bucket}"
    owner = env.account_id if bucket_policy is not None else None
    tagged = {"aws:ResourceTag/environment": env.environment}
    for node in sorted(ours, key=lambda n: n.arn):
        me = env.short(node.arn)
        analysis.closures[me] = closure.findings(node)
        analysis.lists_keys[me] = tuple(
            a
            for a in KEY_LISTING_ACTIONS
            if _allowed(node, a, bucket, tagged, resource_policy=bucket_policy, owner=owner)
        )
        if me in principals:
            found += analysis.closures[me]
        # The role-to-role checks, for every role of the environment.
        if node.is_admin:
            found.append(
                Finding(
                    me, ADMIN, "is an administrator (can grant itself anything)", acceptable=False
                )
            )
        found += [
            Finding(
                me,
                env.short(e.destination.arn),
                f"{env.short(e.destination.arn)}: {e.reason}",
                via=env.short(e.destination.arn),
            )
            for e in edges
            if e.source is node and e.destination is not node
        ]
        found += _escalation_findings(node, env, ours)
        if me not in principals and _role_name(node.arn) not in env.data_roles:
            found += _data_findings(node, env, bucket_policy, key_policy)
    _judge(
        analysis,
        list(dict.fromkeys(found)),
        exceptions if exceptions is not None else load_exceptions(),
        root,
    )
    return analysis


def _judge(
    analysis: Analysis, found: list[Finding], exceptions: list[AcceptedPath], root: Path
) -> None:
    """Splits `found` into findings and accepted paths; an exception holds only with its control."""
    untrusted = {f.source for f in found if f.target == TRUST}
    problems = {id(e): e.missing_evidence(root) for e in exceptions}
    unproven: dict[str, None] = {}
    for finding in found:
        entry = next((e for e in exceptions if e.covers(finding)), None)
        if entry is None:
            analysis.findings.append(finding)
            continue
        why = list(problems[id(entry)])
        if finding.source in untrusted:
            why.append(f"the trust of {finding.source} admits another ref")
        if why:
            analysis.findings.append(finding)
            unproven[f"exception ({entry}) not applied: {'; '.join(why)}"] = None
        else:
            analysis.accepted.append((finding, entry))
    analysis.unproven = list(unproven)


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[AcceptedPath]:
    """The accepted paths; role names are written without their <project>-<env>-."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        control = str(entry.get("control", "")).strip()
        evidence = tuple((str(e["path"]), str(e["contains"])) for e in entry.get("evidence") or [])
        if len(reason) < 20 or not control or not evidence:
            raise ValueError(
                f"exception {entry} needs a reason a reviewer would accept, the control "
                "that compensates and the evidence where that control lives"
            )
        out.append(
            AcceptedPath(
                source=str(entry["source"]),
                via=entry.get("via"),
                widened=None
                if entry.get("widened") == "either"
                else bool(entry.get("widened", False)),
                reaches=frozenset(str(r) for r in entry["reaches"]),
                actions=frozenset(str(a) for a in entry.get("actions") or []),
                control=control,
                reason=reason,
                evidence=evidence,
                resources=frozenset(str(r) for r in entry.get("resources") or []),
            )
        )
    return out


# ------------------------------------------------------------ reading an applied environment


def _runners(client: Callable[[str], Any], functions: list[dict[str, Any]]) -> tuple[Runner, ...]:
    runners = [Runner("lambda", f["FunctionName"], f["FunctionArn"], f["Role"]) for f in functions]
    sfn = client("stepfunctions")
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
            runners.append(
                Runner("states", machine["name"], machine["stateMachineArn"], described["roleArn"])
            )
    pipes = client("pipes")
    for pipe in pipes.list_pipes().get("Pipes", []):
        described = pipes.describe_pipe(Name=pipe["Name"])
        runners.append(Runner("pipes", pipe["Name"], pipe["Arn"], described["RoleArn"]))
    return tuple(runners)


def _web_app(cloudfront: Any, bucket: str, account_id: str) -> WebApp:
    """The web bucket, the distributions whose origin it is and their response-headers policies."""
    distributions: list[str] = []
    policies: list[str] = []
    policy_arn = f"arn:aws:cloudfront::{account_id}:response-headers-policy/%s"
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for distribution in page.get("DistributionList", {}).get("Items", []):
            origins = distribution["Origins"].get("Items", [])
            if not any(o["DomainName"].split(".", 1)[0] == bucket for o in origins):
                continue
            distributions.append(distribution["ARN"])
            behaviours = [
                distribution["DefaultCacheBehavior"],
                *distribution.get("CacheBehaviors", {}).get("Items", []),
            ]
            policies += [
                policy_arn % b["ResponseHeadersPolicyId"]
                for b in behaviours
                if b.get("ResponseHeadersPolicyId")
            ]
    return WebApp(bucket, tuple(distributions), tuple(dict.fromkeys(policies)))


def read_environment(
    client: Callable[[str], Any], prefix: str, parameter_path: str
) -> dict[str, Any]:
    """Everything analyse() needs, read from an applied environment with `client(service)`."""
    parameters = published_parameters(client("ssm"), parameter_path)
    account_id = client("sts").get_caller_identity()["Account"]
    region = client("sts").meta.region_name
    project, environment = parameter_path.strip("/").split("/")
    if prefix != f"{project}-{environment}":
        raise ValueError(f"prefix {prefix} does not match the parameter path {parameter_path}")
    bucket = parameters["upload_bucket_name"]
    key_arn = parameters["kms_key_arn"]
    s3 = client("s3")
    try:
        bucket_policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.from_code("NoSuchBucketPolicy"):
        bucket_policy = None
    key_policy = json.loads(
        client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    )
    functions = [
        f
        for page in client("lambda").get_paginator("list_functions").paginate()
        for f in page["Functions"]
    ]
    log_groups = tuple(
        g["arn"].removesuffix(":*")
        for page in client("logs").get_paginator("describe_log_groups").paginate()
        for g in page["logGroups"]
    )
    trails = tuple(t["TrailARN"] for t in client("cloudtrail").describe_trails()["trailList"])
    files_table = client("dynamodb").describe_table(TableName=parameters["files_table_name"])[
        "Table"
    ]
    table_arn = f"arn:aws:dynamodb:{region}:{account_id}:table/%s"
    # Terraform publishes the web app's origin, or "none" before it exists; the
    # bucket is named as modules/web names it.
    web = None
    if parameters["web_origin"] != "none":
        web = _web_app(client("cloudfront"), f"{prefix}-web-{account_id}", account_id)
    env = Environment(
        account_id=account_id,
        project=project,
        environment=environment,
        region=region,
        bucket=bucket,
        tables={
            "files": table_arn % parameters["files_table_name"],
            "pending-uploads": table_arn % parameters["pending_uploads_table_name"],
            "user-usage": table_arn % parameters["user_usage_table_name"],
        },
        key_arn=key_arn,
        user_pool_arn=(
            f"arn:aws:cognito-idp:{region}:{account_id}:userpool/{parameters['cognito_user_pool_id']}"
        ),
        data_roles=frozenset(
            {
                _role_name(parameters["upload_api_role_arn"]),
                _role_name(parameters["processor_role_arn"]),
                # GuardDuty Malware Protection reads each new object to scan it.
                _role_name(parameters["malware_scan_role_arn"]),
            }
        ),
        function_roles=frozenset(
            {
                _role_name(parameters["upload_api_role_arn"]),
                _role_name(parameters["processor_role_arn"]),
            }
        ),
        runners=_runners(client, functions),
        files_stream_arn=files_table.get("LatestStreamArn", ""),
        log_groups=log_groups,
        trails=trails,
        event_buses=(parameters["file_events_bus_name"],),
        web=web,
    )
    return {
        "details": read_authorization_details(client("iam")),
        "env": env,
        "bucket_policy": bucket_policy,
        "key_policy": key_policy,
        "functions": functions,
    }


def report(analysis: Analysis) -> str:
    found, accepted = len(analysis.findings), len(analysis.accepted)
    lines = [
        f"IAM closure analysis of {', '.join(analysis.principals) or 'no CI principal'}: "
        f"{found} finding(s), {accepted} accepted"
    ]
    lines += [f"  FINDING  {f}" for f in analysis.findings]
    lines += [f"  accepted {f}  (control: {entry.control})" for f, entry in analysis.accepted]
    lines += [f"  NOTE     {note}" for note in analysis.unproven]
    return "\n".join(lines)


# ---------------------------------------------------- the security model (policies/README.md)

MODEL_START = "<!-- security-model:start (generated: make security-model) -->"
MODEL_END = "<!-- security-model:end -->"


def role_documents(details: dict[str, Any], role: dict[str, Any]) -> list[Any]:
    """The role's inline policies and the default version of each managed policy attached."""
    policies = {p["Arn"]: p for p in details["Policies"]}
    documents = [p["PolicyDocument"] for p in role["RolePolicyList"]]
    for arn in (a["PolicyArn"] for a in role["AttachedManagedPolicies"]):
        if arn in policies:
            versions = policies[arn]["PolicyVersionList"]
            documents.append(next(v["Document"] for v in versions if v["IsDefaultVersion"]))
    return documents


def statements(document: Any) -> list[dict[str, Any]]:
    document = json.loads(document) if isinstance(document, str) else document
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _trusted(role: dict[str, Any]) -> str:
    """Who may assume the role, read from its trust policy."""
    parts = []
    for statement in statements(role["AssumeRolePolicyDocument"]):
        principal = statement.get("Principal", {})
        for kind, ids in principal.items() if isinstance(principal, dict) else [("AWS", principal)]:
            for identity in ids if isinstance(ids, list) else [ids]:
                if kind == "Federated" and GITHUB_OIDC in identity:
                    subjects = [
                        value
                        for entries in statement.get("Condition", {}).values()
                        for key, values in entries.items()
                        if key.endswith(":sub")
                        for value in (values if isinstance(values, list) else [values])
                    ]
                    parts += [f"GitHub OIDC `{s}`" for s in subjects]
                else:
                    parts.append(f"{kind} `{identity}`")
    return "<br>".join(parts)


def _sids(documents: list[Any], effect: str) -> list[str]:
    return sorted(
        {
            str(s.get("Sid") or "(unnamed)")
            for document in documents
            for s in statements(document)
            if s.get("Effect") == effect
        }
    )


# Verbs of the calls that read, list or describe (or decrypt and derive keys
# to read with): a role whose Allow statements name only these changes nothing.
READ_VERBS: Final = (
    "BatchGet",
    "Check",
    "Decrypt",
    "Describe",
    "Filter",
    "GenerateDataKey",
    "Get",
    "Head",
    "List",
    "Lookup",
    "Query",
    "Scan",
    "Search",
    "Validate",
)
# Listing the upload bucket names every object: owner ids, file ids and names.
KEY_LISTING_ACTIONS: Final = ("s3:ListBucket", "s3:ListBucketVersions")


def _read_only(documents: list[Any]) -> bool:
    """Whether every action an Allow statement names only reads (no wildcard verb, no NotAction)."""
    for statement in (s for d in documents for s in statements(d)):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            return False
        for action in _values(statement.get("Action", [])):
            verb = action.split(":", 1)[-1]
            if not verb.startswith(READ_VERBS):
                return False
    return True


def _trust_cell(name: str, role: dict[str, Any], documents: list[Any], analysis: Analysis) -> str:
    """Whom a CI role's trust admits, read from it: main, and any pull-request workflow."""
    if any(f.source == name and f.target == TRUST for f in analysis.findings):
        return "trust: **FINDING** (admits another ref)"
    pull_requests = sorted(w.rsplit("/", 1)[-1] for w in _trust(name, role).pull_request_workflows)
    if not pull_requests:
        return "trust: main only"
    read_only = " (read-only)" if _read_only(documents) else ""
    return f"trust: main; pull requests of {', '.join(pull_requests)}{read_only}"


def _reaches(name: str, full_name: str, env: Environment, analysis: Analysis, trust: str) -> str:
    """What the role's closure reaches: a finding, an accepted path (its control), or nothing."""
    cells = []
    listing = ", ".join(analysis.lists_keys.get(name, ()))
    for reach in REACHES:
        keys = reach == UPLOAD_DATA and listing
        if name in analysis.principals:
            red = [f for f in analysis.findings if f.source == name and f.target == reach]
            controls = sorted(
                {e.control for f, e in analysis.accepted if f.source == name and f.target == reach}
            )
            if red:
                cells.append(
                    f"{reach}: **FINDING** ({len(red)} {'path' if len(red) == 1 else 'paths'})"
                )
            elif controls:
                also = f"; object keys ({listing})" if keys else ""
                cells.append(f"{reach}: accepted: {'; '.join(controls)}{also}")
            elif keys:
                cells.append(f"{reach}: object keys only ({listing})")
            else:
                cells.append(f"{reach}: no")
        elif any(f.target == reach for f in analysis.closures.get(name, [])):
            design = reach == UPLOAD_DATA and full_name in env.data_roles
            cells.append(f"{reach}: {'yes (by design)' if design else 'yes (its own policy)'}")
        elif keys:
            cells.append(f"{reach}: object keys only ({listing})")
        else:
            cells.append(f"{reach}: no")
    if name in analysis.principals:
        cells.append(trust)
    return "<br>".join(cells)


def _paths(name: str, analysis: Analysis) -> str:
    """The roles (or new roles) whose rights the role's closure uses, and how each is judged."""
    judged: dict[str, str] = {}
    for finding, _ in analysis.accepted:
        if finding.source == name and finding.via is not None:
            judged.setdefault(_via(finding), "accepted")
    for finding in analysis.findings:
        if finding.source == name and finding.via is not None:
            judged[_via(finding)] = "FINDING"
    return ", ".join(f"{via} ({verdict})" for via, verdict in sorted(judged.items())) or "none"


def _via(finding: Finding) -> str:
    if finding.via == NEW_ROLE:
        return "a new role"
    return f"{finding.via}{' (any policy)' if finding.widened else ''}"


def security_model(details: dict[str, Any], env: Environment, analysis: Analysis) -> str:
    """One row per role of the environment: who assumes it, what it may, what it reaches."""
    header = (
        "role",
        "assumed by",
        "allowed (statement ids)",
        "stopped by",
        "closure reaches",
        "through",
    )
    rows = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for role in sorted(details["RoleDetailList"], key=lambda r: r["RoleName"]):
        full_name = role["RoleName"]
        if not full_name.startswith(f"{env.prefix}-"):
            continue
        name = env.short(full_name)
        documents = role_documents(details, role)
        stops = [f"deny `{sid}`" for sid in _sids(documents, "Deny")]
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            stops.insert(0, f"boundary `{boundary.rsplit('/', 1)[-1]}`")
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{name}`",
                    _trusted(role),
                    ", ".join(_sids(documents, "Allow")) or "nothing",
                    ", ".join(stops) or "nothing",
                    _reaches(
                        name,
                        full_name,
                        env,
                        analysis,
                        _trust_cell(name, role, documents, analysis),
                    ),
                    _paths(name, analysis),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def write_model(readme: Path, model: str) -> bool:
    """Replace the marked block of `readme` with `model`; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(MODEL_START) + len(MODEL_START), text.index(MODEL_END)
    updated = f"{text[:start]}\n{model}\n{text[end:]}"
    if updated == text:
        return False
    readme.write_text(updated, encoding="utf-8")
    return True


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gate.iam_analysis", description=__doc__)
    parser.add_argument("--endpoint", help="the emulator's URL; default: AWS")
    parser.add_argument(
        "--local-stack",
        action="store_true",
        help="analyse the running local stack (make dev; DEVSTACK_STATE_DIR, default .devstack)",
    )
    parser.add_argument("--prefix", default="secure-upload-local")
    parser.add_argument("--parameter-path", default="/secure-upload/local/")
    parser.add_argument(
        "--readme", type=Path, help="also write the security model table into this README"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    client: Callable[..., Any] = boto3.Session(region_name="us-east-1").client
    if args.local_stack:
        client = partial(local_client, read_local_stack())
    elif args.endpoint:
        client = partial(
            boto3.client,
            region_name="us-east-1",
            endpoint_url=args.endpoint,
            aws_access_key_id=LOCAL_CREDENTIAL,
            aws_secret_access_key=LOCAL_CREDENTIAL,
        )
    inputs = read_environment(client, args.prefix, args.parameter_path)
    analysis = analyse(
        inputs["details"],
        inputs["env"],
        bucket_policy=inputs["bucket_policy"],
        key_policy=inputs["key_policy"],
        functions=inputs["functions"],
    )
    print(report(analysis))
    if args.readme is not None:
        changed = write_model(
            args.readme, security_model(inputs["details"], inputs["env"], analysis)
        )
        print(f"{args.readme}: security model {'updated' if changed else 'unchanged'}")
    return 1 if analysis.findings else 0


if __name__ == "__main__":
    sys.exit(main())
