"""CloudFormation and SAM templates, read as CloudFormation reads them.

A template may write an intrinsic function in its short form, a YAML tag
(`!Ref X`, `!Sub s`, `!If [c, a, b]`, `!GetAtt R.Attr`). CloudFormation reads
each as its long form ({"Ref": "X"}, {"Fn::Sub": "s"}, {"Fn::If": [...]},
{"Fn::GetAtt": ["R", "Attr"]}), and so does load_template: the one reading
that keeps every value. PyYAML's safe_load refuses the tags, and a reader that
drops them or keeps only their argument would read a template other than the
one deployed.
"""

from __future__ import annotations

from typing import Any

import yaml

# The two short forms whose long form has no "Fn::" prefix.
_UNPREFIXED = {"Ref", "Condition"}


class _TemplateLoader(yaml.SafeLoader):
    """A SafeLoader of its own, so the global SafeLoader still refuses the tags."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """The long form of the short form `!<suffix> <node>`."""
    name = suffix if suffix in _UNPREFIXED else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            # !GetAtt Resource.Attribute: the resource name holds no dot, the attribute may.
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TypeError(f"{node!r} is no YAML scalar, sequence or mapping")
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _long_form)


def load_template(text: str) -> dict[str, Any]:
    """The template in `text`, its short forms read as their long forms."""
    loaded = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506  # a SafeLoader subclass
    if not isinstance(loaded, dict):
        raise TypeError("a CloudFormation template is a YAML mapping")
    return loaded
