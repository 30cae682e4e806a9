"""One data contract (services/contract/upload_contract/contract.json), no literal copies.

Terraform reads it with jsondecode(file()), both services import
upload_contract, and the state machine is rendered from it by Terraform.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from processor.models import FileImage
from upload_contract import (
    CONTRACT,
    ITEM_ATTRIBUTES,
    OWNER_INDEX,
    SSM_PARAMETERS,
    FileItem,
    Status,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_FILE = REPO_ROOT / "services" / "contract" / "upload_contract" / "contract.json"
# Where a copy would matter: deployed code, infrastructure and the local stack.
SEARCHED = ("services", "modules", "environments")
SUFFIXES = {".py", ".tf", ".json", ".yaml", ".toml"}
# The same word as a contract value, but AWS's own: not a copy of ours.
AWS_VALUES = {("services/ops/ops/runbook.py", "FAILED"): "a Step Functions execution status"}


def source_files() -> list[Path]:
    return sorted(
        path
        for folder in SEARCHED
        for path in (REPO_ROOT / folder).rglob("*")
        if path.suffix in SUFFIXES and path != CONTRACT_FILE and ".terraform" not in path.parts
    )


def code_of(path: Path) -> str:
    """The file without comments and, for JSON, without Comment fields (prose may name a status)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return re.sub(r'"Comment":\s*"(?:[^"\\]|\\.)*"', "", text)
    if path.suffix == ".yaml":
        return re.sub(r"#.*", "", text)
    return re.sub(r"#.*|//.*", "", text)


@pytest.mark.parametrize(
    "literal",
    [
        *CONTRACT["status"].values(),
        OWNER_INDEX,
        CONTRACT["timestamp_format"],
        *SSM_PARAMETERS.values(),
    ],
)
def test_no_other_literal_copy_exists(literal: str) -> None:
    quoted = re.compile(rf"""["']{re.escape(literal)}["']""")
    copies = [
        str(p.relative_to(REPO_ROOT))
        for p in source_files()
        if quoted.search(code_of(p)) and (str(p.relative_to(REPO_ROOT)), literal) not in AWS_VALUES
    ]
    assert copies == [], f"{literal!r} is written out in {copies}: read it from the contract"


def test_the_search_would_find_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    copy.write_text(f'STATUS = "{Status.PROCESSED.value}"  # a copy\n', encoding="utf-8")
    assert re.search(rf'"{Status.PROCESSED.value}"', code_of(copy))


def test_status_enum_is_the_contract() -> None:
    assert {s.name.lower(): s.value for s in Status} == CONTRACT["status"]


def test_the_item_model_is_the_contract() -> None:
    assert tuple(FileItem.__annotations__) == ITEM_ATTRIBUTES


def test_the_processor_reads_only_contract_attributes() -> None:
    assert set(FileImage.model_fields) <= set(FileItem.__annotations__)


def test_the_contract_is_versioned() -> None:
    assert isinstance(CONTRACT["version"], int)
    assert CONTRACT["version"] >= 1


def test_the_terraform_modules_read_the_contract_file() -> None:
    platform = (REPO_ROOT / "modules" / "platform" / "main.tf").read_text(encoding="utf-8")
    assert (
        'jsondecode(file("${path.module}/../../services/contract/upload_contract/contract.json"))'
        in platform
    )
