"""Direct-to-S3 uploads: presigned URLs for the bytes, a pending record until they arrive.

`POST /uploads` reserves the file's bytes (and one file) in the owner's quota
and writes a pending record (its own table, so it never reaches the files
table's stream) in one transaction, and hands out URLs that can only write
this upload's key: its size, SSE-KMS under the environment key,
`If-None-Match: *` (S3 refuses to replace an object that exists) and, for a
single PUT, its SHA-256. The URLs live minutes; GET .../parts signs fresh ones
for the parts S3 has not received. Completion, by the S3 object-created event
or by the client's `complete`, moves the record into the files table in one
transaction whose conditions let exactly one of them create the file item. The
INSERT of that item starts the pipeline, as for `POST /upload`; the processor
then verifies the declared size and SHA-256 against the bytes.

Completion and discard both *close* the record: it stays, without its details,
until every URL signed for it has expired. An object a leftover URL writes
after a discard or a delete has an object-created event that finds the record
closed and no file, and the whole prefix is removed at once (the runbook's
sweep-orphans removes whatever an event missed).

Every S3 call uses the configured bucket and the key derived from the owner,
the file id and the stored name (storage.verified_key): a record that names
anything else is refused as not found. How the bytes travel (one PUT, or
parts of a size S3 accepts) is direct_plan's arithmetic; this module makes
the calls.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from upload_api.core import metrics
from upload_api.core.domain import ConflictError, InvalidUploadError, NotFoundError
from upload_api.core.files import guess_content_type, sanitise_file_name
from upload_api.direct_plan import MULTIPART, SINGLE, UploadPlan, parts_match, plan_upload
from upload_api.dynamodb_items import from_attributes, to_attributes
from upload_api.quota import Quota, cancelled_by
from upload_api.storage import (
    AWS_ERRORS,
    StoredFile,
    error_code,
    is_throttled,
    is_uuid,
    purge_file,
    unavailable,
    verified_key,
)
from upload_contract import (
    PENDING_TTL_ATTRIBUTE,
    UPLOAD_PREFIX,
    FileItem,
    Status,
    object_key,
    timestamp,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef
    from mypy_boto3_s3.client import S3Client

# A closed record has this attribute (when it was closed) and no upload details.
CLOSED = "closed_at"
# Clocks differ a little: a closed record outlives the URLs signed for it by this much.
CLOCK_MARGIN_SECONDS = 60
_TTL = PENDING_TTL_ATTRIBUTE


@dataclass(frozen=True)
class PendingUpload:
    """A started direct upload, with the URLs its bytes go to and when they expire."""

    record: Mapping[str, Any]
    upload: dict[str, Any]
    expires_at: str

    @property
    def s3_path(self) -> str:
        return f"s3://{self.record['bucket']}/{self.record['s3_key']}"


@dataclass(frozen=True)
class UploadParts:
    """A multipart upload's state for resuming: the parts S3 holds, URLs for the others."""

    part_size: int
    received: list[dict[str, Any]]
    pending: PendingUpload


class DirectUploadService:
    def __init__(
        self,
        *,
        s3: S3Client,
        dynamodb: DynamoDBClient,
        bucket: str,
        files_table: str,
        pending_table: str,
        kms_key_id: str,
        url_ttl: int,
        pending_ttl: int,
        single_put_max_bytes: int,
        part_bytes: int,
        max_bytes: int,
        quota: Quota,
        logger: Any,
    ) -> None:
        self._quota = quota
        self._s3 = s3
        self._dynamodb = dynamodb
        self._bucket = bucket
        self._files_table = files_table
        self._pending_table = pending_table
        self._kms_key_id = kms_key_id
        self._url_ttl = url_ttl
        self._pending_ttl = pending_ttl
        self._single_put_max_bytes = single_put_max_bytes
        self._part_bytes = part_bytes
        self._max_bytes = max_bytes
        self._logger = logger

    def _plan(self, size_bytes: int) -> UploadPlan:
        return plan_upload(
            size_bytes,
            single_put_max_bytes=self._single_put_max_bytes,
            part_bytes=self._part_bytes,
            max_bytes=self._max_bytes,
        )

    # ------------------------------------------------------------ start

    def start(
        self, owner: str, file_name: str, comment: str, size_bytes: int, sha256: str
    ) -> PendingUpload:
        plan = self._plan(size_bytes)
        safe_name = sanitise_file_name(file_name)
        now = time.time()
        # Expired reservations go back first; refused now rather than after a
        # multipart upload was created. The transaction below is what enforces it.
        try:
            self._quota.make_room(self._dynamodb, owner, size_bytes, now)
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        file_id = str(uuid.uuid4())
        key = object_key(owner, file_id, safe_name)
        expires_at = int(now) + self._pending_ttl
        record: dict[str, Any] = {
            "file_id": file_id,
            "owner": owner,
            "bucket": self._bucket,
            "s3_key": key,
            "file_name": safe_name,
            "size_bytes": size_bytes,
            "sha256": sha256,
            # The bytes have not arrived: the name is all there is to go by.
            "content_type": guess_content_type(safe_name),
            "comment": comment,
            "created_at": timestamp(),
            "method": plan.method,
            "part_size": plan.part_size,
            _TTL: expires_at,
        }
        if plan.method == MULTIPART:
            record["upload_id"] = self._create_multipart(record, key)
        try:
            # The record and its reservation: both or neither. The token makes the
            # SDK's retry of a committed attempt a success.
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._pending_table,
                            "Item": to_attributes(record),
                            "ConditionExpression": "attribute_not_exists(file_id)",
                        }
                    },
                    self._quota.reserve(owner, size_bytes, expires_at),
                ],
                ClientRequestToken=file_id,
            )
        except AWS_ERRORS as error:
            over_quota = isinstance(error, ClientError) and cancelled_by(error, 1)
            if not over_quota:
                self._logger.exception("pending record write failed", extra={"file_id": file_id})
            if plan.method == MULTIPART:
                self._abort_multipart(record, key)
            raise (self._quota.exceeded() if over_quota else unavailable(error)) from error
        upload = self._instructions(record, key, plan, missing=plan.part_numbers)
        self._logger.info(
            "direct upload started",
            extra={"file_id": file_id, "size_bytes": size_bytes, "method": plan.method},
        )
        return PendingUpload(record, upload, _expiry(now, self._url_ttl))

    def _create_multipart(self, record: Mapping[str, Any], key: str) -> str:
        try:
            created = self._s3.create_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                ContentType=record["content_type"],
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._kms_key_id,
                BucketKeyEnabled=True,
                Metadata={"file-id": record["file_id"], "owner": record["owner"]},
            )
        except AWS_ERRORS as error:
            self._logger.exception("multipart create failed", extra={"file_id": record["file_id"]})
            raise unavailable(error) from error
        return created["UploadId"]

    def _instructions(
        self, record: Mapping[str, Any], key: str, plan: UploadPlan, *, missing: Sequence[int]
    ) -> dict[str, Any]:
        """What the client sends: one signed PUT with its exact headers, or one URL a part."""
        try:
            if plan.method == SINGLE:
                headers = self._single_put_headers(record)
                url = self._s3.generate_presigned_url(
                    "put_object",
                    Params={
                        "Bucket": self._bucket,
                        "Key": key,
                        "ContentLength": record["size_bytes"],
                        "ContentType": headers["Content-Type"],
                        "ChecksumSHA256": headers["x-amz-checksum-sha256"],
                        "ServerSideEncryption": "aws:kms",
                        "SSEKMSKeyId": self._kms_key_id,
                        # Signed, so the URL can only create the object, never replace it.
                        "IfNoneMatch": "*",
                    },
                    ExpiresIn=self._url_ttl,
                )
                return {"method": SINGLE, "url": url, "headers": headers}
            parts = [
                {
                    "part_number": number,
                    "url": self._s3.generate_presigned_url(
                        "upload_part",
                        Params={
                            "Bucket": self._bucket,
                            "Key": key,
                            "UploadId": record["upload_id"],
                            "PartNumber": number,
                            "ContentLength": plan.part_bytes(number),
                        },
                        ExpiresIn=self._url_ttl,
                    ),
                }
                for number in missing
            ]
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        return {"method": MULTIPART, "part_size": plan.part_size, "parts": parts}

    def _single_put_headers(self, record: Mapping[str, Any]) -> dict[str, str]:
        """Every header a single PUT must carry: the URL's signature covers each of them."""
        return {
            "Content-Length": str(record["size_bytes"]),
            "Content-Type": record["content_type"],
            "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(record["sha256"])).decode(),
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
            "If-None-Match": "*",
        }

    # ------------------------------------------------------------ parts (resume)

    def parts(self, owner: str, file_id: str) -> UploadParts:
        """The parts S3 holds, and freshly signed URLs for the others."""
        record, key = self._live(owner, file_id)
        if record["method"] != MULTIPART:
            raise ConflictError("not_multipart", "this upload is a single PUT; it has no parts")
        plan = _multipart_plan(record)
        received = self._received_parts(record, key)
        if received is None:
            raise ConflictError("upload_gone", "the multipart upload was completed or aborted")
        missing = plan.missing_parts(received)
        now = time.time()
        upload = self._instructions(record, key, plan, missing=missing)
        listed = [
            {"part_number": n, "etag": part["ETag"].strip('"'), "size_bytes": part["Size"]}
            for n, part in sorted(received.items())
        ]
        pending = PendingUpload(record, upload, _expiry(now, self._url_ttl))
        return UploadParts(int(record["part_size"]), listed, pending)

    def _received_parts(
        self, record: Mapping[str, Any], key: str
    ) -> dict[int, dict[str, Any]] | None:
        """Part number -> S3's part; None once the multipart upload is completed or aborted."""
        received: dict[int, dict[str, Any]] = {}
        marker = 0
        try:
            while True:
                page = self._s3.list_parts(
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=record["upload_id"],
                    PartNumberMarker=marker,
                )
                for part in page.get("Parts", []):
                    received[part["PartNumber"]] = dict(part)
                if not page.get("IsTruncated"):
                    return received
                marker = page["NextPartNumberMarker"]
        except ClientError as error:
            if error_code(error) == "NoSuchUpload":
                return None
            raise unavailable(error) from error
        except AWS_ERRORS as error:
            raise unavailable(error) from error

    # ------------------------------------------------------------ completion

    def complete(
        self, owner: str, file_id: str, parts: Sequence[tuple[int, str]] | None
    ) -> StoredFile:
        """The client's signal: completes the multipart upload, then the record, once."""
        record = self._record(file_id)
        if record is None or _closed(record) or _expired(record, time.time()):
            # Completed before (by the event, or an earlier call): answer with the file.
            return self._completed_file(owner, file_id)
        if record.get("owner") != owner:
            raise _not_found()
        key = self._verified(record, owner)
        # S3 has just assembled a multipart object: no need to ask whether it is there.
        assembled = record["method"] == MULTIPART and self._complete_multipart(record, key, parts)
        if not assembled and not self._bytes_arrived(key):
            raise ConflictError("upload_incomplete", "the file's bytes have not arrived yet")
        return self._finalise(record, key) or self._completed_file(owner, file_id)

    def complete_object(self, bucket: str, key: str) -> str:
        """The S3 object-created event's signal. Returns what happened, for the log.

        The key is only believed once the pending record of its file id agrees
        with it; an object under a closed or expired upload's prefix is no file's
        and is removed with everything else under that prefix.
        """
        parsed = _upload_key(key)
        if bucket != self._bucket or parsed is None:
            return "ignored: not an upload key"
        owner, file_id = parsed
        record = self._record(file_id)
        if record is None:
            # A POST /upload object (its item follows), or an upload long gone.
            return "ignored: no pending upload"
        ours = record.get("owner") == owner
        if ours and (_closed(record) or _expired(record, time.time())):
            return self._leftover(record, owner, file_id)
        if not ours or verified_key(record, owner, self._bucket, self._logger) != key:
            self._logger.warning("object at a key no upload was given", extra={"file_id": file_id})
            return "ignored: key does not match the pending upload"
        if not self._bytes_arrived(key):
            return "ignored: no object at the key"
        return "completed" if self._finalise(record, key) else "ignored: completed already"

    def _leftover(self, record: Mapping[str, Any], owner: str, file_id: str) -> str:
        """An object under a closed or expired upload: no file's, unless it became one."""
        if _closed(record):
            if self._file_exists(owner, file_id):
                return "ignored: completed already"
            # A URL used after its upload was discarded or its file deleted.
            purge_file(self._s3, self._bucket, owner, file_id, self._logger)
            return "removed: the upload was closed"
        # Expired: it can no longer complete (its reservation goes back with its bucket).
        if self._close(record, release=False):
            purge_file(self._s3, self._bucket, owner, file_id, self._logger)
        return "removed: the upload expired"

    def _complete_multipart(
        self, record: Mapping[str, Any], key: str, claimed: Sequence[tuple[int, str]] | None
    ) -> bool:
        """Assemble the parts; False when a concurrent complete did (or the upload is gone)."""
        plan = _multipart_plan(record)
        received = self._received_parts(record, key)
        if received is None:
            return False  # _finalise settles which complete wins
        missing = plan.missing_parts(received)
        if missing:
            raise ConflictError(
                "upload_incomplete",
                f"{len(missing)} of {plan.part_count} parts have not arrived "
                f"(first missing: {missing[0]})",
            )
        etags = {n: part["ETag"] for n, part in received.items()}
        if claimed is not None and not parts_match(claimed, etags):
            raise InvalidUploadError(
                "parts_mismatch",
                "parts must list every part_number once with the ETag S3 returned for it",
            )
        try:
            self._s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=record["upload_id"],
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in plan.part_numbers]
                },
                # Never replaces an object: only the first assembly can create it.
                IfNoneMatch="*",
            )
        except ClientError as error:
            # NoSuchUpload: a concurrent complete got there first; PreconditionFailed:
            # the object exists already (a retry of an assembly that succeeded).
            # Either way whether the bytes are there decides, then _finalise.
            if is_throttled(error) or _status(error) >= 500:
                # S3's trouble, not a refusal of the parts: the client retries.
                raise unavailable(error) from error
            if error_code(error) not in {"NoSuchUpload", "PreconditionFailed"}:
                self._logger.exception(
                    "multipart complete failed", extra={"file_id": record["file_id"]}
                )
                raise ConflictError(
                    "upload_rejected", f"S3 refused to assemble the parts: {error_code(error)}"
                ) from error
            return False
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        return True

    def _bytes_arrived(self, key: str) -> bool:
        return self._current_version(key) is not None

    def _current_version(self, key: str) -> str | None:
        """The version id of the object at the key, None if there is none.

        Listed, not headed: HeadObject needs s3:GetObject, which the bucket policy
        denies until the malware scan has cleared the object.
        """
        try:
            listing = self._s3.list_object_versions(Bucket=self._bucket, Prefix=key)
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        current = [
            v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key and v["IsLatest"]
        ]
        return current[0] if current else None

    def _finalise(self, record: Mapping[str, Any], key: str) -> StoredFile | None:
        """Pending record -> file item (its bytes are in S3), in one transaction that also
        closes the record and turns its reservation into the file's count.

        None when another signal won (or the upload was discarded meanwhile)."""
        owner, size_bytes = record["owner"], int(record["size_bytes"])
        item: FileItem = {
            "file_id": record["file_id"],
            "owner": owner,
            "bucket": self._bucket,
            "s3_key": key,
            "file_name": record["file_name"],
            "size_bytes": size_bytes,
            "sha256": record["sha256"],
            "content_type": record["content_type"],
            "comment": record["comment"],
            "status": Status.UPLOADED.value,
            "created_at": record["created_at"],
            "updated_at": timestamp(),
        }
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._files_table,
                            "Item": to_attributes(item),
                            "ConditionExpression": "attribute_not_exists(file_id)",
                        }
                    },
                    self._closing(record, live=True),
                    self._quota.settle(owner, size_bytes, int(record[_TTL])),
                ]
            )
        except ClientError as error:
            if cancelled_by(error, 0) or cancelled_by(error, 1):
                return None
            raise unavailable(error) from error
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        self._logger.info("direct upload completed", extra={"file_id": record["file_id"]})
        metrics.stored(size_bytes, "direct")
        return StoredFile(item)

    def _completed_file(self, owner: str, file_id: str) -> StoredFile:
        item = self._file_item(owner, file_id)
        if item is None or verified_key(item, owner, self._bucket, self._logger) is None:
            raise _not_found()
        return StoredFile(item)

    def _file_item(self, owner: str, file_id: str) -> dict[str, Any] | None:
        try:
            raw = self._dynamodb.get_item(
                TableName=self._files_table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        if raw is None or raw.get("owner", {}).get("S") != owner:
            return None
        return from_attributes(raw)

    def _file_exists(self, owner: str, file_id: str) -> bool:
        """Whether the upload became a file that is still there (not being deleted)."""
        item = self._file_item(owner, file_id)
        return item is not None and item.get("status") != Status.DELETING

    # ------------------------------------------------------------ abort

    def abort(self, owner: str, file_id: str) -> bool:
        """Cancel a pending upload: the record is closed first (so no signal can complete
        it after) and its reservation given back, then everything under its prefix goes.

        False when there is no upload of that id to cancel (it may be a file). A closed
        upload with no file is aborted again only if bytes were left under its prefix;
        with nothing left it is not found."""
        record = self._record(file_id)
        if record is None:
            return False
        if record.get("owner") != owner:
            raise _not_found()
        if _closed(record):
            # Completed: DELETE deletes the file, or finishes a delete that marked it
            # DELETING and was cut short (only that removes the item and releases its bytes).
            if self._file_item(owner, file_id) is not None:
                return False
            # Discarded, or its file deleted, before: purge again (idempotent), in case
            # that purge failed or a leftover URL wrote since.
            if not purge_file(self._s3, self._bucket, owner, file_id, self._logger).anything:
                raise _not_found()
            return True
        self._verified(record, owner)  # a forged record is 404
        # An expired record's reservation goes back with its hour bucket, not here.
        if not self._close(record, release=not _expired(record, time.time())):
            return False  # completed meanwhile: now a file
        # The purge aborts the recorded multipart upload with any other under the prefix.
        purge_file(self._s3, self._bucket, owner, file_id, self._logger)
        self._logger.info("direct upload aborted", extra={"file_id": file_id})
        return True

    def _close(self, record: Mapping[str, Any], *, release: bool) -> bool:
        """Close the record, giving its reservation back if `release`. False if it was
        closed already (completed or discarded by another signal)."""
        items = [self._closing(record, live=release)]
        if release:
            items.append(
                self._quota.cancel(record["owner"], int(record["size_bytes"]), int(record[_TTL]))
            )
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except ClientError as error:
            if cancelled_by(error, 0):
                return False
            raise unavailable(error) from error
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        return True

    def _closing(self, record: Mapping[str, Any], *, live: bool) -> TransactWriteItemTypeDef:
        """The transaction item that replaces the record with its closed form, if it is
        still the record that was read (and, when `live`, has not expired)."""
        now = time.time()
        closed = {
            "file_id": record["file_id"],
            "owner": record["owner"],
            CLOSED: timestamp(),
            # Every URL for it was signed before now: none outlives this.
            _TTL: int(now) + self._url_ttl + CLOCK_MARGIN_SECONDS,
        }
        condition = "attribute_exists(file_id) AND attribute_not_exists(#closed) AND #ttl = :ttl"
        values = {":ttl": {"N": str(int(record[_TTL]))}}
        if live:
            condition += " AND #ttl > :now"
            values[":now"] = {"N": str(int(now))}
        return {
            "Put": {
                "TableName": self._pending_table,
                "Item": to_attributes(closed),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#closed": CLOSED, "#ttl": _TTL},
                "ExpressionAttributeValues": values,
            }
        }

    def _abort_multipart(self, record: Mapping[str, Any], key: str) -> None:
        """The recorded multipart upload of a start whose record could not be written."""
        try:
            self._s3.abort_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=record["upload_id"]
            )
        except ClientError as error:
            if error_code(error) != "NoSuchUpload":  # assembled already: the purge removes it
                self._logger.exception(
                    "multipart abort failed", extra={"file_id": record["file_id"]}
                )
        except AWS_ERRORS:
            # The purge, or the bucket's lifecycle rule within a day, aborts it.
            self._logger.exception("multipart abort failed", extra={"file_id": record["file_id"]})

    # ------------------------------------------------------------ records

    def _record(self, file_id: str) -> dict[str, Any] | None:
        """The pending record of `file_id` as stored: live, closed or expired."""
        if not is_uuid(file_id):
            raise _not_found()
        try:
            raw = self._dynamodb.get_item(
                TableName=self._pending_table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as error:
            raise unavailable(error) from error
        return None if raw is None else from_attributes(raw)

    def _live(self, owner: str, file_id: str) -> tuple[dict[str, Any], str]:
        """The caller's pending upload that may still receive bytes, and its derived key."""
        record = self._record(file_id)
        # DynamoDB deletes expired items within days, not at once: expired is gone.
        if (
            record is None
            or _closed(record)
            or _expired(record, time.time())
            or record.get("owner") != owner
        ):
            raise _not_found()
        return record, self._verified(record, owner)

    def _verified(self, record: Mapping[str, Any], owner: str) -> str:
        """The record's derived key; a record that names another location, or is not the
        shape start() writes, is not found."""
        key = verified_key(record, owner, self._bucket, self._logger)
        if key is None or not _well_formed(record):
            raise _not_found()
        return key


def _closed(record: Mapping[str, Any]) -> bool:
    return CLOSED in record


def _expired(record: Mapping[str, Any], now: float) -> bool:
    expires_at = record.get(_TTL)
    # Numbers are read as Decimal; a record without a number here never was live.
    return not isinstance(expires_at, int | Decimal) or expires_at <= Decimal(now)


def _well_formed(record: Mapping[str, Any]) -> bool:
    """The fields the upload's S3 calls and its file item are built from, as start() wrote them."""
    text = ("sha256", "content_type", "comment", "created_at")
    return (
        all(isinstance(record.get(name), str) for name in text)
        and record.get("method") in (SINGLE, MULTIPART)
        and isinstance(record.get("size_bytes"), int)
        and isinstance(record.get("part_size"), int | Decimal)
        and int(record["part_size"]) > 0
        and (record["method"] == SINGLE or isinstance(record.get("upload_id"), str))
    )


def _upload_key(key: str) -> tuple[str, str] | None:
    """(owner, file_id) of a key shaped as the contract's object_key makes them."""
    segments = key.removeprefix(UPLOAD_PREFIX).split("/")
    if not key.startswith(UPLOAD_PREFIX) or len(segments) != 3 or not is_uuid(segments[1]):
        return None
    owner, file_id, name = segments
    try:
        return (owner, file_id) if object_key(owner, file_id, name) == key else None
    except ValueError:
        return None


def _multipart_plan(record: Mapping[str, Any]) -> UploadPlan:
    """The plan a pending multipart record was started with."""
    return UploadPlan(MULTIPART, int(record["size_bytes"]), int(record["part_size"]))


def _expiry(now: float, ttl: int) -> str:
    return timestamp(datetime.fromtimestamp(now + ttl, UTC))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _not_found() -> NotFoundError:
    return NotFoundError("not_found", "no such upload")
