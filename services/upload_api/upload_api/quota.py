"""Per-user quota: one counter item per owner, changed in the transaction that writes the file.

DynamoDB evaluates every condition of a TransactWriteItems together, so two
concurrent uploads cannot both take the last bytes of a quota: one of them is
cancelled. Deleting a file gives its bytes back in the transaction that
deletes the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from upload_api.core.domain import QuotaExceededError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True)
class Quota:
    table: str
    max_bytes: int
    max_files: int

    def check_size(self, size_bytes: int) -> None:
        """A file larger than the whole quota can never fit: refuse before any bytes move."""
        if size_bytes > self.max_bytes:
            raise _exceeded(f"the file alone exceeds the quota of {self.max_bytes} bytes")

    def check_room(self, dynamodb: DynamoDBClient, owner: str, size_bytes: int) -> None:
        """Refuse early when the file cannot fit now (count() is what enforces it)."""
        self.check_size(size_bytes)
        item = dynamodb.get_item(
            TableName=self.table, Key={"owner": {"S": owner}}, ConsistentRead=True
        ).get("Item", {})
        stored = int(item.get("bytes", {}).get("N", "0"))
        files = int(item.get("files", {}).get("N", "0"))
        if stored + size_bytes > self.max_bytes or files + 1 > self.max_files:
            raise _exceeded(_room(stored, files, self))

    def count(self, owner: str, size_bytes: int) -> TransactWriteItemTypeDef:
        """The transaction item that counts one more file, cancelled if it does not fit."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"owner": {"S": owner}},
                "UpdateExpression": "ADD #bytes :size, #files :one",
                "ConditionExpression": "attribute_not_exists(#owner) OR "
                "(#bytes <= :bytes_room AND #files <= :files_room)",
                "ExpressionAttributeNames": {
                    "#owner": "owner",
                    "#bytes": "bytes",
                    "#files": "files",
                },
                "ExpressionAttributeValues": {
                    ":size": {"N": str(size_bytes)},
                    ":one": {"N": "1"},
                    ":bytes_room": {"N": str(self.max_bytes - size_bytes)},
                    ":files_room": {"N": str(self.max_files - 1)},
                },
            }
        }

    def release(self, owner: str, size_bytes: int) -> TransactWriteItemTypeDef:
        """The transaction item that gives one file's bytes back."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"owner": {"S": owner}},
                "UpdateExpression": "ADD #bytes :minus_size, #files :minus_one",
                "ExpressionAttributeNames": {"#bytes": "bytes", "#files": "files"},
                "ExpressionAttributeValues": {
                    ":minus_size": {"N": str(-size_bytes)},
                    ":minus_one": {"N": "-1"},
                },
            }
        }

    def exceeded(self, message: str = "the quota is used up") -> QuotaExceededError:
        return _exceeded(message)


def cancelled_by(error: ClientError, index: int) -> bool:
    """Whether a cancelled transaction's item `index` failed its condition."""
    reasons = error.response.get("CancellationReasons") or []
    return (
        error.response.get("Error", {}).get("Code") == "TransactionCanceledException"
        and index < len(reasons)
        and reasons[index].get("Code") == "ConditionalCheckFailed"
    )


def _room(stored: int, files: int, quota: Quota) -> str:
    return f"quota: {stored} of {quota.max_bytes} bytes and {files} of {quota.max_files} files used"


def _exceeded(message: str) -> QuotaExceededError:
    return QuotaExceededError("quota_exceeded", f"{message}; delete files to make room")
