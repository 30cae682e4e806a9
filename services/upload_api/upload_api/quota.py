"""Per-user quota: one counter item per owner, changed in the transaction that writes the file.

DynamoDB evaluates every condition of a TransactWriteItems together, so two
concurrent uploads cannot both take the last bytes of a quota: one of them is
cancelled. Deleting a file gives its bytes back in the transaction that
deletes the item.

A direct upload reserves its bytes and one file when it starts, in the
transaction that writes its pending record: pending uploads count against the
quota, so no number of started uploads can hold more than the quota. Completion
turns the reservation into the file (the counters stay); abort and discard give
it back. A pending record that expires (DynamoDB's TTL, with nothing to run on
it) is given back through hour buckets on the usage item: each reservation is
also added to `reserved_bytes_<H>` / `reserved_files_<H>`, H the hour by whose
end its record has expired, and whatever a bucket still holds once its hour
(plus a grace) has passed belongs to expired uploads only. The user's next
start, a POST /upload the reservations would refuse, or the runbook's
sweep-orphans gives such buckets back. At most one bucket per hour of the
pending lifetime exists, so the item stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from upload_api.core.domain import QuotaExceededError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

BUCKET_SECONDS = 3600
# A bucket is given back only this long after its hour: no completion or abort of
# a record that expired in it (each conditional on the record not having expired)
# is still in flight by then.
BUCKET_GRACE_SECONDS = 300
_BYTES = "reserved_bytes_"
_FILES = "reserved_files_"


def reservation_bucket(expires_at: int) -> int:
    """The hour (since the epoch) by whose end a record expiring at `expires_at` has expired."""
    return -(-int(expires_at) // BUCKET_SECONDS)


@dataclass(frozen=True)
class Quota:
    table: str
    max_bytes: int
    max_files: int

    def check_size(self, size_bytes: int) -> None:
        """A file larger than the whole quota can never fit: refuse before any bytes move."""
        if size_bytes > self.max_bytes:
            raise _exceeded(f"the file alone exceeds the quota of {self.max_bytes} bytes")

    def make_room(self, dynamodb: DynamoDBClient, owner: str, size_bytes: int, now: float) -> None:
        """Give back expired reservations, then refuse early when the file cannot fit now
        (reserve() is what enforces it)."""
        self.check_size(size_bytes)
        item = self._usage(dynamodb, owner)
        released_bytes, released_files = self._release_expired(dynamodb, owner, item, now)
        stored = _number(item, "bytes") - released_bytes
        files = _number(item, "files") - released_files
        if stored + size_bytes > self.max_bytes or files + 1 > self.max_files:
            raise _exceeded(_room(stored, files, self))

    def release_expired(self, dynamodb: DynamoDBClient, owner: str, now: float) -> bool:
        """Give back the reservations of `owner`'s expired uploads; True if there were any."""
        released = self._release_expired(dynamodb, owner, self._usage(dynamodb, owner), now)
        return released != (0, 0)

    def count(self, owner: str, size_bytes: int) -> TransactWriteItemTypeDef:
        """The transaction item that counts one more file, cancelled if it does not fit."""
        return self._counting(owner, size_bytes, bucket=None)

    def reserve(self, owner: str, size_bytes: int, expires_at: int) -> TransactWriteItemTypeDef:
        """count(), for a direct upload whose pending record expires at `expires_at`."""
        return self._counting(owner, size_bytes, bucket=reservation_bucket(expires_at))

    def settle(self, owner: str, size_bytes: int, expires_at: int) -> TransactWriteItemTypeDef:
        """A reservation becomes the file: the counters keep it, its bucket lets go.

        A record started before reservations existed settles into a negative bucket,
        which the bucket's expiry turns into the file's count: the sums still agree.
        """
        return self._update(
            owner, {_bucket_names(reservation_bucket(expires_at)): (-size_bytes, -1)}
        )

    def cancel(self, owner: str, size_bytes: int, expires_at: int) -> TransactWriteItemTypeDef:
        """A reservation given back (abort, discard): counters and bucket both."""
        return self._update(
            owner,
            {
                ("bytes", "files"): (-size_bytes, -1),
                _bucket_names(reservation_bucket(expires_at)): (-size_bytes, -1),
            },
        )

    def release(self, owner: str, size_bytes: int) -> TransactWriteItemTypeDef:
        """The transaction item that gives one file's bytes back."""
        return self._update(owner, {("bytes", "files"): (-size_bytes, -1)})

    def exceeded(self, message: str = "the quota is used up") -> QuotaExceededError:
        return _exceeded(message)

    # ------------------------------------------------------------ internals

    def _counting(
        self, owner: str, size_bytes: int, *, bucket: int | None
    ) -> TransactWriteItemTypeDef:
        additions = {("bytes", "files"): (size_bytes, 1)}
        if bucket is not None:
            additions[_bucket_names(bucket)] = (size_bytes, 1)
        # #a0 and #b0 are the counters (the first pair): the file must fit beside them.
        return self._update(
            owner,
            additions,
            condition="attribute_not_exists(#owner) OR (#a0 <= :bytes_room AND #b0 <= :files_room)",
            names={"#owner": "owner"},
            values={
                ":bytes_room": {"N": str(self.max_bytes - size_bytes)},
                ":files_room": {"N": str(self.max_files - 1)},
            },
        )

    def _update(
        self,
        owner: str,
        additions: dict[tuple[str, str], tuple[int, int]],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> TransactWriteItemTypeDef:
        """ADD each (bytes name, files name) pair its (bytes, files) amounts."""
        names = dict(names or {})
        values = dict(values or {})
        terms = []
        for n, ((bytes_name, files_name), (size, files)) in enumerate(additions.items()):
            names[f"#a{n}"], names[f"#b{n}"] = bytes_name, files_name
            values[f":a{n}"], values[f":b{n}"] = {"N": str(size)}, {"N": str(files)}
            terms += [f"#a{n} :a{n}", f"#b{n} :b{n}"]
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"owner": {"S": owner}},
            "UpdateExpression": "ADD " + ", ".join(terms),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if condition is not None:
            update["ConditionExpression"] = condition
        return {"Update": update}  # type: ignore[typeddict-item]

    def _usage(self, dynamodb: DynamoDBClient, owner: str) -> dict[str, Any]:
        return dict(
            dynamodb.get_item(
                TableName=self.table, Key={"owner": {"S": owner}}, ConsistentRead=True
            ).get("Item", {})
        )

    def _release_expired(
        self, dynamodb: DynamoDBClient, owner: str, item: dict[str, Any], now: float
    ) -> tuple[int, int]:
        """Remove the expired buckets of `item` and take what they hold off the counters.

        Conditional on each bucket still holding what was read: when another request
        changed or released one meanwhile, nothing happens and a later call retries.
        """
        expired = sorted(
            hour
            for name in item
            if name.startswith(_BYTES)
            and (hour := _hour(name)) is not None
            and hour * BUCKET_SECONDS + BUCKET_GRACE_SECONDS <= now
        )
        if not expired:
            return 0, 0
        names = {"#bytes": "bytes", "#files": "files"}
        values: dict[str, Any] = {}
        removes, conditions = [], []
        total_bytes = total_files = 0
        for n, hour in enumerate(expired):
            bytes_name, files_name = _bucket_names(hour)
            held_bytes, held_files = _number(item, bytes_name), _number(item, files_name)
            total_bytes += held_bytes
            total_files += held_files
            names[f"#rb{n}"], names[f"#rf{n}"] = bytes_name, files_name
            values[f":rb{n}"], values[f":rf{n}"] = {"N": str(held_bytes)}, {"N": str(held_files)}
            removes += [f"#rb{n}", f"#rf{n}"]
            conditions += [f"#rb{n} = :rb{n}", f"#rf{n} = :rf{n}"]
        values[":bytes"] = {"N": str(-total_bytes)}
        values[":files"] = {"N": str(-total_files)}
        try:
            dynamodb.update_item(
                TableName=self.table,
                Key={"owner": {"S": owner}},
                UpdateExpression=f"ADD #bytes :bytes, #files :files REMOVE {', '.join(removes)}",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return 0, 0
            raise
        return total_bytes, total_files


def cancelled_by(error: ClientError, index: int) -> bool:
    """Whether a cancelled transaction's item `index` failed its condition."""
    reasons = error.response.get("CancellationReasons") or []
    return (
        error.response.get("Error", {}).get("Code") == "TransactionCanceledException"
        and index < len(reasons)
        and reasons[index].get("Code") == "ConditionalCheckFailed"
    )


def _bucket_names(hour: int) -> tuple[str, str]:
    return f"{_BYTES}{hour}", f"{_FILES}{hour}"


def _hour(name: str) -> int | None:
    suffix = name.removeprefix(_BYTES)
    return int(suffix) if suffix.isdigit() else None


def _number(item: dict[str, Any], name: str) -> int:
    return int(item.get(name, {}).get("N", "0"))


def _room(stored: int, files: int, quota: Quota) -> str:
    return f"quota: {stored} of {quota.max_bytes} bytes and {files} of {quota.max_files} files used"


def _exceeded(message: str) -> QuotaExceededError:
    return QuotaExceededError("quota_exceeded", f"{message}; delete files to make room")
