"""Every inline suppression carries a reason a security reviewer can judge.

A skip is how a check that does not fit the design is waived next to the
code; without a reason it is just a silenced finding. checkov skips (all three
prefixes checkov honours) are looked for in every project file, because
checkov's secrets framework reads every file; so are other scanners'
suppressions (zizmor, bandit `nosec`, hadolint, detect-secrets' allowlist
pragma), whose reason may also be the comment directly above.
`make scan` fails on a checkov skip without a reason and lists every
suppression in policies/reports/SUMMARY.md.
"""

from __future__ import annotations

import pytest

from gate.suppressions import (
    find_suppressions,
    is_acceptable_reason,
    project_suppressions,
)
from gate.tools import REPO_ROOT
from tests.devstack.cloudformation import load_template

# Markers are assembled so this file does not itself contain suppressions.
SKIP = "checkov" + ":skip="
BRIDGECREW = "bridgecrew" + ":skip="
CORTEX = "cortex" + ":skip="
NOSEC = "# no" + "sec"
ZIZMOR = "# zizmor" + ": ignore[unpinned-uses]"
HADOLINT = "# hadolint" + " ignore=DL3008"
ALLOWLIST = "# pragma" + ": allowlist secret"


def metadata_skips(template: str) -> list[tuple[str, str, str | None]]:
    """(resource, check id, comment) for every SAM/CloudFormation Metadata checkov skip."""
    data = load_template(template)
    found = []
    for name, resource in (data.get("Resources") or {}).items():
        checkov = ((resource or {}).get("Metadata") or {}).get("checkov") or {}
        for skip in checkov.get("skip") or []:
            found.append((name, str(skip.get("id")), skip.get("comment")))
    return found


def test_every_suppression_in_the_project_has_a_reason() -> None:
    bad = [
        f"{s.file}:{s.line} {s.tool} {s.ids or '(no id)'}"
        for s in project_suppressions(REPO_ROOT)
        if not is_acceptable_reason(s.reason)
    ]
    template = REPO_ROOT / "services" / "template.yaml"
    if template.is_file():
        bad += [f"services/template.yaml {res} {check}"
                for res, check, comment in metadata_skips(template.read_text())
                if not is_acceptable_reason(comment)]  # fmt: skip
    assert not bad, "suppressions without a reason (write why the finding does not apply):\n" + (
        "\n".join(bad)
    )


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        (" access-log bucket: S3 server access logging only supports SSE-S3", True),
        ("", False),
        (None, False),
        (" TODO", False),
        (": false positive", False),
        ("not needed here", False),
    ],
)
def test_reason_rule(reason: str | None, ok: bool) -> None:
    assert is_acceptable_reason(reason) is ok


def test_checkov_skip_forms() -> None:
    hcl = (
        'resource "aws_s3_bucket" "logs" {\n'
        f"  # {SKIP}CKV_AWS_145: server access logs only support SSE-S3 targets\n"
        f"  # {SKIP}CKV_AWS_18\n"
        f"  # {BRIDGECREW}CKV_AWS_144: one region by design, no replica wanted\n"
        f"  // {CORTEX}CKV2_AWS_62\n"
        f"  # {SKIP} CKV_AWS_21,CKV_AWS_19: spaces after the equals sign count too\n"
        "}\n"
    )
    found = [(s.line, s.ids, s.reason) for s in find_suppressions(hcl, "main.tf")]
    assert found == [
        (2, "CKV_AWS_145", "server access logs only support SSE-S3 targets"),
        (3, "CKV_AWS_18", ""),
        (4, "CKV_AWS_144", "one region by design, no replica wanted"),
        (5, "CKV2_AWS_62", ""),
        (6, "CKV_AWS_21,CKV_AWS_19", "spaces after the equals sign count too"),
    ]


def test_other_tools_suppressions_and_reason_above() -> None:
    text = "\n".join([
        f"import subprocess  {NOSEC} B404  # starts only our own interpreter",
        f"x = run(cmd)  # noqa: S603  {NOSEC} B603",
        "# The action is this repository's own composite action at this commit.",
        f"      - uses: ./.github/actions/setup {ZIZMOR}",
        f"{HADOLINT}",
        f"value = load()  {ALLOWLIST}  (moto accepts any value in its tests)",
    ])  # fmt: skip
    found = [(s.tool, s.ids, s.line, is_acceptable_reason(s.reason))
             for s in find_suppressions(text, "f")]  # fmt: skip
    assert found == [
        ("bandit", "B404", 1, True),
        ("bandit", "B603", 2, False),
        ("zizmor", "unpinned-uses", 4, True),
        ("hadolint", "DL3008", 5, False),
        ("detect-secrets", "secret", 6, True),
    ]


def test_metadata_skips() -> None:
    sam = (
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n"
        "      checkov:\n        skip:\n          - id: CKV_AWS_117\n"
        "            comment: no VPC resources to reach\n"
        "    Properties:\n      Role: !GetAtt Role.Arn\n"
    )
    assert metadata_skips(sam) == [("Fn", "CKV_AWS_117", "no VPC resources to reach")]
