"""Shared helpers for the CKV_SUP_* checks (no checks are defined here).

Checkov hands a check each attribute wrapped in a one-element list, turns
`jsonencode({...})` and most heredoc JSON into dicts, and leaves anything it
cannot evaluate (a `data.aws_iam_policy_document.x.json` reference) as a
string. These helpers normalise all of that into IAM-JSON-shaped statements
so every rule reasons about one shape.

Pure Python on purpose: the application environment imports this module in
unit tests without checkov installed.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

Statement = dict[str, Any]

# Attribute names of aws_iam_policy_document statements -> IAM JSON keys.
_DOC_LIST_KEYS = {
    "actions": "Action",
    "not_actions": "NotAction",
    "resources": "Resource",
    "not_resources": "NotResource",
}
_WILDCARD = re.compile(r"[*?]")
# When a jsonencode() argument holds an interpolation such as
# "${aws_s3_bucket.this.arn}/*", checkov gives up and returns the call as text
# in Python-literal form, with the interpolation quoted twice:
# ''aws_s3_bucket.this.arn'/*'. Undo that so the literal can be read.
_JSONENCODE = re.compile(r"^\s*jsonencode\((?P<body>.*)\)\s*$", re.DOTALL)
_DOUBLE_QUOTED_INTERPOLATION = re.compile(r"''([^'\s]*)'([^'\s]*)'")
_REFERENCE = re.compile(r"^\$?\{?(data|module|var|local)\.")


def unwrap(value: Any) -> Any:
    """Checkov wraps every HCL attribute value in a list; take the value out."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def first(conf: Mapping[str, Any], key: str) -> Any:
    """The unwrapped value of `key`, or None when the attribute is absent."""
    return unwrap(conf[key]) if key in conf else None


def block(conf: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """The first nested block `key` (a dict), or None."""
    value = first(conf, key)
    return value if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any]:
    """Flatten checkov's nested single-element lists and scalars into one list."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            out.extend(as_list(item))
        return out
    return [value]


def as_str_list(value: Any) -> list[str]:
    return [str(item) for item in as_list(value)]


def has_wildcard(text: str) -> bool:
    return bool(_WILDCARD.search(text))


def is_set(value: Any) -> bool:
    """True when an attribute carries a real value (not null, "" or an empty list)."""
    value = unwrap(value)
    return value not in (None, "", [], {}) and str(value).lower() not in ("null", "none")


def is_true(value: Any) -> bool:
    value = unwrap(value)
    return value is True or str(value).lower() == "true"


def is_reference(value: Any) -> bool:
    """An expression checkov left unevaluated (data source, module output, variable)."""
    return isinstance(value, str) and _REFERENCE.match(value.strip()) is not None


def parse_policy(value: Any) -> dict[str, Any] | None:
    """A policy attribute as a dict, or None when it cannot be read.

    jsonencode() and heredocs usually arrive as dicts; a heredoc checkov did not
    parse arrives as JSON text; a jsonencode() checkov could not render arrives
    as Python-literal text; a reference (see is_reference) stays opaque.
    """
    value = unwrap(value)
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or is_reference(value):
        return None
    parsed: Any = None
    try:
        parsed = json.loads(value)
    except ValueError:
        match = _JSONENCODE.match(value)
        if match:
            body = _DOUBLE_QUOTED_INTERPOLATION.sub(r"'\1\2'", match.group("body"))
            try:
                parsed = ast.literal_eval(body)  # literals only: never evaluates code
            except (ValueError, SyntaxError):
                parsed = None
    return parsed if isinstance(parsed, dict) else None


def policy_statements(policy: Mapping[str, Any]) -> list[Statement]:
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]


def _doc_principal(principals: list[Any]) -> Any:
    """aws_iam_policy_document principals blocks -> IAM JSON Principal."""
    merged: dict[str, list[str]] = {}
    for principal in principals:
        if not isinstance(principal, dict):
            continue
        kind = str(unwrap(principal.get("type")))
        identifiers = as_str_list(principal.get("identifiers"))
        if kind == "*" and identifiers == ["*"]:
            return "*"
        merged.setdefault(kind, []).extend(identifiers)
    return merged


# A for_each value checkov resolved: a plain word, not an expression left as text.
_CONCRETE = re.compile(r"^(?!(var|local|module|data|each|count)\.)[A-Za-z0-9_.:/-]+$")


def _dynamic_statements(conf: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`dynamic "statement"` blocks whose for_each checkov resolved to concrete values, once
    per value. checkov leaves them unrendered in data blocks; an unresolved for_each (an
    expression) counts as no statement, so a rule that requires a Deny fails closed."""
    found: list[dict[str, Any]] = []
    for entry in as_list(conf.get("dynamic")):
        body = entry.get("statement") if isinstance(entry, dict) else None
        if not isinstance(body, dict):
            continue
        values = as_list(body.get("for_each"))
        if not values or not all(isinstance(v, str) and _CONCRETE.match(v) for v in values):
            continue
        content = [c for c in as_list(body.get("content")) if isinstance(c, dict)]
        found += content * len(values)
    return found


def document_statements(conf: Mapping[str, Any]) -> list[Statement]:
    """aws_iam_policy_document statement blocks (static and dynamic) as IAM JSON statements."""
    statements: list[Statement] = []
    for raw in [*as_list(conf.get("statement")), *_dynamic_statements(conf)]:
        if not isinstance(raw, dict):
            continue
        statement: Statement = {"Effect": str(unwrap(raw.get("effect")) or "Allow")}
        for doc_key, json_key in _DOC_LIST_KEYS.items():
            if doc_key in raw:
                statement[json_key] = as_str_list(raw[doc_key])
        if raw.get("principals"):
            statement["Principal"] = _doc_principal(as_list(raw["principals"]))
        if raw.get("not_principals"):
            statement["NotPrincipal"] = _doc_principal(as_list(raw["not_principals"]))
        conditions: dict[str, dict[str, list[str]]] = {}
        for cond in as_list(raw.get("condition")):
            if isinstance(cond, dict):
                test = str(unwrap(cond.get("test")))
                variable = str(unwrap(cond.get("variable")))
                values = as_str_list(cond.get("values"))
                conditions.setdefault(test, {}).setdefault(variable, []).extend(values)
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return statements


def is_allow(statement: Statement) -> bool:
    return str(statement.get("Effect", "")).lower() == "allow"


def actions(statement: Statement) -> list[str]:
    return as_str_list(statement.get("Action"))


def resources(statement: Statement) -> list[str]:
    return as_str_list(statement.get("Resource"))


def has_principal(statement: Statement) -> bool:
    """Resource policies name principals; identity policies never do."""
    return "Principal" in statement or "NotPrincipal" in statement


def conditions(statement: Statement) -> dict[str, dict[str, list[str]]]:
    """Condition block as {operator: {key: [values]}} with keys lower-cased."""
    out: dict[str, dict[str, list[str]]] = {}
    raw = statement.get("Condition")
    if not isinstance(raw, dict):
        return out
    for operator, raw_entries in raw.items():
        entries = unwrap(raw_entries)
        if isinstance(entries, dict):
            for key, values in entries.items():
                bucket = out.setdefault(str(operator), {})
                bucket.setdefault(str(key).lower(), []).extend(as_str_list(values))
    return out


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards in the pattern."""
    regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, action.lower()) is not None


def any_action_matches(patterns: Iterable[str], candidates: Iterable[str]) -> bool:
    candidates = list(candidates)
    return any(action_matches(p, c) for p in patterns for c in candidates)


# ----------------------------------------------------------------- references and ARNs

_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
# checkov leaves `format(local.prefix, "kms")` as text with the local's value
# inlined: format(a:%s:b:c, "kms"). Evaluate that one-argument form.
_FORMAT_CALL = re.compile(r'format\(([^,()]*),\s*"([^"]*)"\)')
# Services whose ARN resource part starts with the resource's name, not a type.
_NAME_FIRST_SERVICES = frozenset({"s3", "sqs", "sns"})


def normalise_expression(value: Any) -> str:
    """Text of an attribute with `${...}` unwrapped and format() calls applied.

    `"${aws_s3_bucket.b.arn}/*"`, `aws_s3_bucket.b.arn/*` (checkov's jsonencode
    fallback) and the rendered form all become `aws_s3_bucket.b.arn/*`.
    """
    text = str(unwrap(value)).strip()
    text = _FORMAT_CALL.sub(lambda m: m.group(1).replace("%s", m.group(2), 1), text)
    previous = None
    while previous != text:
        previous, text = text, _INTERPOLATION.sub(r"\1", text)
    return text.strip()


def is_broad_resource(value: Any) -> bool:
    """A Resource entry that does not name a resource of ours.

    Broad: `*`; an ARN with a wildcard service, region or account; an ARN whose
    resource part has no concrete name before its first wildcard (`key/*`,
    `table/*`, `*/*`, `log-group:*`, `/apis/*`). References (`var.x`,
    `aws_s3_bucket.b.arn/*`) name one resource of ours and are not broad.
    """
    text = normalise_expression(value)
    if not text or text.startswith(("*", "?")):
        return True
    if not text.startswith("arn:"):
        return False
    parts = text.split(":", 5)
    if len(parts) < 6:
        return has_wildcard(text)  # malformed: fail closed when it has a wildcard
    _, _, service, region, account, resource = parts
    if has_wildcard(service) or has_wildcard(region) or has_wildcard(account):
        return True
    match = _WILDCARD.search(resource)
    if match is None:
        return False
    segments = re.split(r"[:/]", resource[: match.start()].lstrip("/"))
    if service.lower() not in _NAME_FIRST_SERVICES:
        segments = segments[1:]  # the resource type (key/, table/, function:)
    return not any(segments)


def reference_target(value: Any) -> str | None:
    """`aws_s3_bucket.b` for `aws_s3_bucket.b.id` / `${aws_s3_bucket.b.arn}`, else None."""
    match = re.fullmatch(
        r"(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.[a-z_]+", normalise_expression(value)
    )
    return match.group(1) if match else None


def graph_blocks(graph: Any) -> list[dict[str, Any]]:
    """Vertex attributes of checkov's graph (rustworkx by default, networkx optional)."""
    if graph is None:
        return []
    if type(graph).__module__.startswith("networkx"):
        return [attrs for _, attrs in graph.nodes(data=True) if isinstance(attrs, dict)]
    return [
        node[1]
        for node in graph.nodes()
        if isinstance(node, tuple) and len(node) == 2 and isinstance(node[1], dict)
    ]


def find_block(graph: Any, block_type: str, address: str) -> dict[str, Any] | None:
    """The configuration (checkov's list-wrapped shape) of the block at `address`."""
    for attrs in graph_blocks(graph):
        if attrs.get("block_type_") != block_type or attrs.get("__address__") != address:
            continue
        config = attrs.get("config_")
        if isinstance(config, dict):
            for by_name in config.values():
                if isinstance(by_name, dict):
                    for conf in by_name.values():
                        if isinstance(conf, dict):
                            return conf
        return attrs
    return None


def module_prefix(address: str, entity_type: str) -> str:
    """`module.a.module.b.` for `module.a.module.b.<type>.<name>`; "" at the root."""
    index = address.rfind(f"{entity_type}.")
    return address[:index] if index > 0 else ""


_DOCUMENT = re.compile(r"^data\.aws_iam_policy_document\.(?P<name>[A-Za-z0-9_-]+)\.json$")


def attached_statements(
    graph: Any, conf: Mapping[str, Any], attribute: str, entity_type: str
) -> list[Statement] | None:
    """Statements of the policy `attribute` sets: inline JSON (jsonencode, heredoc) or the
    connected data.aws_iam_policy_document of the same module; None when unreadable."""
    raw = first(conf, attribute)
    policy = parse_policy(raw)
    if policy is not None:
        return policy_statements(policy)
    match = _DOCUMENT.match(normalise_expression(raw)) if raw is not None else None
    if match is None:
        return None
    prefix = module_prefix(str(conf.get("__address__", "")), entity_type)
    document = find_block(graph, "data", f"{prefix}aws_iam_policy_document.{match['name']}")
    return document_statements(document) if document is not None else None
