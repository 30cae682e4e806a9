"""Downstream checks of an uploaded file and the outcome recorded on its metadata item.

Pure business logic: the AWS clients are passed in, nothing here builds one or
knows about Lambda. Every check is a plain function, so adding a step is adding
a function to `DEFAULT_CHECKS`.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, cast

import filetype
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from upload_contract import Status, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

UPLOADED: Final = Status.UPLOADED.value
PROCESSED: Final = Status.PROCESSED.value
FAILED: Final = Status.FAILED.value
OCTET_STREAM: Final = "application/octet-stream"
# filetype looks at most at the first 8 KiB (its own signature window).
SNIFF_BYTES: Final = 8192
READ_CHUNK_BYTES: Final = 1024 * 1024
MAX_REASON_CHARS: Final = 1000

# Error codes AWS documents as retryable; anything 5xx counts as well.
_TRANSIENT_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
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
# Types the bytes cannot prove; a UTF-8 body is the best confirmation there is.
_TEXT_LIKE_TYPES: Final = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/x-yaml",
        "application/yaml",
        "application/csv",
        "application/sql",
        "application/x-ndjson",
        "application/rtf",
        "application/toml",
        "application/x-tex",
        "application/x-latex",
    }
)
# Byte order marks, longest first: UTF-32-LE's starts with UTF-16-LE's.
_BYTE_ORDER_MARKS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What single-byte legacy text (Latin-1 / Windows-1252) is made of: printable
# ASCII, the layout controls tab, line feed, form feed and carriage return, and
# every high byte Windows-1252 assigns a character (not 81, 8D, 8F, 90, 9D).
# No other control byte and no NUL: binary data has them within a few bytes.
_LEGACY_TEXT_BYTES: Final = frozenset(
    {0x09, 0x0A, 0x0C, 0x0D}
    | set(range(0x20, 0x7F))
    | (set(range(0x80, 0x100)) - {0x81, 0x8D, 0x8F, 0x90, 0x9D})
)
# Spellings that name the same format.
_ALIASES: Final = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-gzip": "application/gzip",
    "application/x-zip-compressed": "application/zip",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
}


logger = Logger(child=True)


class TransientProcessingError(Exception):
    """AWS throttled or failed on its side: the state machine retries the whole step."""


class ProcessingConfigurationError(Exception):
    """Access denied or a key unusable: an operational problem, not a bad file.

    Not retried by the state machine; its Catch leaves the item UPLOADED and
    fails the execution (alarm), so the input can be re-run once fixed.
    """


@dataclass(frozen=True)
class UploadedFile:
    """The fields of the metadata item the processor needs (from the stream's NewImage)."""

    file_id: str
    bucket: str
    s3_key: str
    size_bytes: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class ObjectFacts:
    """What S3 says about the stored object, gathered once for all checks."""

    size_bytes: int
    sha256: str
    head: bytes
    detected_content_type: str


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


Check = Callable[[UploadedFile, ObjectFacts], str | None]
"""A check returns None when the file passes, else a human-readable failure reason."""


def check_size(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if facts.size_bytes != file.size_bytes:
        return f"size mismatch: item says {file.size_bytes} bytes, object has {facts.size_bytes}"
    return None


def check_sha256(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if facts.sha256 != file.sha256.lower():
        return f"sha256 mismatch: item says {file.sha256}, object hashes to {facts.sha256}"
    return None


def check_content_type(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if not content_types_agree(file.content_type, facts.detected_content_type):
        return (
            f"content type mismatch: declared {file.content_type}, "
            f"bytes say {facts.detected_content_type}"
        )
    return None


DEFAULT_CHECKS: Final[tuple[Check, ...]] = (check_size, check_sha256, check_content_type)


def normalise_type(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def is_text_like(content_type: str) -> bool:
    base = normalise_type(content_type)
    return (
        base.startswith("text/")
        or base in _TEXT_LIKE_TYPES
        or base.endswith("+json")
        or base.endswith("+xml")
    )


def text_encoding(head: bytes, *, truncated: bool) -> str | None:
    """The encoding `head` reads as text in, or None when it is not text.

    In order: UTF-32 / UTF-16 / UTF-8 announced by a byte order mark; UTF-8
    without one; single-byte legacy text (Latin-1 / Windows-1252). Text never
    holds U+0000, so NUL bytes pass only as part of UTF-16/32 code units after
    their BOM. A character cut at the end of a truncated window is allowed.
    """
    for bom, encoding in _BYTE_ORDER_MARKS:
        # FF FE 00 00 is UTF-32-LE's mark or UTF-16-LE's followed by U+0000: try both.
        if head.startswith(bom) and _decodes(head[len(bom) :], encoding, truncated=truncated):
            return encoding
    if _decodes(head, "utf-8", truncated=truncated):
        return "utf-8"
    if _LEGACY_TEXT_BYTES.issuperset(head):
        return "windows-1252"
    return None


def looks_like_text(head: bytes, *, truncated: bool) -> bool:
    """Unicode text (UTF-8, or UTF-8/16/32 with a BOM) without U+0000, or legacy 8-bit text."""
    return text_encoding(head, truncated=truncated) is not None


def _decodes(data: bytes, encoding: str, *, truncated: bool) -> bool:
    # The incremental decoder keeps an incomplete sequence at the end for more
    # input instead of failing, which is what a truncated window needs.
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(data, final=not truncated)
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def detect_content_type(head: bytes, declared: str, *, truncated: bool) -> str:
    """Magic numbers first; for formats without them, confirm text-like types from the bytes."""
    sniffed = filetype.guess_mime(head) if head else None
    if sniffed:
        return str(sniffed)
    if looks_like_text(head, truncated=truncated):
        return normalise_type(declared) if is_text_like(declared) else "text/plain"
    return OCTET_STREAM


def content_types_agree(declared: str, detected: str) -> bool:
    declared_n, detected_n = normalise_type(declared), normalise_type(detected)
    if declared_n == detected_n:
        return True
    if detected_n == OCTET_STREAM:
        # Unknown binary: the bytes cannot contradict a binary type, only a text one.
        return not is_text_like(declared_n)
    if detected_n == "text/plain":
        # Text under a generic binary label is harmless; under an image label it is not.
        return declared_n == OCTET_STREAM
    # Magic numbers found: they must match (octet-stream claims nothing).
    return declared_n == OCTET_STREAM


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


def inspect_object(s3: S3Client, bucket: str, key: str) -> ObjectFacts:
    """Head the object, then stream it once: size, sha256 and the first bytes."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        size = 0
        first = bytearray()
        for chunk in body.iter_chunks(READ_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if len(first) < SNIFF_BYTES:
                first.extend(chunk[: SNIFF_BYTES - len(first)])
    except (ClientError, BotoCoreError) as error:
        code = _error_code(error) if isinstance(error, ClientError) else type(error).__name__
        details = {"bucket": bucket, "s3_key": key, "error_code": code, "error": str(error)}
        # is_transient() holds for every BotoCoreError (no answer at all); the isinstance
        # test only narrows the type: below, error is a ClientError.
        if is_transient(error) or not isinstance(error, ClientError):
            logger.warning("Reading the object failed transiently", extra=details)
            raise TransientProcessingError(f"reading the object: {code}") from error
        if is_configuration_error(error):
            logger.exception("Object refused: access or key configuration", extra=details)
            raise ProcessingConfigurationError(f"reading the object: {code}") from error
        if code in _MISSING_CODES:
            logger.warning("Object missing", extra=details)
            raise ObjectUnreadableError("object missing") from error
        logger.warning("Object unreadable", extra=details)
        raise ObjectUnreadableError("object unreadable") from error
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
    checks: Sequence[Check] = DEFAULT_CHECKS
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def process(self, file: UploadedFile) -> Outcome:
        existing = self._current_item(file.file_id)
        if existing is None:
            return Outcome(file.file_id, "MISSING", failure_reason="metadata item not found")
        if existing.get("status", {}).get("S") != UPLOADED:
            # A redelivery: the work was done before, report what was recorded.
            return _outcome_from_item(file.file_id, existing, duplicate=True)

        try:
            facts = inspect_object(self.s3, file.bucket, file.s3_key)
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
        return self._record(file.file_id, PROCESSED, detected=facts.detected_content_type)

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
            raise TransientProcessingError(f"DynamoDB: {error}") from error
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
