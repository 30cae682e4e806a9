"""Privilege-escalation analysis of the IAM that Terraform applied.

    python -m gate.iam_analysis --endpoint http://127.0.0.1:5000 [--markdown]

Reads the account's authorization details (GetAccountAuthorizationDetails),
the upload bucket's and the environment key's resource policies and the
functions, from the emulator the local stack applied Terraform into (or from
AWS, with credentials and no --endpoint). principalmapper builds the graph of
who can become whom (sts:AssumeRole, trust-policy rewrites, Lambda functions
that run as a role) and evaluates each question with its IAM policy engine.
On top of its edges this module asks what principalmapper does not, because
its checks use the resource "*" and miss permissions scoped to our names:

- can the principal create a role without the permissions boundary (and so
  give it any policy), or take a role's boundary off, or rewrite the boundary;
- can it create a function, under our names, that runs as a role;
- can it read upload data: objects in the upload bucket (with its bucket
  policy), items of the metadata table, or decrypt with the environment key
  (with its key policy).

A finding is any path from one of our roles to admin, to another role, or to
upload data, other than the workload roles' own access. Accepted paths live in
tests/tooling/gate/iam-exceptions.yaml, each with its reason.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import yaml

from devstack.definitions import MOTO_CREDENTIAL
from devstack.stack import DEFAULT_STATE_DIR, load_state, published_parameters, stack_client

# principalmapper 1.1.5 imports collections.Mapping & co., which moved to
# collections.abc in Python 3.10.
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.graphing import gathering, iam_edges, lambda_edges, sts_edges  # noqa: E402
from principalmapper.querying import query_interface  # noqa: E402

EXCEPTIONS_FILE = Path(__file__).with_name("iam-exceptions.yaml")
PROBE = "escalation-probe"  # a name under our prefix that nothing creates


@dataclass(frozen=True)
class Environment:
    """What the analysis needs to know about one applied environment."""

    account_id: str
    prefix: str  # <project>-<env>
    bucket: str
    table_arn: str
    key_arn: str
    data_roles: frozenset[str]  # role names that read upload data by design


@dataclass(frozen=True)
class Finding:
    source: str
    target: str
    how: str

    def key(self) -> tuple[str, str]:
        return (self.source, self.target)

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}: {self.how}"


@dataclass
class Analysis:
    nodes: list[Node]
    findings: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, str]] = field(default_factory=list)


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
    context: dict[str, str] | None = None,
    *,
    resource_policy: dict[str, Any] | None = None,
    owner: str | None = None,
) -> bool:
    return bool(
        query_interface.local_check_authorization_full(
            node, action, resource, context or {}, resource_policy, owner
        )
    )


def _escalation_findings(node: Node, env: Environment, roles: list[Node]) -> Iterator[Finding]:
    me = _role_name(node.arn)
    role_arn = f"arn:aws:iam::{env.account_id}:role"
    probe_role = f"{role_arn}/{env.prefix}-{PROBE}"
    if _allowed(node, "iam:CreateRole", probe_role):
        yield Finding(me, "admin", "can create a role without the permissions boundary")
    for role in roles:
        if role is node:
            continue
        name = _role_name(role.arn)
        if role.permissions_boundary is not None and _allowed(
            node, "iam:DeleteRolePermissionsBoundary", role.arn
        ):
            yield Finding(me, name, "can take the role's permissions boundary off")
        if isinstance(role.permissions_boundary, Policy) and _allowed(
            node, "iam:CreatePolicyVersion", role.permissions_boundary.arn
        ):
            yield Finding(me, "admin", f"can rewrite the permissions boundary of {name}")
        lambda_trusted = "lambda.amazonaws.com" in json.dumps(role.trust_policy)
        if (
            lambda_trusted
            and _allowed(
                node, "iam:PassRole", role.arn, {"iam:PassedToService": "lambda.amazonaws.com"}
            )
            and _allowed(
                node,
                "lambda:CreateFunction",
                f"arn:aws:lambda:us-east-1:{env.account_id}:function:{env.prefix}-{PROBE}",
            )
        ):
            yield Finding(me, name, "can create a function with its own code that runs as the role")


def _data_findings(
    node: Node, env: Environment, bucket_policy: dict[str, Any] | None, key_policy: dict[str, Any]
) -> Iterator[Finding]:
    me = _role_name(node.arn)
    checks = (
        ("s3:GetObject", f"arn:aws:s3:::{env.bucket}/uploads/user/file/name", bucket_policy),
        ("dynamodb:GetItem", env.table_arn, None),
        ("dynamodb:Query", f"{env.table_arn}/index/any", None),
        ("kms:Decrypt", env.key_arn, key_policy),
    )
    for action, resource, policy in checks:
        owner = env.account_id if policy is not None else None
        if _allowed(node, action, resource, resource_policy=policy, owner=owner):
            yield Finding(me, "upload-data", f"can {action} on {resource}")


def analyse(
    details: dict[str, Any],
    env: Environment,
    *,
    bucket_policy: dict[str, Any] | None,
    key_policy: dict[str, Any],
    functions: list[dict[str, Any]],
    exceptions: dict[tuple[str, str], str] | None = None,
) -> Analysis:
    """Findings and accepted paths; `exceptions` as in the file (default: the file itself)."""
    nodes = build_nodes(details)
    ours = [n for n in nodes if _role_name(n.arn).startswith(f"{env.prefix}-")]
    edges = [
        *iam_edges.generate_edges_locally(nodes),
        *sts_edges.generate_edges_locally(nodes),
        *lambda_edges.generate_edges_locally(nodes, functions),
    ]
    found: list[Finding] = []
    for node in ours:
        me = _role_name(node.arn)
        if node.is_admin:
            found.append(Finding(me, "admin", "is an administrator (can grant itself anything)"))
        found += [
            Finding(me, _role_name(e.destination.arn), e.reason)
            for e in edges
            if e.source is node and e.destination is not node
        ]
        found += _escalation_findings(node, env, ours)
        if me not in env.data_roles:
            found += _data_findings(node, env, bucket_policy, key_policy)
    analysis = Analysis(nodes=nodes)
    accepted = with_prefix(exceptions if exceptions is not None else load_exceptions(), env.prefix)
    for finding in found:
        reason = accepted.get(finding.key())
        if reason is None:
            analysis.findings.append(finding)
        else:
            analysis.accepted.append((finding, reason))
    return analysis


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> dict[tuple[str, str], str]:
    """(source, target) -> reason; role names are written without their <project>-<env>-."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out: dict[tuple[str, str], str] = {}
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if len(reason) < 20:
            raise ValueError(f"exception {entry} needs a reason a reviewer would accept")
        out[(entry["source"], entry["target"])] = reason
    return out


def with_prefix(exceptions: dict[tuple[str, str], str], prefix: str) -> dict[tuple[str, str], str]:
    def named(role: str) -> str:
        return role if role in {"admin", "upload-data"} else f"{prefix}-{role}"

    return {(named(s), named(t)): reason for (s, t), reason in exceptions.items()}


# ------------------------------------------------------------ reading an applied environment


def read_environment(
    client: Callable[[str], Any], prefix: str, parameter_path: str
) -> dict[str, Any]:
    """Everything analyse() needs, read from an applied environment with `client(service)`."""
    parameters = published_parameters(client("ssm"), parameter_path)
    account_id = client("sts").get_caller_identity()["Account"]
    bucket = parameters["upload_bucket_name"]
    table = parameters["files_table_name"]
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
    env = Environment(
        account_id=account_id,
        prefix=prefix,
        bucket=bucket,
        table_arn=f"arn:aws:dynamodb:us-east-1:{account_id}:table/{table}",
        key_arn=key_arn,
        data_roles=frozenset(
            {
                _role_name(parameters["upload_api_role_arn"]),
                _role_name(parameters["processor_role_arn"]),
                # GuardDuty Malware Protection reads each new object to scan it.
                _role_name(parameters["malware_scan_role_arn"]),
            }
        ),
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
    lines = [f"IAM escalation analysis: {found} finding(s), {accepted} accepted"]
    lines += [f"  FINDING  {f}" for f in analysis.findings]
    lines += [f"  accepted {f}  ({reason})" for f, reason in analysis.accepted]
    return "\n".join(lines)


# ------------------------------------------------------------ the README's security model

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
                if kind == "Federated" and "token.actions.githubusercontent.com" in identity:
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


def security_model(details: dict[str, Any], env: Environment, analysis: Analysis) -> str:
    """One row per role of the environment: who assumes it, what it may, what stops it."""
    header = ("role", "assumed by", "allowed (statement ids)", "stopped by", "reads upload data")
    rows = [
        "| " + " | ".join((*header, "paths to other roles")) + " |",
        "|---" * (len(header) + 1) + "|",
    ]
    short = len(env.prefix) + 1
    for role in sorted(details["RoleDetailList"], key=lambda r: r["RoleName"]):
        name = role["RoleName"]
        if not name.startswith(f"{env.prefix}-"):
            continue
        documents = role_documents(details, role)
        stops = [f"deny `{sid}`" for sid in _sids(documents, "Deny")]
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            stops.insert(0, f"boundary `{boundary.rsplit('/', 1)[-1]}`")
        paths = sorted(
            {
                f"{f.target[short:] if f.target.startswith(env.prefix) else f.target} (accepted)"
                for f, _ in analysis.accepted
                if f.source == name
            }
            | {f"{f.target} (FINDING)" for f in analysis.findings if f.source == name}
        )
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{name[short:]}`",
                    _trusted(role),
                    ", ".join(_sids(documents, "Allow")) or "nothing",
                    ", ".join(stops) or "nothing",
                    "yes (by design)" if name in env.data_roles else "no",
                    ", ".join(paths) or "none",
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
        state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
        state = load_state(state_dir)
        client = partial(stack_client, state)
    elif args.endpoint:
        client = partial(
            boto3.client,
            region_name="us-east-1",
            endpoint_url=args.endpoint,
            aws_access_key_id=MOTO_CREDENTIAL,
            aws_secret_access_key=MOTO_CREDENTIAL,
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
