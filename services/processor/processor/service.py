"""The processor's I/O edge: read the uploaded object, apply the rules, record the outcome.

The AWS clients are passed in (nothing here builds one or knows about
Lambda); the rules themselves are pure functions in rules.py.

No stored location is trusted: the object is read in the configured bucket at
the key derived from the item's owner, file id and name (upload_contract's
object_key), and an item whose stored bucket or key differ is marked FAILED
without a byte being read. Anyone able to write the files table could otherwise
point an item at another user's object and learn its size, hash or type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from processor.rules import (
    DEFAULT_CHECKS,
    OCTET_STREAM,
    SNIFF_BYTES,
    Check,
    ObjectFacts,
    UploadedFile,
    detect_content_type,
)
from upload_contract import ScanVerdict, Status, object_key, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

UPLOADED: Final = Status.UPLOADED.value
PROCESSED: Final = Status.PROCESSED.value
FAILED: Final = Status.FAILED.value
QUARANTINED: Final = Status.QUARANTINED.value
READ_CHUNK_BYTES: Final = 1024 * 1024
MAX_REASON_CHARS: Final = 1000
# The failure reason of an item whose stored bucket or key is not the derived one.
LOCATION_REFUSED: Final = "stored location refused: it is not where this file's key derives to"

# AWS refused the call for its request rate: retried longer (ProcessingThrottledError).
_THROTTLING_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
# Error codes AWS documents as retryable; anything 5xx counts as well.
_TRANSIENT_CODES: Final = _THROTTLING_CODES | frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
# The object is gone: the upload itself failed (HeadObject answers a bare 404).
_MISSING_CODES: Final = frozenset({"NoSuchKey", "NotFound", "404"})
# Refused by IAM, a bucket/key policy or KMS: the platform is misconfigured, the
# file is not at fault. HeadObject answers a bare 403; S3 passes KMS errors on as
# "KMS.<exception>".
_CONFIGURATION_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "403",
        "Forbidden",
        "AllAccessDisabled",
        "NoSuchBucket",
        "ResourceNotFoundException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
    }
)


logger = Logger(child=True)


class TransientProcessingError(Exception):
    """AWS failed on its side: the state machine retries the whole step."""


class ProcessingThrottledError(TransientProcessingError):
    """AWS throttled a call: the state machine retries the step as long as a throttled
    invoke, so a file does not fail only because the platform is busy."""


def transient_error(error: Exception, message: str) -> TransientProcessingError:
    """The transient failure `error` is: throttled (retried longer) or not."""
    if isinstance(error, ClientError) and _error_code(error).removeprefix("KMS.") in (
        _THROTTLING_CODES
    ):
        return ProcessingThrottledError(message)
    return TransientProcessingError(message)


class MalwareScanNotFinishedError(Exception):
    """No scan verdict on the object yet: the state machine retries, bounded, then marks FAILED."""


class ProcessingConfigurationError(Exception):
    """Access denied or a key unusable: an operational problem, not a bad file.

    Not retried by the state machine; its Catch leaves the item UPLOADED and
    fails the execution (alarm), so the input can be re-run once fixed.
    """


@dataclass(frozen=True)
class Outcome:
    file_id: str
    status: str
    detected_content_type: str | None = None
    failure_reason: str | None = None
    # True when an earlier delivery already recorded the outcome (no work done now).
    duplicate: bool = False
    processed_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def is_transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        # S3 passes KMS errors on as "KMS.<exception>": a throttled key is transient too.
        return code.removeprefix("KMS.") in _TRANSIENT_CODES or status >= 500
    # Connection resets, timeouts, endpoint errors: the request never got an answer.
    return isinstance(error, BotoCoreError)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_configuration_error(error: ClientError) -> bool:
    code = _error_code(error)
    return code in _CONFIGURATION_CODES or code.startswith("KMS.")


class ObjectUnreadableError(Exception):
    """The object is missing or cannot be read: a permanent failure of this upload.

    Its message is the user-facing failure reason: short, no bucket, key or AWS text.
    """


def _read_failed(error: ClientError | BotoCoreError, bucket: str, key: str, what: str) -> Exception:
    """The exception a failed read of the object becomes: transient, configuration or permanent."""
    code = _error_code(error) if isinstance(error, ClientError) else type(error).__name__
    details = {"bucket": bucket, "s3_key": key, "error_code": code, "error": str(error)}
    # is_transient() holds for every BotoCoreError (no answer at all); the isinstance
    # test only narrows the type: below, error is a ClientError.
    if is_transient(error) or not isinstance(error, ClientError):
        logger.warning("Reading the object failed transiently", extra=details)
        return transient_error(error, f"{what}: {code}")
    if is_configuration_error(error):
        logger.exception("Object refused: access or key configuration", extra=details)
        return ProcessingConfigurationError(f"{what}: {code}")
    if code in _MISSING_CODES:
        logger.warning("Object missing", extra=details)
        return ObjectUnreadableError("object missing")
    logger.warning("Object unreadable", extra=details)
    return ObjectUnreadableError("object unreadable")


def scan_verdict(s3: S3Client, bucket: str, key: str) -> tuple[str, str | None]:
    """The malware scan verdict of the object's current version, and that version's id
    (None only from an unversioned bucket); MalwareScanNotFinishedError while it has none."""
    try:
        tagging = s3.get_object_tagging(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as error:
        raise _read_failed(error, bucket, key, "reading the scan verdict") from error
    tags = tagging["TagSet"]
    verdict = next((tag["Value"] for tag in tags if tag["Key"] == ScanVerdict.TAG_KEY), None)
    if verdict is None:
        raise MalwareScanNotFinishedError("the malware scan has not tagged the object yet")
    return verdict, tagging.get("VersionId")


def inspect_object(s3: S3Client, bucket: str, key: str, version_id: str | None) -> ObjectFacts:
    """Head the version, then stream it once: size, sha256 and the first bytes."""
    version: dict[str, Any] = {"VersionId": version_id} if version_id else {}
    try:
        head = s3.head_object(Bucket=bucket, Key=key, **version)
        body = s3.get_object(Bucket=bucket, Key=key, **version)["Body"]
        digest = hashlib.sha256()
        size = 0
        first = bytearray()
        for chunk in body.iter_chunks(READ_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if len(first) < SNIFF_BYTES:
                first.extend(chunk[: SNIFF_BYTES - len(first)])
    except (ClientError, BotoCoreError) as error:
        raise _read_failed(error, bucket, key, "reading the object") from error
    if size != head["ContentLength"]:
        # The object changed between head and read (it never should): let a retry settle it.
        raise TransientProcessingError("the object changed while being read")
    declared = head.get("ContentType") or OCTET_STREAM
    detected = detect_content_type(bytes(first), declared, truncated=size > len(first))
    return ObjectFacts(size, digest.hexdigest(), bytes(first), detected)


@dataclass
class FileProcessor:
    """Runs the checks for one uploaded file and records the outcome once."""

    s3: S3Client
    dynamodb: DynamoDBClient
    table_name: str
    # The upload bucket, from configuration: the only bucket the processor reads.
    bucket: str
    checks: Sequence[Check] = DEFAULT_CHECKS
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def process(self, file: UploadedFile) -> Outcome:
        existing = self._current_item(file.file_id)
        if existing is None:
            return Outcome(file.file_id, "MISSING", failure_reason="metadata item not found")
        if existing.get("status", {}).get("S") != UPLOADED:
            # A redelivery: the work was done before, report what was recorded.
            return _outcome_from_item(file.file_id, existing, duplicate=True)

        key = self._derived_key(file)
        if key is None:
            return self._record(file.file_id, FAILED, failure_reason=LOCATION_REFUSED)
        return self._check(file, key)

    def _check(self, file: UploadedFile, key: str) -> Outcome:
        """Verdict, then the bytes of the version it is for, then the checks."""
        try:
            # The verdict first: only a version the scan cleared is read (the bucket
            # policy denies reads of every other one).
            verdict, version_id = scan_verdict(self.s3, self.bucket, key)
            if verdict != ScanVerdict.CLEAN:
                return self._record_not_clean(file.file_id, verdict)
            if version_id is None:
                # Downloads are pinned to the version recorded here: without one there
                # is nothing to pin (the bucket is not versioned). Not the file's fault.
                logger.error("No version id for a scanned object", extra={"s3_key": key})
                raise ProcessingConfigurationError("the upload bucket returned no version id")
            # The version the verdict is for: the bytes checked are the bytes scanned.
            facts = inspect_object(self.s3, self.bucket, key, version_id)
        except ObjectUnreadableError as error:
            return self._record(file.file_id, FAILED, failure_reason=str(error))

        reasons = [reason for check in self.checks if (reason := check(file, facts))]
        if reasons:
            return self._record(
                file.file_id,
                FAILED,
                detected=facts.detected_content_type,
                failure_reason="; ".join(reasons),
            )
        return self._record(
            file.file_id,
            PROCESSED,
            detected=facts.detected_content_type,
            scanned_version_id=version_id,
        )

    def _derived_key(self, file: UploadedFile) -> str | None:
        """The object's key, derived from owner, file id and name; None (logged) when the
        item cannot derive one or its stored bucket or key is not the derived location."""
        try:
            key = object_key(file.owner, file.file_id, file.file_name)
        except ValueError as error:
            key, problem = None, str(error)
        else:
            problem = "stored bucket or key differs from the derived location"
            if (file.bucket, file.s3_key) == (self.bucket, key):
                return key
        # Someone wrote the item who should not have, or a bug did: a security event.
        logger.error(
            "Refusing a file whose stored location is not its own",
            extra={
                "problem": problem,
                "owner": file.owner,
                "stored_bucket": file.bucket,
                "stored_s3_key": file.s3_key,
                "expected_bucket": self.bucket,
                "expected_s3_key": key,
            },
        )
        return None

    def _record_not_clean(self, file_id: str, verdict: str) -> Outcome:
        if verdict == ScanVerdict.THREATS_FOUND:
            return self._record(file_id, QUARANTINED, failure_reason="malware found")
        # UNSUPPORTED, ACCESS_DENIED or FAILED: a file the scan could not clear is never processed.
        return self._record(file_id, FAILED, failure_reason=f"malware scan: {verdict}")

    def _current_item(self, file_id: str) -> dict[str, Any] | None:
        try:
            response = self.dynamodb.get_item(
                TableName=self.table_name,
                Key={"file_id": {"S": file_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            self._raise_classified(error)
            raise
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _record(
        self,
        file_id: str,
        status: str,
        *,
        detected: str | None = None,
        failure_reason: str | None = None,
        scanned_version_id: str | None = None,
    ) -> Outcome:
        now = timestamp(self.clock())
        sets = ["#status = :status", "processed_at = :now", "updated_at = :now"]
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":now": {"S": now},
            ":uploaded": {"S": UPLOADED},
        }
        if detected is not None:
            sets.append("detected_content_type = :detected")
            values[":detected"] = {"S": detected}
        if failure_reason is not None:
            failure_reason = failure_reason[:MAX_REASON_CHARS]
            sets.append("failure_reason = :reason")
            values[":reason"] = {"S": failure_reason}
        if scanned_version_id is not None:
            # In the same conditional write as PROCESSED: a downloadable file always
            # names the version that was scanned and checked.
            sets.append("scanned_version_id = :version")
            values[":version"] = {"S": scanned_version_id}
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"file_id": {"S": file_id}},
                UpdateExpression="SET " + ", ".join(sets),
                # Only the first delivery moves the item out of UPLOADED.
                ConditionExpression="#status = :uploaded",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                # ReturnValuesOnConditionCheckFailure=ALL_OLD puts the item here.
                item = cast(dict[str, Any] | None, error.response.get("Item"))
                if not item:
                    return Outcome(file_id, "MISSING", failure_reason="metadata item not found")
                return _outcome_from_item(file_id, item, duplicate=True)
            self._raise_classified(error)
            raise
        except BotoCoreError as error:
            self._raise_classified(error)
            raise
        return Outcome(file_id, status, detected, failure_reason, processed_at=now)

    @staticmethod
    def _raise_classified(error: Exception) -> None:
        """Transient and configuration errors get their own types; the caller re-raises the rest."""
        if is_transient(error):
            raise transient_error(error, f"DynamoDB: {error}") from error
        if isinstance(error, ClientError) and is_configuration_error(error):
            logger.error("DynamoDB refused the request", extra={"error": str(error)})
            raise ProcessingConfigurationError(f"DynamoDB: {_error_code(error)}") from error


def _outcome_from_item(file_id: str, item: dict[str, Any], *, duplicate: bool) -> Outcome:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    return Outcome(
        file_id,
        text("status") or "UNKNOWN",
        text("detected_content_type"),
        text("failure_reason"),
        duplicate=duplicate,
        processed_at=text("processed_at"),
    )
