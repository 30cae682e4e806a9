"""Offline stand-in for `terraform validate` (no terraform binary in the gate).

Parses every .tf file under modules/ and environments/ with python-hcl2 and
checks, per directory (one Terraform module each):

- module calls pass only declared variables and every required one, and the
  local source exists;
- every var., local., module., data. and resource reference resolves, and
  module.X.Y names an output Y of the called module;
- every aws_* resource and data source matches the vendored provider schema:
  the type exists, every argument and nested block is known, required
  arguments and blocks are present, no computed-only attribute is set
  (arguments named `description` are accepted unchecked: stripping the
  descriptions from the dump also removed those attributes);
- file()/templatefile() paths under path.module exist;
- environment roots (dev, stage, prod) declare no resources or data sources
  and call only the composition module.

Usage: python -m tests.infra.validate_terraform [ROOT]. Prints one
`file: message` line per error and exits 1 when there is any.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "aws-provider-schema-6.47.0.json.gz"
SCANNED_DIRS = ("modules", "environments")
ENVIRONMENT_ROOTS = ("dev", "stage", "prod")
COMPOSITION_MODULE = "modules/platform"

# Arguments Terraform itself handles on every resource / data source / module.
RESOURCE_META = {"count", "for_each", "depends_on", "lifecycle", "provider"}
RESOURCE_ONLY_META = {"provisioner", "connection"}
MODULE_META = {"source", "version", "providers", "count", "for_each", "depends_on"}
HCL2_MARKER = "__is_block__"
# The vendored dump had its descriptions stripped, which also removed every
# attribute named "description"; such arguments are accepted unchecked.
STRIPPED_ATTRIBUTES = {"description"}

REFERENCE = re.compile(
    r"(?<![\w.])(var|local|module|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?"
)
RESOURCE_REFERENCE = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")
MODULE_FILE = re.compile(r"(?:file|templatefile)\(\s*\"\$\{path\.module\}/([^\"]+)\"")

Schema = dict[str, Any]
Body = dict[str, Any]


@dataclass(frozen=True, order=True)
class Finding:
    """One validation error, reported as `file: message`."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class ModuleDir:
    """What one directory of .tf files declares."""

    path: Path
    variables: dict[str, bool] = field(default_factory=dict)  # name -> required
    outputs: set[str] = field(default_factory=set)
    locals: set[str] = field(default_factory=set)
    module_calls: list[tuple[Path, str, Body]] = field(default_factory=list)
    # (file, "resource" | "data", type, name, body)
    blocks: list[tuple[Path, str, str, str, Body]] = field(default_factory=list)
    # every (file, parsed document) for reference scanning
    documents: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


def unquote(text: str) -> str:
    """hcl2 keeps the quotes of block labels and string literals."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get(HCL2_MARKER) for item in value)
    )


def labelled(entries: list[dict[str, Any]]) -> Iterator[tuple[str, Body]]:
    """Yield (label, body) of blocks with one label (variable, output, module)."""
    for entry in entries:
        for label, body in entry.items():
            yield unquote(label), body


def doubly_labelled(entries: list[dict[str, Any]]) -> Iterator[tuple[str, str, Body]]:
    """Yield (type, name, body) of resource and data blocks."""
    for entry in entries:
        for type_label, named in entry.items():
            for name, body in named.items():
                yield unquote(type_label), unquote(name), body


def load_module_dir(path: Path, root: Path, findings: list[Finding]) -> ModuleDir:
    module = ModuleDir(path=path)
    for tf_file in sorted(path.glob("*.tf")):
        rel = tf_file.relative_to(root)
        try:
            with tf_file.open(encoding="utf-8") as handle:
                document: dict[str, Any] = hcl2.load(handle)
        except Exception as error:  # lark and hcl2 raise many unrelated types: report any
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            findings.append(Finding(str(rel), f"cannot parse: {first_line}"))
            continue
        module.documents.append((tf_file, document))
        for name, body in labelled(document.get("variable", [])):
            module.variables[name] = "default" not in body
        module.outputs.update(name for name, _ in labelled(document.get("output", [])))
        for entry in document.get("locals", []):
            module.locals.update(key for key in entry if not key.startswith("__"))
        for name, body in labelled(document.get("module", [])):
            module.module_calls.append((tf_file, name, body))
        for kind in ("resource", "data"):
            for type_name, name, body in doubly_labelled(document.get(kind, [])):
                module.blocks.append((tf_file, kind, type_name, name, body))
    return module


@cache
def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


# ------------------------------------------------------------------ schema checks


def _dotted(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _check_blocks(
    key: str, items: list[Body], spec: Schema, where: str, is_resource: bool
) -> list[str]:
    messages: list[str] = []
    max_items = 1 if spec.get("nesting_mode") == "single" else spec.get("max_items")
    if max_items is not None and len(items) > max_items:
        messages.append(f'at most {max_items} "{_dotted(where, key)}" block(s) allowed')
    for item in items:
        messages += check_body(item, spec["block"], _dotted(where, key), is_resource)
    return messages


def _check_attribute(key: str, attributes: Mapping[str, Any], where: str) -> list[str]:
    if key not in attributes:
        return [f'unknown argument "{_dotted(where, key)}"']
    attribute = attributes[key]
    if attribute.get("computed") and not (attribute.get("optional") or attribute.get("required")):
        return [f'computed-only attribute "{_dotted(where, key)}" cannot be set']
    return []


def _check_required(body: Body, block: Schema, where: str, present_blocks: set[str]) -> list[str]:
    messages = [
        f'missing required argument "{_dotted(where, name)}"'
        for name, attribute in sorted(block.get("attributes", {}).items())
        if attribute.get("required") and name not in body
    ]
    messages += [
        f'missing required block "{_dotted(where, name)}"'
        for name, spec in sorted(block.get("block_types", {}).items())
        if spec.get("min_items", 0) > 0 and name not in present_blocks
    ]
    return messages


def check_body(body: Body, block: Schema, where: str, is_resource: bool) -> list[str]:
    """Messages for one block body against its schema block (recursive)."""
    messages: list[str] = []
    attributes: dict[str, Any] = block.get("attributes", {})
    block_types: dict[str, Any] = block.get("block_types", {})
    meta: set[str] = set()
    if where == "":  # meta-arguments exist only at the top level
        meta = RESOURCE_META | (RESOURCE_ONLY_META if is_resource else set())
    present_blocks: set[str] = set()

    for key, value in body.items():
        # hcl2 adds bookkeeping keys such as __is_block__ and __comments__.
        if key.startswith("__") or key in meta or key in STRIPPED_ATTRIBUTES:
            continue
        if key == "dynamic":
            for label, dynamic in labelled(value):
                if label not in block_types:
                    messages.append(f'unknown block "{_dotted(where, label)}" (dynamic)')
                    continue
                present_blocks.add(label)
                content = dynamic.get("content", [])
                messages += _check_blocks(label, content, block_types[label], where, is_resource)
        elif is_block_list(value):
            if key not in block_types:
                messages.append(f'unknown block "{_dotted(where, key)}"')
                continue
            present_blocks.add(key)
            messages += _check_blocks(key, value, block_types[key], where, is_resource)
        else:
            messages += _check_attribute(key, attributes, where)
    return messages + _check_required(body, block, where, present_blocks)


def check_against_schema(module: ModuleDir, root: Path, schema: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    missing = set(schema.get("missing", []))
    for tf_file, kind, type_name, name, body in module.blocks:
        if not type_name.startswith("aws_") or (kind == "resource" and type_name in missing):
            continue  # other providers, and the few schemas the dump could not include
        table = schema["resource_schemas" if kind == "resource" else "data_source_schemas"]
        prefix = f"{kind} {type_name}.{name}"
        rel = str(tf_file.relative_to(root))
        if type_name not in table:
            label = "resource type" if kind == "resource" else "data source type"
            findings.append(Finding(rel, f'{prefix}: unknown {label} "{type_name}"'))
            continue
        for message in check_body(body, table[type_name]["block"], "", kind == "resource"):
            findings.append(Finding(rel, f"{prefix}: {message}"))
    return findings


# ------------------------------------------------------------------ references


def interpolations(text: str) -> Iterator[str]:
    """The ${...} expressions of an hcl2 value (brace-balanced)."""
    start = text.find("${")
    while start != -1:
        depth, index = 0, start + 1
        while index < len(text):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        yield text[start + 2 : index]
        start = text.find("${", index)


def expressions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from interpolations(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)


def resolve_source(module: ModuleDir, body: Body) -> Path | None:
    source = unquote(str(body.get("source", "")))
    if not source.startswith(("./", "../")):
        return None  # registry or git sources are not checked offline
    return (module.path / source).resolve()


@dataclass
class _ReferenceContext:
    module: ModuleDir
    calls: dict[str, Path | None]
    modules: Mapping[Path, ModuleDir]
    declared: set[tuple[str, str, str]]


def _reference_problem(
    context: _ReferenceContext, kind: str, name: str, attribute: str | None
) -> str | None:
    if kind == "var" and name not in context.module.variables:
        return f"unresolved reference var.{name}"
    if kind == "local" and name not in context.module.locals:
        return f"unresolved reference local.{name}"
    if kind == "data" and ("data", name, attribute or "") not in context.declared:
        return f"unresolved reference data.{name}.{attribute}"
    if kind == "module":
        if name not in context.calls:
            return f"unresolved reference module.{name}"
        source = context.calls[name]
        called = context.modules.get(source) if source else None
        if called and attribute and attribute not in called.outputs:
            return f'module.{name}.{attribute}: module "{name}" has no output "{attribute}"'
    return None


def _expression_problems(context: _ReferenceContext, expression: str) -> Iterator[str]:
    for match in REFERENCE.finditer(expression):
        problem = _reference_problem(context, *match.groups())
        if problem:
            yield problem
    for match in RESOURCE_REFERENCE.finditer(expression):
        type_name, name = match.groups()
        if ("resource", type_name, name) not in context.declared:
            yield f"unresolved reference {type_name}.{name}"
    for match in MODULE_FILE.finditer(expression):
        if not (context.module.path / match.group(1)).is_file():
            yield f"file not found: {match.group(1)}"


def check_references(
    module: ModuleDir, root: Path, modules: Mapping[Path, ModuleDir]
) -> list[Finding]:
    context = _ReferenceContext(
        module=module,
        calls={name: resolve_source(module, body) for _, name, body in module.module_calls},
        modules=modules,
        declared={(kind, type_name, name) for _, kind, type_name, name, _ in module.blocks},
    )
    findings: set[Finding] = set()
    for tf_file, document in module.documents:
        rel = str(tf_file.relative_to(root))
        for expression in expressions(document):
            findings.update(Finding(rel, p) for p in _expression_problems(context, expression))
    return sorted(findings)


def check_module_calls(
    module: ModuleDir, root: Path, modules: Mapping[Path, ModuleDir]
) -> list[Finding]:
    findings: list[Finding] = []
    for tf_file, name, body in module.module_calls:
        rel = str(tf_file.relative_to(root))
        source = resolve_source(module, body)
        if source is None:
            continue
        called = modules.get(source)
        if called is None:
            findings.append(
                Finding(
                    rel, f'module "{name}": source "{unquote(str(body.get("source")))}" not found'
                )
            )
            continue
        arguments = {key for key in body if key not in MODULE_META and not key.startswith("__")}
        for argument in sorted(arguments - called.variables.keys()):
            findings.append(Finding(rel, f'module "{name}": unknown variable "{argument}"'))
        required = {var for var, is_required in called.variables.items() if is_required}
        for variable in sorted(required - arguments):
            findings.append(
                Finding(rel, f'module "{name}": missing required variable "{variable}"')
            )
    return findings


def check_environment_root(module: ModuleDir, root: Path) -> list[Finding]:
    findings: list[Finding] = []
    composition = (root / COMPOSITION_MODULE).resolve()
    for tf_file, kind, type_name, name, _ in module.blocks:
        rel = str(tf_file.relative_to(root))
        message = f'environment root declares {kind} "{type_name}" "{name}"'
        findings.append(Finding(rel, f"{message}; roots only call {COMPOSITION_MODULE}"))
    for tf_file, name, body in module.module_calls:
        if resolve_source(module, body) != composition:
            rel = str(tf_file.relative_to(root))
            findings.append(
                Finding(
                    rel, f'module "{name}": environment roots may call only {COMPOSITION_MODULE}'
                )
            )
    return findings


# ------------------------------------------------------------------ entry points


def module_dirs(root: Path) -> list[Path]:
    dirs = {
        tf_file.parent
        for top in SCANNED_DIRS
        if (root / top).is_dir()
        for tf_file in (root / top).rglob("*.tf")
        if ".terraform" not in tf_file.parts
    }
    return sorted(dirs)


def validate(root: Path = REPO_ROOT, schema_path: Path = SCHEMA_PATH) -> list[Finding]:
    """Every finding for the Terraform tree under root, sorted."""
    root = root.resolve()
    findings: list[Finding] = []
    modules = {path.resolve(): load_module_dir(path, root, findings) for path in module_dirs(root)}
    schema = load_schema(schema_path)
    for path, module in modules.items():
        findings += check_against_schema(module, root, schema)
        findings += check_module_calls(module, root, modules)
        findings += check_references(module, root, modules)
        if path.parent == (root / "environments").resolve() and path.name in ENVIRONMENT_ROOTS:
            findings += check_environment_root(module, root)
    return sorted(set(findings))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else REPO_ROOT
    findings = validate(root)
    for finding in findings:
        print(finding, file=sys.stderr)
    count = len(module_dirs(root.resolve()))
    if findings:
        print(
            f"terraform validation: {len(findings)} error(s) in {count} module(s)", file=sys.stderr
        )
        return 1
    print(f"terraform validation: {count} module(s), no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
