"""AWS throttling, injected: the app's chosen AWS call fails as a throttled AWS answers.

The error is raised where the SDK hands its answer to the caller, so it stands
for a call that stayed throttled through botocore's own retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Throttle:
    """How one service says "too many requests": an error code and its HTTP status."""

    code: str
    status: int = 400
    # DynamoDB cancels a throttled transaction and names the throttling per item.
    reason: str | None = None

    def error(self, operation: str) -> ClientError:
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }
        if self.reason is not None:
            response["CancellationReasons"] = [{"Code": self.reason}, {"Code": "None"}]
        return ClientError(response, operation)  # type: ignore[arg-type]


# What S3, DynamoDB, KMS, STS and Cognito answer when they throttle, as AWS documents them.
SLOW_DOWN = Throttle("SlowDown", 503)
THROUGHPUT_EXCEEDED = Throttle("ProvisionedThroughputExceededException")
THROTTLES = [
    SLOW_DOWN,
    THROUGHPUT_EXCEEDED,
    Throttle("ThrottlingException"),  # DynamoDB on-demand, KMS
    Throttle("RequestLimitExceeded"),  # DynamoDB account throughput
    Throttle("Throttling"),  # STS
    Throttle("TooManyRequestsException"),  # Cognito
    Throttle("TransactionCanceledException", reason="ThrottlingError"),
]


def fits(throttle: Throttle, operation: str) -> bool:
    """Only a transaction is cancelled for throttling; the plain codes fit any call."""
    return throttle.reason is None or operation == "TransactWriteItems"


@dataclass
class Throttled:
    """The AWS calls made while throttling was on, and the ones refused."""

    calls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@contextmanager
def throttling(
    refuse: Callable[[int, str], Throttle | None],
) -> Iterator[Throttled]:
    """Every AWS call made inside: `refuse(index, operation)` (index counts from 0)
    says how it is throttled, or None to let it through."""
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    seen = Throttled()

    def throttled(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        throttle = refuse(len(seen.calls), operation)
        seen.calls.append(operation)
        if throttle is not None:
            seen.refused.append(operation)
            raise throttle.error(operation)
        return make_api_call(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", throttled):
        yield seen


def nth_call(n: int, throttle: Throttle) -> Callable[[int, str], Throttle | None]:
    """Throttle the n-th call (from 0) with `throttle`, or with DynamoDB's throughput
    error when `throttle` does not fit that call."""

    def refuse(index: int, operation: str) -> Throttle | None:
        if index != n:
            return None
        return throttle if fits(throttle, operation) else THROUGHPUT_EXCEEDED

    return refuse


def operation_calls(
    operation: str, throttle: Throttle, times: int = 1
) -> Callable[[int, str], Throttle | None]:
    """Throttle the first `times` calls of `operation`."""
    left = [times]

    def refuse(index: int, name: str) -> Throttle | None:
        if name != operation or not left[0]:
            return None
        left[0] -= 1
        return throttle

    return refuse


# ------------------------------------------------------------ what is stored


@dataclass(frozen=True)
class Stored:
    """One user's files as S3 and DynamoDB hold them."""

    objects: frozenset[str]  # file ids with a current object version
    items: dict[str, int]  # file id -> size, of the files table's items
    pending: dict[str, int]  # file id -> size, of the live (not closed) pending records
    multipart: frozenset[str]  # file ids with an open multipart upload
    usage: tuple[int, int]  # the usage item's bytes and files

    def check(self) -> None:
        """Nothing half-written: every object is a file's or a live upload's, every item
        has its object, every open multipart upload its record, and the quota counts
        exactly the files and the live uploads."""
        assert self.objects <= set(self.items) | set(self.pending), "object without an item"
        assert set(self.items) <= self.objects, "item without an object"
        assert self.multipart <= set(self.pending), "multipart upload without a record"
        held = {**self.items, **self.pending}
        assert self.usage == (sum(held.values()), len(held)), "quota reserved for nothing"


def stored(aws: Callable[[str], Any], resources: Any, owner: str) -> Stored:
    """What `owner` has in the buckets and tables of `resources`."""
    s3, dynamodb = aws("s3"), aws("dynamodb")
    prefix = f"uploads/{owner}/"
    versions = s3.list_object_versions(Bucket=resources.bucket, Prefix=prefix)
    objects = frozenset(
        v["Key"].split("/")[2] for v in versions.get("Versions", []) if v["IsLatest"]
    )
    uploads = s3.list_multipart_uploads(Bucket=resources.bucket, Prefix=prefix)
    multipart = frozenset(u["Key"].split("/")[2] for u in uploads.get("Uploads", []))

    def owned(table: str) -> list[dict[str, Any]]:
        # Filtered by the table, so only this user's rows come back (tests share tables).
        rows: list[dict[str, Any]] = dynamodb.scan(
            TableName=table,
            FilterExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )["Items"]
        return rows

    items = {row["file_id"]["S"]: int(row["size_bytes"]["N"]) for row in owned(resources.table)}
    pending = {
        row["file_id"]["S"]: int(row["size_bytes"]["N"])
        for row in owned(resources.pending_table)
        if "closed_at" not in row
    }
    usage = dynamodb.get_item(
        TableName=resources.usage_table, Key={"owner": {"S": owner}}, ConsistentRead=True
    ).get("Item", {})
    counted = (int(usage.get("bytes", {}).get("N", 0)), int(usage.get("files", {}).get("N", 0)))
    return Stored(objects, items, pending, multipart, counted)
