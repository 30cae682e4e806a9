"""Every inline checkov skip carries a reason a security reviewer can judge.

A skip is how a check that does not fit the design is waived next to the
code; without a reason it is just a silenced finding.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.security.tools import REPO_ROOT

# `# checkov:skip=CKV_AWS_1: reason` (also `//` in HCL); the reason is optional
# to checkov, mandatory here.
INLINE_SKIP = re.compile(r"(?:#|//)\s*checkov:skip=(?P<id>[A-Za-z0-9_]+)(?::?(?P<reason>.*))?$")
TRIVIAL = {"todo", "tbd", "n/a", "na", "none", "skip", "skipped", "ignore", "false positive",
           "not needed", "not applicable", "wip", "later", "fixme"}  # fmt: skip
MIN_WORDS = 4
MIN_CHARS = 20


def is_acceptable_reason(reason: str | None) -> bool:
    """At least a short sentence, not a placeholder."""
    text = (reason or "").strip().strip("-:.").strip()
    return len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS and text.lower() not in TRIVIAL


def _files() -> list[Path]:
    roots = [REPO_ROOT / "environments", REPO_ROOT / "modules"]
    files = [p for root in roots if root.is_dir() for p in root.rglob("*.tf")]
    files += list((REPO_ROOT / "services").glob("*/Dockerfile"))
    workflows = REPO_ROOT / ".github" / "workflows"
    if workflows.is_dir():
        files += sorted(workflows.glob("*.y*ml"))
    if (REPO_ROOT / "services" / "template.yaml").is_file():
        files.append(REPO_ROOT / "services" / "template.yaml")
    return sorted(files)


def inline_skips(text: str) -> list[tuple[int, str, str | None]]:
    """(line, check id, reason) for every `checkov:skip=` comment in text."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = INLINE_SKIP.search(line)
        if match:
            found.append((number, match["id"], match["reason"]))
    return found


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Ref, !Sub) as plain data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return None


_CfnLoader.add_multi_constructor("!", _any_tag)


def metadata_skips(template: str) -> list[tuple[str, str, str | None]]:
    """(resource, check id, comment) for every SAM/CloudFormation Metadata checkov skip."""
    data = yaml.load(template, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    found = []
    for name, resource in (data.get("Resources") or {}).items():
        checkov = ((resource or {}).get("Metadata") or {}).get("checkov") or {}
        for skip in checkov.get("skip") or []:
            found.append((name, str(skip.get("id")), skip.get("comment")))
    return found


def test_every_inline_skip_has_a_reason() -> None:
    bad = []
    for path in _files():
        text = path.read_text()
        rel = path.relative_to(REPO_ROOT)
        bad += [f"{rel}:{line} {check}" for line, check, reason in inline_skips(text)
                if not is_acceptable_reason(reason)]  # fmt: skip
        if path.name == "template.yaml":
            bad += [f"{rel} {res} {check}" for res, check, comment in metadata_skips(text)
                    if not is_acceptable_reason(comment)]  # fmt: skip
    assert not bad, "checkov skips without a reason (write why the check does not apply):\n" + (
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


def test_skip_parsers_find_every_form() -> None:
    hcl = (
        'resource "aws_s3_bucket" "logs" {\n'
        "  # checkov:skip=CKV_AWS_145: server access logs only support SSE-S3 targets\n"
        "  # checkov:skip=CKV_AWS_18\n"
        "}\n"
    )
    assert inline_skips(hcl) == [
        (2, "CKV_AWS_145", " server access logs only support SSE-S3 targets"),
        (3, "CKV_AWS_18", ""),
    ]
    sam = (
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n"
        "      checkov:\n        skip:\n          - id: CKV_AWS_117\n"
        "            comment: no VPC resources to reach\n"
        "    Properties:\n      Role: !GetAtt Role.Arn\n"
    )
    assert metadata_skips(sam) == [("Fn", "CKV_AWS_117", "no VPC resources to reach")]
