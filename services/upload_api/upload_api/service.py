"""Upload business logic: S3 object + DynamoDB item, all or nothing.

Plain Python with injected botocore clients, so it runs the same on Lambda, in the
local stack and against moto in tests.
"""

import base64
import hashlib
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from upload_api.core import metrics
from upload_api.core.domain import NotFoundError
from upload_api.core.files import detect_content_type, sanitise_file_name
from upload_api.dynamodb_items import decode_cursor, encode_cursor, from_attributes, to_attributes
from upload_api.quota import Quota, cancelled_by
from upload_api.storage import (
    AWS_ERRORS,
    StoredFile,
    error_code,
    is_uuid,
    purge_file,
    unavailable,
    verified_key,
)
from upload_contract import OWNER_INDEX, FileItem, Status, object_key, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client


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
            raise unavailable(error) from error
        failure = self._write_item(item)
        if failure is not None and _over_quota(failure) and self._released_expired(owner):
            # Room held by expired direct uploads was given back: one more try.
            failure = self._write_item(item, retry=True)
        if failure is not None:
            self._logger.info(
                "metadata write refused or failed; removing object",
                extra={"file_id": file_id, "over_quota": _over_quota(failure)},
            )
            self._remove_object(key, put.get("VersionId"))
            refusal = self._quota.exceeded() if _over_quota(failure) else unavailable(failure)
            raise refusal from failure
        self._logger.info(
            "file stored",
            extra={"file_id": file_id, "size_bytes": len(data), "content_type": content_type},
        )
        metrics.stored(len(data), "json")
        return StoredFile(item)

    def _write_item(self, item: FileItem, *, retry: bool = False) -> Exception | None:
        """The item and the owner's usage in one transaction: both or neither.

        None once the item is written; otherwise the error that stopped it.
        """
        # The first attempt's token makes the SDK's own retry of it idempotent.
        token = {} if retry else {"ClientRequestToken": item["file_id"]}
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_attributes(item),
                            "ConditionExpression": "attribute_not_exists(file_id)",
                        }
                    },
                    self._quota.count(item["owner"], item["size_bytes"]),
                ],
                **token,  # type: ignore[arg-type]
            )
        except AWS_ERRORS as error:
            # A retried transaction whose first attempt did commit fails its own
            # condition: that write succeeded, and deleting the object would orphan it.
            if isinstance(error, ClientError) and cancelled_by(error, 0) and self._item_is(item):
                return None
            return error
        return None

    def _released_expired(self, owner: str) -> bool:
        try:
            return self._quota.release_expired(self._dynamodb, owner, time.time())
        except AWS_ERRORS:
            self._logger.exception("releasing expired reservations failed")
            return False

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
        # Under load the failed write and this delete are often throttled together:
        # a few tries, a moment apart, cost less than an orphan left for the sweep.
        for attempt in range(1, _COMPENSATING_DELETE_TRIES + 1):
            try:
                # On a versioned bucket a plain delete only adds a delete marker;
                # removing the exact version leaves no orphan bytes behind.
                if version_id:
                    self._s3.delete_object(Bucket=self._bucket, Key=key, VersionId=version_id)
                else:
                    self._s3.delete_object(Bucket=self._bucket, Key=key)
            except AWS_ERRORS:
                if attempt == _COMPENSATING_DELETE_TRIES:
                    self._logger.exception(
                        "compensating delete failed: orphan object needs removal (sweep-orphans)",
                        extra={"s3_key": key, "version_id": version_id},
                    )
                    return
                time.sleep(_COMPENSATING_DELETE_PAUSE_SECONDS * attempt)
            else:
                return

    def get(self, owner: str, file_id: str) -> StoredFile:
        item = self._owned_item(owner, file_id)
        if verified_key(item, owner, self._bucket, self._logger) is None:
            raise _not_found()
        return StoredFile(item)

    def _owned_item(self, owner: str, file_id: str) -> dict[str, Any]:
        if not is_uuid(file_id):
            raise _not_found()
        try:
            response = self._dynamodb.get_item(
                TableName=self._table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            )
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        raw = response.get("Item")
        # Another user's file is indistinguishable from a missing one.
        if raw is None or raw.get("owner", {}).get("S") != owner:
            raise _not_found()
        return from_attributes(raw)

    def download_url(self, stored: StoredFile) -> str | None:
        """A short-lived URL for the version the malware scan cleared; None without one.

        Bucket and key are derived again here, never read from the item, and the
        version pins the bytes: a later PUT at the key could never be what is served.
        """
        item = stored.item
        key = verified_key(item, item["owner"], self._bucket, self._logger)
        version_id = item.get("scanned_version_id")
        if key is None or not isinstance(version_id, str) or not version_id:
            return None
        try:
            return self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "VersionId": version_id,
                    # Always a download, never rendered inline: uploaded HTML or SVG
                    # must not run in a browser under the bucket's origin.
                    "ResponseContentDisposition": _attachment(item["file_name"]),
                },
                ExpiresIn=self._presigned_url_ttl,
            )
        except AWS_ERRORS as error:
            raise unavailable(error) from error

    def delete(self, owner: str, file_id: str) -> None:
        """Everything under the file's prefix, then the item. A retry finishes what a crash left.

        The item is marked DELETING first, under the condition that it is the
        caller's and still names the location it was checked for: the pipeline's
        writes are conditional on UPLOADED, so a file still being processed is
        not written back after its bytes are gone. The bytes removed are every
        version, delete marker and open multipart upload under
        uploads/<caller's sub>/<file_id>/, whatever the item says.
        """
        item = self._owned_item(owner, file_id)
        key = verified_key(item, owner, self._bucket, self._logger)
        if key is None:
            raise _not_found()
        try:
            marked = self._dynamodb.update_item(
                TableName=self._table,
                Key={"file_id": {"S": file_id}},
                UpdateExpression="SET #status = :deleting, updated_at = :now",
                ConditionExpression="#owner = :owner AND #bucket = :bucket AND s3_key = :key",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#owner": "owner",
                    "#bucket": "bucket",
                },
                ExpressionAttributeValues={
                    ":deleting": {"S": Status.DELETING.value},
                    ":now": {"S": timestamp()},
                    ":owner": {"S": owner},
                    ":bucket": {"S": self._bucket},
                    ":key": {"S": key},
                },
                ReturnValues="ALL_NEW",
            )
        except AWS_ERRORS as error:
            if _is_condition_failure(error):
                raise _not_found() from error  # gone, or rewritten since it was read
            raise unavailable(error) from error
        purge_file(self._s3, self._bucket, owner, file_id, self._logger)
        try:
            # The item goes, and its bytes go back to the owner's quota, together.
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": {"file_id": {"S": file_id}},
                            "ConditionExpression": "#status = :deleting",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":deleting": {"S": Status.DELETING.value}
                            },
                        }
                    },
                    self._quota.release(owner, int(marked["Attributes"]["size_bytes"]["N"])),
                ]
            )
        except AWS_ERRORS as error:
            # Cancelled on the item: a concurrent delete finished first.
            if not (isinstance(error, ClientError) and cancelled_by(error, 0)):
                raise unavailable(error) from error
        self._logger.info("file deleted", extra={"file_id": file_id})

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
            raise unavailable(error) from error
        # An item naming a location it cannot have is left out (and logged), never shown.
        files = [
            StoredFile(item)
            for item in map(from_attributes, response.get("Items", []))
            if verified_key(item, owner, self._bucket, self._logger) is not None
        ]
        last_key = response.get("LastEvaluatedKey")
        return files, encode_cursor(last_key) if last_key else None


# Each try is itself up to two SDK attempts: 3 tries, 0.2 s then 0.4 s apart.
_COMPENSATING_DELETE_TRIES = 3
_COMPENSATING_DELETE_PAUSE_SECONDS = 0.2
_IMMUTABLE_FIELDS = ("file_id", "owner", "bucket", "s3_key", "size_bytes", "sha256", "created_at")


def _attachment(file_name: str) -> str:
    # RFC 6266 / 5987: an ASCII fallback plus the exact UTF-8 name.
    fallback = file_name.encode("ascii", errors="replace").decode().replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(file_name)}"


def _over_quota(error: Exception) -> bool:
    return isinstance(error, ClientError) and cancelled_by(error, 1)


def _is_condition_failure(error: Exception) -> bool:
    return isinstance(error, ClientError) and error_code(error) == "ConditionalCheckFailedException"


def _not_found() -> NotFoundError:
    return NotFoundError("not_found", "no such file")
