"""Reading the smoke role and its secret out of modules/github-oidc (python-hcl2)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[3]
GITHUB_OIDC = ROOT / "modules" / "github-oidc"
SMOKE_TF = GITHUB_OIDC / "smoke.tf"


def text(value: Any) -> str:
    """A python-hcl2 string literal without its quotes."""
    literal = str(value)
    return literal[1:-1] if len(literal) >= 2 and literal[0] == literal[-1] == '"' else literal


@cache
def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = hcl2.load(handle)
    return loaded


def blocks(path: Path, kind: str, type_name: str) -> dict[str, dict[str, Any]]:
    """Every `kind "type_name" "name"` block of a file, by name."""
    found: dict[str, dict[str, Any]] = {}
    for entry in load(path).get(kind, []):
        for type_key, named in entry.items():
            if text(type_key) == type_name:
                found.update({text(name): body for name, body in named.items()})
    return found


def statements(path: Path, document: str) -> list[dict[str, Any]]:
    """The statements of `data "aws_iam_policy_document" "<document>"`, quotes removed."""
    body = blocks(path, "data", "aws_iam_policy_document")[document]
    return [_plain(statement) for statement in body["statement"]]


def module_statements() -> list[dict[str, Any]]:
    """Every policy-document statement of every file of modules/github-oidc."""
    return [
        _plain(statement)
        for path in sorted(GITHUB_OIDC.glob("*.tf"))
        for body in blocks(path, "data", "aws_iam_policy_document").values()
        for statement in body.get("statement", [])
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return text(value) if isinstance(value, str) else value
