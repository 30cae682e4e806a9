"""Offline stand-in for `terraform validate` (no terraform binary in the gate).

Parses every .tf file under modules/ and environments/ with python-hcl2 and
checks, per directory (one Terraform module each):

- no two variables, outputs, locals, module calls, resources or data sources
  share a name;
- module calls pass only declared variables and every required one, and the
  local source exists;
- every var., local., module., data. and resource reference resolves (a
  resource of any provider: whatever is not var, local, module, data, path,
  count, each, self, terraform or an iterator is a resource type), module.X.Y
  names an output Y of the called module, and an attribute read from an aws_*
  resource or data source exists in its schema (through indexes, splats,
  nested blocks and object attributes);
- every aws_* resource and data source matches the vendored provider schema:
  the type exists, every argument and nested block is known, required
  arguments and blocks are present, no computed-only attribute is set, and a
  plain string, number or bool literal converts to the argument's type
  (arguments named `description` are accepted unchecked: stripping the
  descriptions from the dump also removed those attributes);
- `provider "aws"` blocks use only the provider's own arguments and blocks;
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
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SCHEMA_PATH = DATA / "aws-provider-schema-6.47.0.json.gz"
# The dump above has no schema for the provider block itself; see data/README.md.
PROVIDER_BLOCK_PATH = DATA / "aws-provider-block-5.100.0.json"
SCANNED_DIRS = ("modules", "environments")
ENVIRONMENT_ROOTS = ("dev", "stage", "prod")
COMPOSITION_MODULE = "modules/platform"

# Arguments Terraform itself handles on every resource / data source / module.
RESOURCE_META = {"count", "for_each", "depends_on", "lifecycle", "provider"}
RESOURCE_ONLY_META = {"provisioner", "connection"}
PROVIDER_META = {"alias", "version"}
MODULE_META = {"source", "version", "providers", "count", "for_each", "depends_on"}
HCL2_MARKER = "__is_block__"
# The vendored dump had its descriptions stripped, which also removed every
# attribute named "description"; such arguments are accepted unchecked.
STRIPPED_ATTRIBUTES = {"description"}

# References: a root name followed by steps (`.name`, `[index]`, `[*]`, `.*`, `.0`).
# Roots Terraform resolves itself; any other root names a resource type.
BUILTIN_ROOTS = {"path", "count", "each", "self", "terraform"}
REFERENCE_ROOT = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)(?=\s*\.)")
REFERENCE_STEP = re.compile(r"\s*(?:\.([A-Za-z_][\w-]*)|\.(?:\*|\d+)|\[[^\[\]]*\])")
INDEX = "[]"  # the step of any index or splat
FOR_VARIABLES = re.compile(r"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
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
    providers: list[tuple[Path, str, Body]] = field(default_factory=list)
    # dynamic block labels and `iterator` names: reference roots inside content
    iterators: set[str] = field(default_factory=set)
    # `variable "x"`, `resource "t" "n"`, ... already declared: finds duplicates
    declared: set[str] = field(default_factory=set)
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


def iterator_names(value: Any) -> Iterator[str]:
    """Labels of dynamic blocks (or their `iterator`) anywhere in an hcl2 value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "dynamic":
                for label, body in labelled(item):
                    # hcl2 gives `iterator = it` as "${it}"
                    yield str(body.get("iterator", label)).strip('${}"')
            yield from iterator_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from iterator_names(item)


def _declare(module: ModuleDir, declaration: str, rel: str, findings: list[Finding]) -> None:
    if declaration in module.declared:
        findings.append(Finding(rel, f"duplicate {declaration}"))
    module.declared.add(declaration)


def load_module_dir(path: Path, root: Path, findings: list[Finding]) -> ModuleDir:
    module = ModuleDir(path=path)
    for tf_file in sorted(path.glob("*.tf")):
        rel = str(tf_file.relative_to(root))
        try:
            with tf_file.open(encoding="utf-8") as handle:
                document: dict[str, Any] = hcl2.load(handle)
        except Exception as error:  # lark and hcl2 raise many unrelated types: report any
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            findings.append(Finding(rel, f"cannot parse: {first_line}"))
            continue
        module.documents.append((tf_file, document))
        module.iterators.update(iterator_names(document))
        for name, body in labelled(document.get("variable", [])):
            _declare(module, f'variable "{name}"', rel, findings)
            module.variables[name] = "default" not in body
        for name, _ in labelled(document.get("output", [])):
            _declare(module, f'output "{name}"', rel, findings)
            module.outputs.add(name)
        for entry in document.get("locals", []):
            for name in (key for key in entry if not key.startswith("__")):
                _declare(module, f'local "{name}"', rel, findings)
                module.locals.add(name)
        for name, body in labelled(document.get("module", [])):
            _declare(module, f'module "{name}"', rel, findings)
            module.module_calls.append((tf_file, name, body))
        for kind in ("resource", "data"):
            for type_name, name, body in doubly_labelled(document.get(kind, [])):
                _declare(module, f'{kind} "{type_name}" "{name}"', rel, findings)
                module.blocks.append((tf_file, kind, type_name, name, body))
        for name, body in labelled(document.get("provider", [])):
            module.providers.append((tf_file, name, body))
    return module


@cache
def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def load_provider_block(path: Path = PROVIDER_BLOCK_PATH) -> Schema:
    with path.open(encoding="utf-8") as handle:
        block: Schema = json.load(handle)["provider"]["block"]
    return block


# ------------------------------------------------------------------ schema checks


def _dotted(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _check_blocks(key: str, items: list[Body], spec: Schema, where: str) -> list[str]:
    messages: list[str] = []
    max_items = 1 if spec.get("nesting_mode") == "single" else spec.get("max_items")
    if max_items is not None and len(items) > max_items:
        messages.append(f'at most {max_items} "{_dotted(where, key)}" block(s) allowed')
    for item in items:
        messages += check_body(item, spec["block"], _dotted(where, key))
    return messages


def terraform_type(cty_type: Any) -> str:
    """A schema type in Terraform's syntax: "string", ["list", "string"] -> list(string)."""
    if isinstance(cty_type, str):
        return cty_type
    kind, element = cty_type[0], cty_type[1]
    if kind in ("list", "set", "map"):
        return f"{kind}({terraform_type(element)})"
    return str(kind)  # object, tuple


def literal_problem(value: Any, cty_type: Any) -> str | None:
    """Why a plain string/number/bool literal cannot convert to cty_type.

    None when it can, and for anything that is not such a literal (null,
    expressions, templates, heredocs, list and object constructors). Terraform
    converts any primitive to a string, and the strings "true"/"false" and
    numeric strings to bool and number.
    """
    if isinstance(value, bool):
        kind, text = "bool", str(value).lower()
    elif isinstance(value, (int, float)):
        kind, text = "number", str(value)
    elif isinstance(value, str) and re.fullmatch(r'"(?!<<)[^"]*"', value) and "${" not in value:
        kind, text = "string", value
    else:
        return None
    literal = unquote(text)
    if cty_type in ("string", "dynamic") or cty_type == kind:
        return None
    if cty_type == "bool" and kind == "string" and literal in ("true", "false"):
        return None
    if cty_type == "number" and kind == "string" and NUMBER.fullmatch(literal):
        return None
    return f"{terraform_type(cty_type)} required, got {kind} {text}"


def _check_attribute(key: str, value: Any, attributes: Mapping[str, Any], where: str) -> list[str]:
    if key not in attributes:
        return [f'unknown argument "{_dotted(where, key)}"']
    attribute = attributes[key]
    if attribute.get("computed") and not (attribute.get("optional") or attribute.get("required")):
        return [f'computed-only attribute "{_dotted(where, key)}" cannot be set']
    problem = literal_problem(value, attribute["type"])
    if problem:
        return [f'inappropriate value for "{_dotted(where, key)}": {problem}']
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


def check_body(
    body: Body, block: Schema, where: str = "", meta: Set[str] = frozenset()
) -> list[str]:
    """Messages for one block body against its schema block (recursive).

    meta: the meta-arguments of the top-level block (they exist only there).
    """
    messages: list[str] = []
    attributes: dict[str, Any] = block.get("attributes", {})
    block_types: dict[str, Any] = block.get("block_types", {})
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
                messages += _check_blocks(label, content, block_types[label], where)
        elif is_block_list(value):
            if key not in block_types:
                messages.append(f'unknown block "{_dotted(where, key)}"')
                continue
            present_blocks.add(key)
            messages += _check_blocks(key, value, block_types[key], where)
        else:
            messages += _check_attribute(key, value, attributes, where)
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
        meta = RESOURCE_META | (RESOURCE_ONLY_META if kind == "resource" else set())
        for message in check_body(body, table[type_name]["block"], meta=meta):
            findings.append(Finding(rel, f"{prefix}: {message}"))
    return findings


def check_providers(module: ModuleDir, root: Path, provider_block: Schema) -> list[Finding]:
    findings: list[Finding] = []
    for tf_file, name, body in module.providers:
        if name != "aws":
            continue  # only the aws provider's schema is vendored
        rel = str(tf_file.relative_to(root))
        for message in check_body(body, provider_block, meta=PROVIDER_META):
            findings.append(Finding(rel, f"provider {name}: {message}"))
    return findings


# ------------------------------------------------------------------ references


def _closing_brace(text: str, opening: int) -> int:
    """Index of the } matching the { at text[opening] (len(text) if none)."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return len(text)


def interpolations(text: str) -> Iterator[str]:
    """The ${...} expressions of an hcl2 value (brace-balanced)."""
    start = text.find("${")
    while start != -1:
        end = _closing_brace(text, start + 1)
        yield text[start + 2 : end]
        start = text.find("${", end)


def expressions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from interpolations(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)


def blank_string_text(expression: str) -> str:
    """The expression with the text of its quoted strings replaced by spaces.

    Interpolations inside those strings are kept, and every character keeps
    its position, so `"a_b.c"` is not read as a reference but `"${var.x}/*"`
    still is.
    """
    out: list[str] = []
    in_string, index = False, 0
    while index < len(expression):
        if in_string and expression.startswith("${", index):
            end = _closing_brace(expression, index + 1)
            out.append("  " + blank_string_text(expression[index + 2 : end]) + " ")
            index = end + 1
            continue
        char = expression[index]
        if in_string and char == "\\":  # an escape such as \" : blank both characters
            out.append(" " * len(expression[index : index + 2]))
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(" " if in_string or char == '"' else char)
        index += 1
    return "".join(out)


def reference_steps(code: str, start: int) -> tuple[list[str], int]:
    """The steps after a reference root ending at start, and where they end.

    Each step is a name or INDEX (for `[0]`, `["k"]`, `[*]`, `.*`, `.0`).
    """
    steps: list[str] = []
    while match := REFERENCE_STEP.match(code, start):
        steps.append(match.group(1) or INDEX)
        start = match.end()
    return steps, start


def unknown_attribute(block: Schema, path: list[str]) -> str | None:
    """The first name along path (the steps after TYPE.NAME) that the schema lacks.

    Indexes and splats pass through blocks and collections; map keys and
    anything below a primitive, tuple or dynamic value are not checked.
    """
    node: Any = block  # a schema block, or a schema type
    for step in path:
        if isinstance(node, dict):  # a block: an index selects one instance of it
            if step == INDEX:
                continue
            if step in STRIPPED_ATTRIBUTES:
                return None
            if step in node.get("attributes", {}):
                node = node["attributes"][step]["type"]
            elif step in node.get("block_types", {}):
                node = node["block_types"][step]["block"]
            else:
                return step
        elif isinstance(node, list) and node[0] in ("list", "set") and step == INDEX:
            node = node[1]
        elif isinstance(node, list) and node[0] == "map":
            node = node[1]  # m["key"] and m.key
        elif isinstance(node, list) and node[0] == "object" and step != INDEX:
            if step not in node[1]:
                return step
            node = node[1][step]
        else:
            return None
    return None


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
    schema: Mapping[str, Any]


def _attribute_problem(
    context: _ReferenceContext, kind: str, type_name: str, path: list[str], text: str
) -> str | None:
    table = context.schema["resource_schemas" if kind == "resource" else "data_source_schemas"]
    if type_name not in table:
        return None  # other providers, and the schemas the dump could not include
    attribute = unknown_attribute(table[type_name]["block"], path)
    if attribute is None:
        return None
    label = "resource type" if kind == "resource" else "data source type"
    return f'{text}: {label} "{type_name}" has no attribute "{attribute}"'


def _module_output_problem(context: _ReferenceContext, name: str, steps: list[str]) -> str | None:
    if name not in context.calls:
        return f"unresolved reference module.{name}"
    source = context.calls[name]
    called = context.modules.get(source) if source else None
    output = next((step for step in steps if step != INDEX), None)  # past any module[key]
    if called and output and output not in called.outputs:
        return f'module.{name}.{output}: module "{name}" has no output "{output}"'
    return None


def _reference_problem(
    context: _ReferenceContext, root: str, steps: list[str], text: str
) -> str | None:
    """What is wrong with the reference root.steps (text: as written), if anything."""
    if root in ("var", "local"):
        names = context.module.variables if root == "var" else context.module.locals
        return None if steps[0] in names else f"unresolved reference {root}.{steps[0]}"
    if root == "module":
        return _module_output_problem(context, steps[0], steps[1:])
    if root == "data" and len(steps) < 2:
        return f"unresolved reference data.{steps[0]}"
    if root == "data":  # data.TYPE.NAME.path...
        kind, type_name, name, path = "data", steps[0], steps[1], steps[2:]
    else:  # TYPE.NAME.path...
        kind, type_name, name, path = "resource", root, steps[0], steps[1:]
    if (kind, type_name, name) not in context.declared:
        prefix = "data." if kind == "data" else ""
        return f"unresolved reference {prefix}{type_name}.{name}"
    return _attribute_problem(context, kind, type_name, path, text)


def _expression_problems(context: _ReferenceContext, expression: str) -> Iterator[str]:
    code = blank_string_text(expression)
    skipped = BUILTIN_ROOTS | context.module.iterators
    skipped |= {name for match in FOR_VARIABLES.finditer(code) for name in match.groups() if name}
    for match in REFERENCE_ROOT.finditer(code):
        steps, end = reference_steps(code, match.end())
        if match.group(1) in skipped or not steps or steps[0] == INDEX:
            continue
        text = re.sub(r"\s+", "", expression[match.start() : end])
        problem = _reference_problem(context, match.group(1), steps, text)
        if problem:
            yield problem
    for file_match in MODULE_FILE.finditer(expression):
        if not (context.module.path / file_match.group(1)).is_file():
            yield f"file not found: {file_match.group(1)}"


def check_references(
    module: ModuleDir, root: Path, modules: Mapping[Path, ModuleDir], schema: Mapping[str, Any]
) -> list[Finding]:
    context = _ReferenceContext(
        module=module,
        calls={name: resolve_source(module, body) for _, name, body in module.module_calls},
        modules=modules,
        declared={(kind, type_name, name) for _, kind, type_name, name, _ in module.blocks},
        schema=schema,
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
        findings += check_providers(module, root, load_provider_block())
        findings += check_module_calls(module, root, modules)
        findings += check_references(module, root, modules, schema)
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
