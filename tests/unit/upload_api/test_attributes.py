"""The API's own DynamoDB attribute (de)serialisation agrees with boto3's."""

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from upload_api.dynamodb_items import from_attributes, to_attributes

ITEM = {"file_id": "f", "owner": "o", "size_bytes": 4194304, "part_size": 0, "comment": ""}


def test_items_the_api_writes_serialise_as_boto3_would() -> None:
    serializer = TypeSerializer()
    assert to_attributes(ITEM) == {name: serializer.serialize(v) for name, v in ITEM.items()}


@pytest.mark.parametrize("value", [1.5, True, None, {"a": "b"}, ["a"], b"x"])
def test_what_the_api_never_writes_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        to_attributes({"field": value})


def test_items_read_back_as_boto3_reads_them() -> None:
    stored = {
        "s": "text",
        "n": Decimal("12.5"),
        "flag": True,
        "nothing": None,
        "names": {"a", "b"},
        "numbers": {Decimal(1), Decimal(2)},
        "list": ["x", Decimal(3), {"nested": False}],
        "map": {"deep": {"deeper": "y"}},
        "size_bytes": Decimal(42),
    }
    raw = {name: TypeSerializer().serialize(value) for name, value in stored.items()}
    expected = {name: TypeDeserializer().deserialize(value) for name, value in raw.items()}
    expected["size_bytes"] = 42
    assert from_attributes(raw) == expected
    assert type(from_attributes(raw)["size_bytes"]) is int
