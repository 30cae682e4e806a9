"""Upload business logic: S3 object + DynamoDB item, all or nothing.

Plain Python with injected botocore clients, so it runs the same on Lambda, in the
local stack and against moto in tests.
"""

import base64
import binascii
import hashlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from upload_api.core import metrics
from upload_api.core.domain import InvalidUploadError, NotFoundError, StorageUnavailableError
from upload_api.core.files import detect_content_type, sanitise_file_name
from upload_api.quota import Quota, cancelled_by
from upload_contract import OWNER_INDEX, FileItem, Status, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

AWS_ERRORS = (ClientError, BotoCoreError)


def object_key(owner: str, file_id: str, safe_name: str) -> str:
    return f"uploads/{owner}/{file_id}/{safe_name}"


@dataclass(frozen=True)
class StoredFile:
    item: Mapping[str, Any]

    @property
    def s3_path(self) -> str:
        return f"s3://{self.item['bucket']}/{self.item['s3_key']}"


class UploadService:
    def __init__(
        self,
        *,
        s3: "S3Client",
        dynamodb: "DynamoDBClient",
        bucket: str,
        table: str,
        kms_key_id: str,
        presigned_url_ttl: int,
        quota: Quota,
        logger: Any,
    ) -> None:
        self._quota = quota
        self._s3 = s3
        self._dynamodb = dynamodb
        self._bucket = bucket
        self._table = table
        self._kms_key_id = kms_key_id
        self._presigned_url_ttl = presigned_url_ttl
        self._logger = logger

    def create(self, owner: str, file_name: str, comment: str, data: bytes) -> StoredFile:
        self._quota.check_size(len(data))
        safe_name = sanitise_file_name(file_name)
        file_id = str(uuid.uuid4())
        key = object_key(owner, file_id, safe_name)
        digest = hashlib.sha256(data)
        content_type = detect_content_type(data, safe_name)
        now = timestamp()
        item: FileItem = {
            "file_id": file_id,
            "owner": owner,
            "bucket": self._bucket,
            "s3_key": key,
            "file_name": safe_name,
            "size_bytes": len(data),
            "sha256": digest.hexdigest(),
            "content_type": content_type,
            "comment": comment,
            "created_at": now,
            "updated_at": now,
            "status": Status.UPLOADED.value,
        }
        try:
            put = self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._kms_key_id,
                BucketKeyEnabled=True,
                # S3 recomputes the digest and refuses the write on a mismatch.
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                Metadata={"file-id": file_id, "owner": owner},
            )
        except AWS_ERRORS as error:
            self._logger.exception(
                "object write failed; nothing stored", extra={"file_id": file_id}
            )
            raise unavailable() from error
        try:
            # The item and the owner's usage in one transaction: both or neither.
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_attributes(item),
                            "ConditionExpression": "attribute_not_exists(file_id)",
                        }
                    },
                    self._quota.count(owner, len(data)),
                ],
                ClientRequestToken=file_id,
            )
        except AWS_ERRORS as error:
            over_quota = isinstance(error, ClientError) and cancelled_by(error, 1)
            # A retried transaction whose first attempt did commit fails its own
            # condition: that write succeeded, and deleting the object would orphan it.
            committed = (
                isinstance(error, ClientError) and cancelled_by(error, 0) and self._item_is(item)
            )
            if not committed:
                self._logger.info(
                    "metadata write refused or failed; removing object",
                    extra={"file_id": file_id, "over_quota": over_quota},
                )
                self._remove_object(key, put.get("VersionId"))
                raise (self._quota.exceeded() if over_quota else unavailable()) from error
        self._logger.info(
            "file stored",
            extra={"file_id": file_id, "size_bytes": len(data), "content_type": content_type},
        )
        metrics.stored(len(data), "json")
        return StoredFile(item)

    def _item_is(self, item: Mapping[str, Any]) -> bool:
        try:
            stored = self._dynamodb.get_item(
                TableName=self._table,
                Key={"file_id": {"S": item["file_id"]}},
                ConsistentRead=True,
            ).get("Item")
        except AWS_ERRORS:
            return False
        if stored is None:
            return False
        # Only fields no later writer changes: the pipeline may already have
        # moved status and updated_at on by the time the retry comes back.
        current = from_attributes(stored)
        return all(current.get(name) == item[name] for name in _IMMUTABLE_FIELDS)

    def _remove_object(self, key: str, version_id: str | None) -> None:
        # On a versioned bucket a plain delete only adds a delete marker; removing
        # the exact version leaves no orphan bytes behind.
        try:
            if version_id:
                self._s3.delete_object(Bucket=self._bucket, Key=key, VersionId=version_id)
            else:
                self._s3.delete_object(Bucket=self._bucket, Key=key)
        except AWS_ERRORS:
            self._logger.exception(
                "compensating delete failed: orphan object needs removal",
                extra={"s3_key": key, "version_id": version_id},
            )

    def get(self, owner: str, file_id: str) -> StoredFile:
        if not is_uuid(file_id):
            raise _not_found()
        try:
            response = self._dynamodb.get_item(
                TableName=self._table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            )
        except AWS_ERRORS as error:
            raise unavailable() from error
        raw = response.get("Item")
        # Another user's file is indistinguishable from a missing one.
        if raw is None or raw.get("owner", {}).get("S") != owner:
            raise _not_found()
        return StoredFile(from_attributes(raw))

    def download_url(self, stored: StoredFile) -> str:
        try:
            return self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": stored.item["bucket"],
                    "Key": stored.item["s3_key"],
                    # Always a download, never rendered inline: uploaded HTML or SVG
                    # must not run in a browser under the bucket's origin.
                    "ResponseContentDisposition": _attachment(stored.item["file_name"]),
                },
                ExpiresIn=self._presigned_url_ttl,
            )
        except AWS_ERRORS as error:
            raise unavailable() from error

    def delete(self, owner: str, file_id: str) -> None:
        """Every version of the object, then the item. A retry finishes what a crash left.

        The item is marked DELETING first, under the condition that it is the
        caller's: the pipeline's writes are conditional on UPLOADED, so a file
        still being processed is not written back after its bytes are gone.
        """
        if not is_uuid(file_id):
            raise _not_found()
        key = {"file_id": {"S": file_id}}
        try:
            marked = self._dynamodb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #status = :deleting, updated_at = :now",
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":deleting": {"S": Status.DELETING.value},
                    ":now": {"S": timestamp()},
                    ":owner": {"S": owner},
                },
                ReturnValues="ALL_NEW",
            )
        except AWS_ERRORS as error:
            if _is_condition_failure(error):
                raise _not_found() from error  # missing, or someone else's
            raise unavailable() from error
        attributes = marked["Attributes"]
        self._delete_every_version(attributes["s3_key"]["S"])
        try:
            # The item goes, and its bytes go back to the owner's quota, together.
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": key,
                            "ConditionExpression": "#status = :deleting",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":deleting": {"S": Status.DELETING.value}
                            },
                        }
                    },
                    self._quota.release(owner, int(attributes["size_bytes"]["N"])),
                ]
            )
        except AWS_ERRORS as error:
            # Cancelled on the item: a concurrent delete finished first.
            if not (isinstance(error, ClientError) and cancelled_by(error, 0)):
                raise unavailable() from error
        self._logger.info("file deleted", extra={"file_id": file_id})

    def _delete_every_version(self, s3_key: str) -> None:
        """The bucket is versioned: a plain delete would only add a delete marker."""
        try:
            for page in self._s3.get_paginator("list_object_versions").paginate(
                Bucket=self._bucket, Prefix=s3_key
            ):
                versions: list[ObjectIdentifierTypeDef] = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                    if v["Key"] == s3_key
                ]
                if not versions:
                    continue
                answer = self._s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": versions, "Quiet": True}
                )
                if answer.get("Errors"):
                    raise StorageUnavailableError(
                        "service_unavailable", "some versions could not be deleted; retry"
                    )
        except AWS_ERRORS as error:
            raise unavailable() from error

    def list(
        self, owner: str, limit: int, cursor: str | None
    ) -> tuple[list[StoredFile], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": owner}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, owner)
        try:
            response = self._dynamodb.query(**query)
        except AWS_ERRORS as error:
            raise unavailable() from error
        files = [StoredFile(from_attributes(raw)) for raw in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        return files, encode_cursor(last_key) if last_key else None


_IMMUTABLE_FIELDS = ("file_id", "owner", "bucket", "s3_key", "size_bytes", "sha256", "created_at")
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


# Attribute values by hand, not with boto3.dynamodb.types: that would import all
# of boto3 (s3transfer included) into every cold start for two small functions.
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


def _attachment(file_name: str) -> str:
    # RFC 6266 / 5987: an ASCII fallback plus the exact UTF-8 name.
    fallback = file_name.encode("ascii", errors="replace").decode().replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(file_name)}"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_condition_failure(error: Exception) -> bool:
    return isinstance(error, ClientError) and error_code(error) == "ConditionalCheckFailedException"


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def unavailable() -> StorageUnavailableError:
    return StorageUnavailableError("service_unavailable", "storage is unavailable; retry later")


def _not_found() -> NotFoundError:
    return NotFoundError("not_found", "no such file")


def _bad_cursor() -> InvalidUploadError:
    return InvalidUploadError("invalid_cursor", "cursor is not valid for this listing")
