"""The IAM that Terraform applied has no escalation path: principalmapper plus our checks.

The analysis reads the emulator's authorization details, the bucket and key
policies and the functions, as it would read an AWS account. The second test
restores finding 1 of the security review (the Terraform role could create or
re-trust roles under our prefix without a permissions boundary) and shows the
analysis turns red on it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from devstack import definitions as d
from gate.iam_analysis import (
    MODEL_END,
    MODEL_START,
    Analysis,
    analyse,
    read_environment,
    report,
    security_model,
)
from tests.e2e.conftest import RunningStack

PREFIX = f"{d.PROJECT}-{d.ENVIRONMENT}"
REPO_ROOT = d.REPO_ROOT


@pytest.fixture(scope="module")
def applied(stack: RunningStack) -> dict[str, Any]:
    return read_environment(stack.client, PREFIX, d.PARAMETER_PATH)


def run(applied: dict[str, Any], details: dict[str, Any] | None = None) -> Analysis:
    return analyse(
        details or applied["details"],
        applied["env"],
        bucket_policy=applied["bucket_policy"],
        key_policy=applied["key_policy"],
        functions=applied["functions"],
    )


def test_no_escalation_path_in_the_applied_iam(applied: dict[str, Any]) -> None:
    analysis = run(applied)
    assert analysis.findings == [], report(analysis)
    # The analysis saw the roles Terraform created, boundaries included.
    names = {node.arn.rsplit("/", 1)[-1] for node in analysis.nodes}
    assert {f"{PREFIX}-github-terraform", f"{PREFIX}-upload-api", f"{PREFIX}-processor"} <= names
    bounded = {n.arn.rsplit("/", 1)[-1] for n in analysis.nodes if n.permissions_boundary}
    assert f"{PREFIX}-upload-api" in bounded


def test_only_the_workload_roles_reach_upload_data(applied: dict[str, Any]) -> None:
    analysis = run(applied)
    readers = {f.source for f, _ in analysis.accepted} | {f.source for f in analysis.findings}
    data = [f for f in analysis.findings if f.target == "upload-data"]
    assert data == [], report(analysis)
    assert applied["env"].data_roles == {
        f"{PREFIX}-upload-api",
        f"{PREFIX}-processor",
        f"{PREFIX}-malware-scan",
    }
    assert readers <= {f"{PREFIX}-github-deploy"}


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
    (guard_rails,) = [p for p in restored["Policies"] if p["Arn"].endswith("-guard-rails")]
    for version in guard_rails["PolicyVersionList"]:
        document = version["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") not in added]
        version["Document"] = document
    return restored


def test_restoring_finding_1_turns_the_analysis_red(applied: dict[str, Any]) -> None:
    analysis = run(applied, restore_finding_1(applied["details"]))
    found = {(f.source, f.target, f.how) for f in analysis.findings}
    terraform = f"{PREFIX}-github-terraform"
    assert (terraform, "admin", "can create a role without the permissions boundary") in found
    for workload in ("upload-api", "processor", "processing-sfn", "files-stream-pipe"):
        edge = (terraform, f"{PREFIX}-{workload}", "can update the trust document to access")
        assert edge in found, report(analysis)
    assert json.dumps(applied["details"], default=str).count("restored") == 0  # untouched


def test_the_readme_security_model_is_the_applied_iam(applied: dict[str, Any]) -> None:
    analysis = run(applied)
    generated = security_model(applied["details"], applied["env"], analysis)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(MODEL_START) + len(MODEL_START)
    written = readme[start : readme.index(MODEL_END)].strip()
    assert written == generated, (
        "README's security model is stale: make dev, then make security-model"
    )
