"""Where a file's bytes are, and how all of them go.

The API never takes a location from a stored item: the key is derived from the
caller's sub, the file id and the stored (sanitised) name with the contract's
object_key, in the configured bucket. An item or record that names any other
location is refused (the callers answer 404) and logged by file id.

Removal works on a prefix, never on the key an item names: every object
version, every delete marker and every open multipart upload under
uploads/<sub>/<file_id>/ (one file) or uploads/<sub>/ (erasure). Discard,
DELETE, the orphan sweep and erase-user all call purge_prefix.

Both upload paths (service.py, direct_uploads.py) hand out a StoredFile only
for an item verified_key accepted, and answer a failed AWS call the same way,
with unavailable(error) (a 503 to retry; `throttled` when AWS refused the call
for its rate).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from upload_api.core.domain import InvalidUploadError, StorageUnavailableError
from upload_api.core.files import sanitise_file_name
from upload_contract import UPLOAD_PREFIX, object_key, user_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

AWS_ERRORS = (ClientError, BotoCoreError)
# botocore's own list of throttling error codes (its standard retry mode's:
# Throttling, ThrottlingException, ProvisionedThroughputExceededException,
# RequestLimitExceeded, SlowDown, TooManyRequestsException, ...), so what the SDK
# backs off from and what the API answers as `throttled` are one set.
_THROTTLING_CODES = ThrottledRetryableChecker()
# A cancelled DynamoDB transaction names throttling per item, not in its error code.
_THROTTLED_TRANSACTION_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
# DeleteObjects takes at most 1,000 keys a call.
_DELETE_BATCH = 1000


def file_prefix(owner: str, file_id: str) -> str:
    """Everything of one file (or pending upload) lives under this prefix."""
    if not is_uuid(file_id):
        raise ValueError("file_id is not a UUID")
    return f"{user_prefix(owner)}{file_id}/"


def derived_key(owner: str, file_id: Any, file_name: Any) -> str | None:
    """The key the contract gives the file, or None when the stored values cannot make one.

    The name must be a sanitised name already (sanitising is idempotent, so every
    name the API stored passes), the file id a UUID.
    """
    if not isinstance(file_id, str) or not isinstance(file_name, str) or not is_uuid(file_id):
        return None
    try:
        if sanitise_file_name(file_name) != file_name:
            return None
        return object_key(owner, file_id, file_name)
    except (ValueError, InvalidUploadError):
        return None


def verified_key(item: Mapping[str, Any], owner: str, bucket: str, logger: Any) -> str | None:
    """The derived key of the caller's item; None (logged) when the item names anything else.

    An item is refused unless it is the caller's and its stored bucket and key are
    exactly the configured bucket and the derived key: a rewritten item (another
    user's key, another bucket) never leads to bytes.
    """
    file_id = item.get("file_id")
    key = derived_key(owner, file_id, item.get("file_name"))
    if (
        key is None
        or item.get("owner") != owner
        or item.get("s3_key") != key
        or item.get("bucket") != bucket
    ):
        # The file id only: the stored key may be someone else's.
        logger.warning(
            "item names a location it cannot have; refused",
            extra={"file_id": str(file_id)[:64]},
        )
        return None
    return key


@dataclass(frozen=True)
class StoredFile:
    """A file item whose location was derived and checked (see verified_key)."""

    item: Mapping[str, Any]

    @property
    def s3_path(self) -> str:
        return f"s3://{self.item['bucket']}/{self.item['s3_key']}"


@dataclass
class Removed:
    """What purge_prefix removed."""

    versions: int = 0
    delete_markers: int = 0
    bytes: int = 0
    multipart_uploads: int = 0

    def __iadd__(self, other: Removed) -> Removed:
        self.versions += other.versions
        self.delete_markers += other.delete_markers
        self.bytes += other.bytes
        self.multipart_uploads += other.multipart_uploads
        return self

    @property
    def anything(self) -> bool:
        return bool(self.versions or self.delete_markers or self.multipart_uploads)

    def summary(self) -> str:
        return (
            f"{self.versions} object version(s) ({self.bytes} bytes), "
            f"{self.delete_markers} delete marker(s), "
            f"{self.multipart_uploads} multipart upload(s) aborted"
        )


class PurgeIncompleteError(Exception):
    """S3 refused to delete some versions under the prefix; run the purge again."""


def purge_prefix(s3: S3Client, bucket: str, prefix: str) -> Removed:
    """Abort every open multipart upload, then delete every version and delete marker,
    under `prefix` (a user's or a file's prefix, nothing wider).

    Multipart uploads go first, so none can be completed into a new object behind
    the version listing. Raises botocore's errors and PurgeIncompleteError; it is
    idempotent, so a failed purge is simply run again.
    """
    _check_prefix(prefix)
    removed = Removed()
    uploads = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
    for listing in uploads:
        for upload in listing.get("Uploads", []):
            try:
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            except ClientError as error:
                # Completed or aborted meanwhile: a completed one is listed below.
                if error_code(error) != "NoSuchUpload":
                    raise
                continue
            removed.multipart_uploads += 1
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = page.get("Versions", [])
        markers = page.get("DeleteMarkers", [])
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]} for v in [*versions, *markers]
        ]
        for start in range(0, len(doomed), _DELETE_BATCH):
            answer = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": doomed[start : start + _DELETE_BATCH], "Quiet": True},
            )
            if answer.get("Errors"):
                raise PurgeIncompleteError(
                    f"{len(answer['Errors'])} version(s) under the prefix could not be deleted"
                )
        removed.versions += len(versions)
        removed.delete_markers += len(markers)
        removed.bytes += sum(int(v.get("Size", 0)) for v in versions)
    return removed


def purge_file(s3: S3Client, bucket: str, owner: str, file_id: str, logger: Any) -> Removed:
    """Every version, delete marker and open multipart upload under the file's prefix
    (derived from the owner and the file id), or a 503 to retry."""
    try:
        removed = purge_prefix(s3, bucket, file_prefix(owner, file_id))
    except (PurgeIncompleteError, *AWS_ERRORS) as error:
        logger.exception("purge failed; retry", extra={"file_id": file_id})
        if is_throttled(error):
            raise unavailable(error) from error
        raise StorageUnavailableError(
            "service_unavailable", "some of the file's bytes could not be deleted; retry"
        ) from error
    logger.info(
        "file prefix purged",
        extra={
            "file_id": file_id,
            "versions": removed.versions,
            "delete_markers": removed.delete_markers,
            "multipart_uploads": removed.multipart_uploads,
        },
    )
    return removed


def _check_prefix(prefix: str) -> None:
    # uploads/<sub>/ or uploads/<sub>/<file_id>/: a slip can never purge the whole bucket.
    segments = prefix.removeprefix(UPLOAD_PREFIX).split("/")
    well_formed = (
        prefix.startswith(UPLOAD_PREFIX)
        and prefix.endswith("/")
        and len(segments) in (2, 3)
        and all(segments[:-1])
        and (len(segments) == 2 or is_uuid(segments[1]))
    )
    if not well_formed:
        raise ValueError(f"not a user's or a file's prefix: {prefix!r}")
    user_prefix(segments[0])  # the owner is one key segment, or ValueError


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttled(error: BaseException) -> bool:
    """Whether AWS refused the call for its request rate, not for what it asked."""
    if not isinstance(error, ClientError):
        return False
    response = error.response
    reasons = response.get("CancellationReasons") or []
    return (
        response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 429
        or any(reason.get("Code") in _THROTTLED_TRANSACTION_REASONS for reason in reasons)
        or bool(
            _THROTTLING_CODES.is_retryable(RetryContext(attempt_number=1, parsed_response=response))
        )
    )


def unavailable(error: BaseException) -> StorageUnavailableError:
    """The answer to an AWS call that failed (after the SDK's own retry): a 503 to retry.

    `throttled` when AWS refused it for its rate. A 503, not a 429: AWS throttled
    this service's backend, not the caller, whose own rate API Gateway answers
    with 429; S3 itself answers SlowDown with 503. Retrying is safe: an upload
    that fails leaves nothing written (service.py, direct_uploads.py), and a
    retried DELETE finishes what the failed one started.
    """
    if is_throttled(error):
        return StorageUnavailableError(
            "throttled", "AWS is throttling this service's requests; retry shortly"
        )
    return StorageUnavailableError("service_unavailable", "storage is unavailable; retry later")
