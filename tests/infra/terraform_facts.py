"""Facts read from the Terraform modules, for tests and the local stack.

The local stack builds its moto table from table_definition(), so the
DynamoDB key schema has one source: modules/metadata-table/main.tf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
METADATA_TABLE_MAIN = REPO_ROOT / "modules" / "metadata-table" / "main.tf"


def _text(value: Any) -> str:
    """A string literal as python-hcl2 returns it, without its quotes."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _table_block(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    for entry in document.get("resource", []):
        table = entry.get('"aws_dynamodb_table"', {}).get('"this"')
        if table is not None:
            return dict(table)
    raise LookupError(f'no resource "aws_dynamodb_table" "this" in {path.name}')


def table_definition(path: Path = METADATA_TABLE_MAIN) -> dict[str, Any]:
    """Key schema, GSIs and stream view type of the metadata table.

    Returns {"hash_key": str, "attributes": {name: type},
    "gsis": [{"name", "hash_key", "range_key", "projection"}],
    "stream_view_type": str}. GSI names written as locals are resolved
    from the module's locals block.
    """
    with path.open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    local_values = {
        key: _text(value)
        for entry in document.get("locals", [])
        for key, value in entry.items()
        if not key.startswith("__")
    }

    def resolve(value: Any) -> str:
        text = _text(value)
        if text.startswith("${local.") and text.endswith("}"):
            return local_values[text[len("${local.") : -1]]
        return text

    table = _table_block(path)
    return {
        "hash_key": resolve(table["hash_key"]),
        "attributes": {
            resolve(attribute["name"]): resolve(attribute["type"])
            for attribute in table.get("attribute", [])
        },
        "gsis": [
            {
                "name": resolve(index["name"]),
                "hash_key": resolve(index["hash_key"]),
                "range_key": resolve(index["range_key"]) if "range_key" in index else None,
                "projection": resolve(index["projection_type"]),
            }
            for index in table.get("global_secondary_index", [])
        ],
        "stream_view_type": resolve(table["stream_view_type"]),
    }
