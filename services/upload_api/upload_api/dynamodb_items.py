"""DynamoDB items as Python values and back, and the listing cursor that carries a start key.

Attribute values by hand, not with boto3.dynamodb.types: that would import all
of boto3 (s3transfer included) into every cold start for two small functions.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from upload_api.core.domain import InvalidUploadError
from upload_api.storage import is_uuid


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item the API writes (strings and integers only) as attribute values."""
    return {name: _attribute(value) for name, value in item.items()}


def _attribute(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"N": str(value)}
    raise TypeError(f"the API writes no {type(value).__name__} attributes")


def from_attributes(raw: Any) -> dict[str, Any]:
    """An item as Python values, numbers as Decimal (as boto3 reads them), size_bytes an int."""
    item = {name: _value(attribute) for name, attribute in raw.items()}
    if "size_bytes" in item:
        item["size_bytes"] = int(item["size_bytes"])
    return item


def _value(attribute: Mapping[str, Any]) -> Any:
    [(kind, value)] = attribute.items()
    return _READERS[kind](value)


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "B": bytes,
    "BOOL": bool,
    "NULL": lambda _: None,
    "N": Decimal,
    "SS": set,
    "BS": set,
    "NS": lambda numbers: {Decimal(number) for number in numbers},
    "L": lambda values: [_value(value) for value in values],
    "M": lambda values: {name: _value(value) for name, value in values.items()},
}

# Far above any cursor encode_cursor mints (three short strings, about 250 characters).
MAX_CURSOR_CHARS = 2048
_CURSOR_KEYS = frozenset({"file_id", "owner", "created_at"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def encode_cursor(last_evaluated_key: Any) -> str:
    plain = {name: value["S"] for name, value in last_evaluated_key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str, owner: str) -> dict[str, Any]:
    """Turn an opaque cursor back into a start key, refusing one minted for someone else.

    Every cursor this cannot turn into the caller's start key is a 400
    invalid_cursor: too long, not Base64, not JSON, nested too deeply for the
    parser (RecursionError), or not the exact shape encode_cursor writes.
    """
    if len(cursor) > MAX_CURSOR_CHARS:
        raise _bad_cursor()
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, RecursionError) as error:
        raise _bad_cursor() from error
    if (
        not isinstance(plain, dict)
        or set(plain) != _CURSOR_KEYS
        or plain["owner"] != owner
        or not isinstance(plain["file_id"], str)
        or not is_uuid(plain["file_id"])
        or not isinstance(plain["created_at"], str)
        or not _TIMESTAMP.fullmatch(plain["created_at"])
    ):
        raise _bad_cursor()
    return {name: {"S": value} for name, value in plain.items()}


def _bad_cursor() -> InvalidUploadError:
    return InvalidUploadError("invalid_cursor", "cursor is not valid for this listing")
