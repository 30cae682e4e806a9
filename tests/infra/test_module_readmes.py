"""Every module README shows a usage example that matches the module.

Each modules/<m>/README.md has a `## Usage` block above the tables `make docs`
rewrites; its `module` blocks call `../../modules/<m>`, set every required
input of the module and no input the module does not declare. (make validate
does not read README code: a renamed variable would leave the example stale.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.parent for p in ROOT.glob("modules/*/main.tf"))
USAGE = re.compile(r"^## Usage\n\n```hcl\n(.*?)^```$", re.M | re.S)
DOCS_BEGIN = "<!-- BEGIN_TF_DOCS -->"
# Arguments of a module block that are not the module's inputs.
META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}


def _text(value: Any) -> str:
    """A python-hcl2 string literal or label without its quotes."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _variables(module: Path) -> dict[str, dict[str, Any]]:
    variables: dict[str, dict[str, Any]] = {}
    for tf in sorted(module.glob("*.tf")):
        with tf.open(encoding="utf-8") as handle:
            for entry in hcl2.load(handle).get("variable", []):
                variables.update({_text(name): conf for name, conf in entry.items()})
    return variables


def usage_problems(module: Path, usage: str) -> list[str]:
    """What is wrong with the module blocks of one usage example (nothing: [])."""
    calls = [body for entry in hcl2.loads(usage).get("module", []) for body in entry.values()]
    if not calls:
        return ["the example calls no module"]
    variables = _variables(module)
    required = {name for name, conf in variables.items() if "default" not in conf}
    problems = []
    for call in calls:
        if _text(call.get("source")) != f"../../modules/{module.name}":
            problems.append(f"source is {call.get('source')}, not ../../modules/{module.name}")
        inputs = {key for key in call if not key.startswith("__")} - META_ARGUMENTS
        unknown = inputs - set(variables)
        problems += [f"required input {name} is missing" for name in sorted(required - inputs)]
        problems += [f"{name} is no input of the module" for name in sorted(unknown)]
    return problems


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_the_readme_usage_example_calls_the_module_with_its_own_inputs(module: Path) -> None:
    text = (module / "README.md").read_text(encoding="utf-8")
    usage = USAGE.search(text)
    assert usage is not None, "no ## Usage block with an hcl example"
    assert usage.end() < text.index(DOCS_BEGIN), "Usage must stay outside the generated tables"
    assert usage_problems(module, usage.group(1)) == []


def test_a_stale_example_is_reported() -> None:
    stale = 'module "kms" {\n  source = "../kms"\n  nmae = "x"\n}\n'
    problems = usage_problems(ROOT / "modules" / "kms", stale)
    assert 'source is "../kms", not ../../modules/kms' in problems
    assert "required input name is missing" in problems
    assert "nmae is no input of the module" in problems
