"""Direct-to-S3 uploads: presigned URLs for the bytes, a pending record until they arrive.

`POST /uploads` writes a pending record (its own table, so it never reaches the
files table's stream) and hands out URLs that can only write this upload's
key, with its size, SSE-KMS under the environment key and, for a single PUT,
its SHA-256. Completion, by the S3 object-created event or by the client's
`complete`, moves the record into the files table in one transaction whose
conditions let exactly one of them create the file item. The INSERT of that
item starts the pipeline, as for `POST /upload`; the processor then verifies
the declared size and SHA-256 against the bytes.
"""

from __future__ import annotations

import base64
import math
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from upload_api.core import metrics
from upload_api.core.domain import (
    ConflictError,
    FileTooLargeError,
    InvalidUploadError,
    NotFoundError,
    StorageUnavailableError,
)
from upload_api.core.files import detect_content_type, sanitise_file_name
from upload_api.quota import Quota, cancelled_by
from upload_api.service import (
    AWS_ERRORS,
    StoredFile,
    error_code,
    from_attributes,
    is_uuid,
    object_key,
    to_attributes,
    unavailable,
)
from upload_contract import PENDING_TTL_ATTRIBUTE, FileItem, Status, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

MIB = 1024 * 1024
GIB = 1024 * MIB
# S3's own limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most
# 10,000 of them, and at most 5 GiB in one PUT.
S3_MIN_PART_BYTES = 5 * MIB
S3_MAX_PARTS = 10_000
S3_MAX_PUT_BYTES = 5 * GIB
SINGLE = "PUT"
MULTIPART = "MULTIPART"
_OBJECT_KEY = re.compile(r"uploads/(?P<owner>[^/]+)/(?P<file_id>[0-9a-f-]{36})/[^/]+")


@dataclass(frozen=True)
class UploadPlan:
    """How a file of `size_bytes` travels: one PUT, or parts of `part_size` (the last smaller)."""

    method: str
    size_bytes: int
    part_size: int

    @property
    def part_count(self) -> int:
        return max(1, math.ceil(self.size_bytes / self.part_size))

    def part_bytes(self, part_number: int) -> int:
        """Size of part `part_number` (1-based): every part is part_size, but the last."""
        return min(self.part_size, self.size_bytes - (part_number - 1) * self.part_size)


def plan_upload(
    size_bytes: int, *, single_put_max_bytes: int, part_bytes: int, max_bytes: int
) -> UploadPlan:
    """One PUT up to the threshold, else the smallest whole-MiB part size from `part_bytes` up
    that keeps the file within S3's 10,000 parts."""
    if size_bytes > max_bytes:
        raise FileTooLargeError(
            "file_too_large", f"size_bytes {size_bytes} exceeds the limit of {max_bytes} bytes"
        )
    if size_bytes <= single_put_max_bytes:
        return UploadPlan(SINGLE, size_bytes, max(size_bytes, 1))
    needed = math.ceil(size_bytes / S3_MAX_PARTS)
    part_size = max(part_bytes, math.ceil(needed / MIB) * MIB)
    return UploadPlan(MULTIPART, size_bytes, part_size)


@dataclass(frozen=True)
class PendingUpload:
    """A started direct upload, with the URLs its bytes go to and when they expire."""

    record: Mapping[str, Any]
    upload: dict[str, Any]
    expires_at: str

    @property
    def s3_path(self) -> str:
        return f"s3://{self.record['bucket']}/{self.record['s3_key']}"


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
        # Refused now rather than after gigabytes went up; completion enforces it.
        try:
            self._quota.check_room(self._dynamodb, owner, size_bytes)
        except AWS_ERRORS as error:
            raise unavailable() from error
        file_id = str(uuid.uuid4())
        now = time.time()
        record: dict[str, Any] = {
            "file_id": file_id,
            "owner": owner,
            "bucket": self._bucket,
            "s3_key": object_key(owner, file_id, safe_name),
            "file_name": safe_name,
            "size_bytes": size_bytes,
            "sha256": sha256,
            "content_type": detect_content_type(b"", safe_name),
            "comment": comment,
            "created_at": timestamp(),
            "method": plan.method,
            "part_size": plan.part_size,
            PENDING_TTL_ATTRIBUTE: int(now) + self._pending_ttl,
        }
        if plan.method == MULTIPART:
            record["upload_id"] = self._create_multipart(record)
        try:
            self._dynamodb.put_item(
                TableName=self._pending_table,
                Item=to_attributes(record),
                ConditionExpression="attribute_not_exists(file_id)",
            )
        except AWS_ERRORS as error:
            self._logger.exception("pending record write failed", extra={"file_id": file_id})
            if plan.method == MULTIPART:
                self._abort_multipart(record)
            raise unavailable() from error
        upload = self._instructions(record, plan, missing=range(1, plan.part_count + 1))
        self._logger.info(
            "direct upload started",
            extra={"file_id": file_id, "size_bytes": size_bytes, "method": plan.method},
        )
        return PendingUpload(record, upload, _expiry(now, self._url_ttl))

    def _create_multipart(self, record: Mapping[str, Any]) -> str:
        try:
            created = self._s3.create_multipart_upload(
                Bucket=self._bucket,
                Key=record["s3_key"],
                ContentType=record["content_type"],
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._kms_key_id,
                BucketKeyEnabled=True,
                Metadata={"file-id": record["file_id"], "owner": record["owner"]},
            )
        except AWS_ERRORS as error:
            self._logger.exception("multipart create failed", extra={"file_id": record["file_id"]})
            raise unavailable() from error
        return created["UploadId"]

    def _instructions(
        self, record: Mapping[str, Any], plan: UploadPlan, *, missing: Sequence[int]
    ) -> dict[str, Any]:
        """What the client sends: one signed PUT with its exact headers, or one URL a part."""
        try:
            if plan.method == SINGLE:
                headers = self._single_put_headers(record)
                url = self._s3.generate_presigned_url(
                    "put_object",
                    Params={
                        "Bucket": record["bucket"],
                        "Key": record["s3_key"],
                        "ContentLength": record["size_bytes"],
                        "ContentType": headers["Content-Type"],
                        "ChecksumSHA256": headers["x-amz-checksum-sha256"],
                        "ServerSideEncryption": "aws:kms",
                        "SSEKMSKeyId": self._kms_key_id,
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
                            "Bucket": record["bucket"],
                            "Key": record["s3_key"],
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
            raise unavailable() from error
        return {"method": MULTIPART, "part_size": plan.part_size, "parts": parts}

    def _single_put_headers(self, record: Mapping[str, Any]) -> dict[str, str]:
        """Every header a single PUT must carry: the URL's signature covers each of them."""
        return {
            "Content-Length": str(record["size_bytes"]),
            "Content-Type": record["content_type"],
            "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(record["sha256"])).decode(),
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
        }

    # ------------------------------------------------------------ parts (resume)

    def parts(self, owner: str, file_id: str) -> tuple[Mapping[str, Any], list[dict[str, Any]],
                                                      PendingUpload]:  # fmt: skip
        """The parts S3 holds, and fresh URLs for the others."""
        record = self._owned_pending(owner, file_id)
        if record["method"] != MULTIPART:
            raise ConflictError("not_multipart", "this upload is a single PUT; it has no parts")
        plan = _multipart_plan(record)
        received = self._received_parts(record)
        if received is None:
            raise ConflictError("upload_gone", "the multipart upload was completed or aborted")
        missing = [n for n in range(1, plan.part_count + 1) if n not in received]
        upload = self._instructions(record, plan, missing=missing)
        listed = [
            {"part_number": n, "etag": part["ETag"].strip('"'), "size_bytes": part["Size"]}
            for n, part in sorted(received.items())
        ]
        return record, listed, PendingUpload(record, upload, _expiry(time.time(), self._url_ttl))

    def _received_parts(self, record: Mapping[str, Any]) -> dict[int, dict[str, Any]] | None:
        """Part number -> S3's part; None once the multipart upload is completed or aborted."""
        received: dict[int, dict[str, Any]] = {}
        marker = 0
        try:
            while True:
                page = self._s3.list_parts(
                    Bucket=record["bucket"],
                    Key=record["s3_key"],
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
            raise unavailable() from error
        except AWS_ERRORS as error:
            raise unavailable() from error

    # ------------------------------------------------------------ completion

    def complete(
        self, owner: str, file_id: str, parts: Sequence[tuple[int, str]] | None
    ) -> StoredFile:
        """The client's signal: completes the multipart upload, then the record, once."""
        record = self._pending(file_id)
        if record is None:
            # Completed before (by the event, or an earlier call): answer with the file.
            return self._completed_file(owner, file_id)
        if record["owner"] != owner:
            raise _not_found()
        # S3 has just assembled a multipart object: no need to ask whether it is there.
        assembled = record["method"] == MULTIPART and self._complete_multipart(record, parts)
        if not assembled and not self._bytes_arrived(record):
            raise ConflictError("upload_incomplete", "the file's bytes have not arrived yet")
        try:
            created = self._finalise(record)
        except _OverQuotaError as over:
            raise self._quota.exceeded() from over
        return created or self._completed_file(owner, file_id)

    def complete_object(self, bucket: str, key: str) -> str:
        """The S3 object-created event's signal. Returns what happened, for the log."""
        match = _OBJECT_KEY.fullmatch(key)
        if bucket != self._bucket or match is None:
            return "ignored: not an upload key"
        record = self._pending(match["file_id"])
        if record is None:
            # A POST /upload object, or an upload completed already.
            return "ignored: no pending upload"
        if record["s3_key"] != key or record["owner"] != match["owner"]:
            self._logger.warning("object at a key no upload was given", extra={"s3_key": key})
            return "ignored: key does not match the pending upload"
        if not self._bytes_arrived(record):
            return "ignored: no object at the key"
        try:
            created = self._finalise(record)
        except _OverQuotaError:
            return "refused: over quota; upload discarded"
        return "completed" if created else "ignored: completed already"

    def _complete_multipart(
        self, record: Mapping[str, Any], claimed: Sequence[tuple[int, str]] | None
    ) -> bool:
        """Assemble the parts; False when a concurrent complete did (or the upload is gone)."""
        plan = _multipart_plan(record)
        received = self._received_parts(record)
        if received is None:
            return False  # _finalise settles which complete wins
        expected = set(range(1, plan.part_count + 1))
        missing = sorted(expected - set(received))
        if missing:
            raise ConflictError(
                "upload_incomplete",
                f"{len(missing)} of {plan.part_count} parts have not arrived "
                f"(first missing: {missing[0]})",
            )
        if claimed is not None:
            etags = {n: part["ETag"].strip('"') for n, part in received.items()}
            numbers = [n for n, _ in claimed]
            if (
                len(set(numbers)) != len(numbers)
                or {n: etag.strip('"') for n, etag in claimed} != etags
            ):
                raise InvalidUploadError(
                    "parts_mismatch",
                    "parts must list every part_number once with the ETag S3 returned for it",
                )
        try:
            self._s3.complete_multipart_upload(
                Bucket=record["bucket"],
                Key=record["s3_key"],
                UploadId=record["upload_id"],
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": n, "ETag": received[n]["ETag"]} for n in sorted(expected)
                    ]
                },
            )
        except ClientError as error:
            # NoSuchUpload: a concurrent complete got there first; _finalise settles it.
            if error_code(error) != "NoSuchUpload":
                self._logger.exception(
                    "multipart complete failed", extra={"s3_key": record["s3_key"]}
                )
                raise ConflictError(
                    "upload_rejected", f"S3 refused to assemble the parts: {error_code(error)}"
                ) from error
            return False
        except AWS_ERRORS as error:
            raise unavailable() from error
        return True

    def _bytes_arrived(self, record: Mapping[str, Any]) -> bool:
        return self._current_version(record) is not None

    def _current_version(self, record: Mapping[str, Any]) -> str | None:
        """The version id of the object at the record's key, None if there is none.

        Listed, not headed: HeadObject needs s3:GetObject, which the bucket policy
        denies once the malware scan has tagged the object THREATS_FOUND.
        """
        try:
            listing = self._s3.list_object_versions(
                Bucket=record["bucket"], Prefix=record["s3_key"]
            )
        except AWS_ERRORS as error:
            raise unavailable() from error
        current = [
            v["VersionId"]
            for v in listing.get("Versions", [])
            if v["Key"] == record["s3_key"] and v["IsLatest"]
        ]
        return current[0] if current else None

    def _finalise(self, record: Mapping[str, Any]) -> StoredFile | None:
        """Pending record -> file item (its bytes are in S3), counted in the owner's usage,
        in one transaction.

        None when another signal won. Over quota, the upload is discarded (record and
        bytes) and _OverQuotaError raised: nothing is left half-written."""
        item: FileItem = {
            "file_id": record["file_id"],
            "owner": record["owner"],
            "bucket": record["bucket"],
            "s3_key": record["s3_key"],
            "file_name": record["file_name"],
            "size_bytes": int(record["size_bytes"]),
            "sha256": record["sha256"],
            "content_type": record["content_type"],
            "comment": record["comment"],
            "status": Status.UPLOADED.value,
            "created_at": record["created_at"],
            "updated_at": timestamp(),
        }
        key = {"file_id": {"S": record["file_id"]}}
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
                    {
                        "Delete": {
                            "TableName": self._pending_table,
                            "Key": key,
                            "ConditionExpression": "attribute_exists(file_id)",
                        }
                    },
                    self._quota.count(record["owner"], int(record["size_bytes"])),
                ]
            )
        except ClientError as error:
            if cancelled_by(error, 0) or cancelled_by(error, 1):
                return None
            if cancelled_by(error, 2):
                self._discard(record)
                raise _OverQuotaError from error
            raise unavailable() from error
        except AWS_ERRORS as error:
            raise unavailable() from error
        self._logger.info("direct upload completed", extra={"file_id": record["file_id"]})
        metrics.stored(int(record["size_bytes"]), "direct")
        return StoredFile(item)

    def _completed_file(self, owner: str, file_id: str) -> StoredFile:
        try:
            raw = self._dynamodb.get_item(
                TableName=self._files_table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as error:
            raise unavailable() from error
        if raw is None or raw.get("owner", {}).get("S") != owner:
            raise _not_found()
        return StoredFile(from_attributes(raw))

    # ------------------------------------------------------------ abort

    def abort(self, owner: str, file_id: str) -> bool:
        """Cancel a pending upload: the record first, so no signal can complete it after.

        False when there is no pending upload of that id (it may be a file)."""
        record = self._pending(file_id)
        if record is None:
            return False
        if record["owner"] != owner:
            raise _not_found()
        if not self._discard(record):
            return False  # completed meanwhile: now a file
        self._logger.info("direct upload aborted", extra={"file_id": file_id})
        return True

    def _discard(self, record: Mapping[str, Any]) -> bool:
        """Remove the pending record, then its bytes. False if it was gone already."""
        try:
            self._dynamodb.delete_item(
                TableName=self._pending_table,
                Key={"file_id": {"S": record["file_id"]}},
                ConditionExpression="attribute_exists(file_id)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise unavailable() from error
        except AWS_ERRORS as error:
            raise unavailable() from error
        if record["method"] == MULTIPART:
            self._abort_multipart(record)
        self._remove_put_object(record)
        return True

    def _abort_multipart(self, record: Mapping[str, Any]) -> None:
        try:
            self._s3.abort_multipart_upload(
                Bucket=record["bucket"], Key=record["s3_key"], UploadId=record["upload_id"]
            )
        except ClientError as error:
            if error_code(error) != "NoSuchUpload":  # assembled already: its object goes next
                self._logger.exception("multipart abort failed", extra={"s3_key": record["s3_key"]})
        except AWS_ERRORS:
            # The bucket's lifecycle rule aborts it within a day.
            self._logger.exception("multipart abort failed", extra={"s3_key": record["s3_key"]})

    def _remove_put_object(self, record: Mapping[str, Any]) -> None:
        """A PUT that arrived before the abort: remove that exact version."""
        try:
            version = self._current_version(record)
            if version is not None:
                self._s3.delete_object(
                    Bucket=record["bucket"], Key=record["s3_key"], VersionId=version
                )
        except (StorageUnavailableError, *AWS_ERRORS):
            # The sweeper (make sweep-orphans) removes an object no record owns.
            self._logger.exception("object removal failed", extra={"s3_key": record["s3_key"]})

    # ------------------------------------------------------------ records

    def _pending(self, file_id: str) -> dict[str, Any] | None:
        if not is_uuid(file_id):
            raise _not_found()
        try:
            raw = self._dynamodb.get_item(
                TableName=self._pending_table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as error:
            raise unavailable() from error
        if raw is None:
            return None
        record = from_attributes(raw)
        # DynamoDB deletes expired items within days, not at once: expired is gone.
        if int(record[PENDING_TTL_ATTRIBUTE]) <= time.time():
            return None
        return record

    def _owned_pending(self, owner: str, file_id: str) -> dict[str, Any]:
        record = self._pending(file_id)
        if record is None or record["owner"] != owner:
            raise _not_found()
        return record


def _multipart_plan(record: Mapping[str, Any]) -> UploadPlan:
    """The plan a pending multipart record was started with."""
    return UploadPlan(MULTIPART, int(record["size_bytes"]), int(record["part_size"]))


def _expiry(now: float, ttl: int) -> str:
    return timestamp(datetime.fromtimestamp(now + ttl, UTC))


class _OverQuotaError(Exception):
    """Completion would take the owner over their quota."""


def _not_found() -> NotFoundError:
    return NotFoundError("not_found", "no such upload")
