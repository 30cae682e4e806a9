"""The processor's checks and its once-only outcome, against moto."""

from __future__ import annotations

import base64
import codecs
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from processor.models import FileImage
from processor.rules import (
    OCTET_STREAM,
    UploadedFile,
    content_types_agree,
    detect_content_type,
    looks_like_text,
    text_encoding,
)
from processor.service import (
    FAILED,
    LOCATION_REFUSED,
    PROCESSED,
    QUARANTINED,
    FileProcessor,
    MalwareScanNotFinishedError,
    ProcessingConfigurationError,
    ProcessingThrottledError,
    TransientProcessingError,
)
from tests.support.api import Api
from tests.support.aws import UploadResources, client, create_upload_resources, tag_scanned
from upload_contract import ScanVerdict, object_key

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OWNER = "user-1"
FILE_NAME = "file"
FIXED_NOW = datetime(2026, 11, 26, 19, 12, 24, 123456, tzinfo=UTC)


@pytest.fixture
def resources(aws: None) -> UploadResources:
    return create_upload_resources()


def store(
    resources: UploadResources,
    data: bytes,
    content_type: str = "text/plain",
    *,
    item_overrides: dict[str, Any] | None = None,
    verdict: str | None = ScanVerdict.CLEAN,
) -> UploadedFile:
    """An uploaded file: object, item and (unless verdict is None) the malware scan's tag.

    The object is stored at its derived key; item_overrides change only the item.
    """
    file_id = str(uuid.uuid4())
    key = object_key(OWNER, file_id, FILE_NAME)
    client("s3").put_object(Bucket=resources.bucket, Key=key, Body=data, ContentType=content_type)
    if verdict is not None:
        tag_scanned(resources.bucket, key, verdict)
    file = UploadedFile(
        file_id=file_id,
        bucket=resources.bucket,
        s3_key=key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        owner=OWNER,
        file_name=FILE_NAME,
    )
    for name, value in (item_overrides or {}).items():
        file = UploadedFile(**{**file.__dict__, name: value})
    client("dynamodb").put_item(
        TableName=resources.table,
        Item={
            "file_id": {"S": file_id},
            "owner": {"S": file.owner},
            "file_name": {"S": file.file_name},
            "bucket": {"S": file.bucket},
            "s3_key": {"S": file.s3_key},
            "size_bytes": {"N": str(file.size_bytes)},
            "sha256": {"S": file.sha256},
            "content_type": {"S": file.content_type},
            "status": {"S": "UPLOADED"},
            "created_at": {"S": "2026-11-26T19:00:00.000000Z"},
            "updated_at": {"S": "2026-11-26T19:00:00.000000Z"},
        },
    )
    return file


def processor(resources: UploadResources, **kwargs: Any) -> FileProcessor:
    return FileProcessor(
        s3=kwargs.pop("s3", client("s3")),
        dynamodb=kwargs.pop("dynamodb", client("dynamodb")),
        table_name=resources.table,
        bucket=resources.bucket,
        clock=lambda: FIXED_NOW,
        **kwargs,
    )


def item(resources: UploadResources, file_id: str) -> dict[str, str]:
    raw = client("dynamodb").get_item(
        TableName=resources.table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
    )["Item"]
    return {k: str(next(iter(v.values()))) for k, v in raw.items()}


def test_a_good_file_is_processed(resources: UploadResources) -> None:
    file = store(resources, b"hello world\n")

    outcome = processor(resources).process(file)

    assert outcome.status == PROCESSED
    assert not outcome.duplicate
    stored = item(resources, file.file_id)
    assert stored["status"] == PROCESSED
    assert stored["detected_content_type"] == "text/plain"
    assert stored["processed_at"] == stored["updated_at"] == "2026-11-26T19:12:24.123456Z"
    assert "failure_reason" not in stored


def test_processed_records_the_scanned_version_in_the_same_conditional_write(
    resources: UploadResources,
) -> None:
    file = store(resources, b"hello world\n")
    scanned = client("s3").get_object_tagging(Bucket=file.bucket, Key=file.s3_key)["VersionId"]
    dynamodb = Recording(client("dynamodb"))

    outcome = processor(resources, dynamodb=dynamodb).process(file)

    assert outcome.status == PROCESSED
    assert item(resources, file.file_id)["scanned_version_id"] == scanned
    (update,) = dynamodb.calls_of("update_item")
    assert update["ConditionExpression"] == "#status = :uploaded"
    assert "scanned_version_id = :version" in update["UpdateExpression"]
    assert update["ExpressionAttributeValues"][":status"] == {"S": PROCESSED}
    assert update["ExpressionAttributeValues"][":version"] == {"S": scanned}


@pytest.mark.parametrize(
    ("verdict", "overrides"),
    [
        (ScanVerdict.THREATS_FOUND, {}),
        ("UNSUPPORTED", {}),
        (ScanVerdict.CLEAN, {"sha256": "0" * 64}),
    ],
    ids=["quarantined", "not-cleared", "failed-check"],
)
def test_only_a_processed_file_names_a_scanned_version(
    resources: UploadResources, verdict: str, overrides: dict[str, Any]
) -> None:
    file = store(resources, b"hello world\n", verdict=verdict, item_overrides=overrides)

    assert processor(resources).process(file).status in {FAILED, QUARANTINED}

    assert "scanned_version_id" not in item(resources, file.file_id)


def test_a_clean_verdict_without_a_version_id_is_a_configuration_error(
    resources: UploadResources,
) -> None:
    """Downloads pin the recorded version: with none to record, nothing is marked."""
    file = store(resources, b"hello world\n")
    real = client("s3")

    class Unversioned:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def get_object_tagging(self, **kwargs: Any) -> Any:
            return {k: v for k, v in real.get_object_tagging(**kwargs).items() if k != "VersionId"}

    with pytest.raises(ProcessingConfigurationError):
        processor(resources, s3=Unversioned()).process(file)

    assert item(resources, file.file_id)["status"] == "UPLOADED"


# --- No stored location is trusted ---------------------------------------------------------


def test_a_forged_item_pointing_at_another_users_object_is_failed_unread(
    resources: UploadResources,
) -> None:
    """Finding 2 of the security review: an item rewritten to name the victim's key."""
    victim = store(resources, b"the victim's secret\n")
    assert victim.owner == OWNER
    forged = store(
        resources,
        b"the attacker's own file\n",
        item_overrides={
            "owner": "attacker",
            "s3_key": victim.s3_key,
            # The victim's size and type, so that only the location gives it away.
            "size_bytes": victim.size_bytes,
            "sha256": victim.sha256,
        },
    )
    s3 = Recording(client("s3"))

    outcome = processor(resources, s3=s3).process(forged)

    assert (outcome.status, outcome.failure_reason) == (FAILED, LOCATION_REFUSED)
    stored_item = item(resources, forged.file_id)
    assert (stored_item["status"], stored_item["failure_reason"]) == (FAILED, LOCATION_REFUSED)
    assert "scanned_version_id" not in stored_item
    assert s3.keys_touched() == set(), "no request may name the victim's (or any) object"
    assert item(resources, victim.file_id)["status"] == "UPLOADED"


def test_a_forged_item_naming_another_bucket_is_failed_unread(resources: UploadResources) -> None:
    other = f"{resources.bucket}-other"
    client("s3").create_bucket(Bucket=other)
    file = store(resources, b"hello world\n", item_overrides={"bucket": other})
    client("s3").put_object(Bucket=other, Key=file.s3_key, Body=b"hello world\n")
    tag_scanned(other, file.s3_key)
    s3 = Recording(client("s3"))

    outcome = processor(resources, s3=s3).process(file)

    assert (outcome.status, outcome.failure_reason) == (FAILED, LOCATION_REFUSED)
    assert s3.calls == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"owner": "", "s3_key": "uploads//{file_id}/file"},
        {"owner": "user-1/../victim", "s3_key": "uploads/user-1/../victim/{file_id}/file"},
        {"file_name": "../other/file", "s3_key": "uploads/user-1/{file_id}/../other/file"},
        {"file_name": "renamed.txt"},
    ],
    ids=["no-owner", "owner-with-a-slash", "name-with-a-slash", "name-not-in-the-key"],
)
def test_an_item_whose_key_does_not_derive_is_failed_unread(
    resources: UploadResources, overrides: dict[str, Any]
) -> None:
    file = store(resources, b"hello world\n")
    forged = UploadedFile(
        **{
            **file.__dict__,
            **{k: v.format(file_id=file.file_id) for k, v in overrides.items()},
        }
    )
    s3 = Recording(client("s3"))

    outcome = processor(resources, s3=s3).process(forged)

    assert (outcome.status, outcome.failure_reason) == (FAILED, LOCATION_REFUSED)
    assert s3.calls == []


def test_the_configured_bucket_is_read_not_the_items(resources: UploadResources) -> None:
    file = store(resources, b"hello world\n")
    s3 = Recording(client("s3"))

    assert processor(resources, s3=s3).process(file).status == PROCESSED

    assert {call["Bucket"] for _, call in s3.calls} == {resources.bucket}
    assert s3.keys_touched() == {file.s3_key}


def test_a_file_with_a_threat_is_quarantined_unread(resources: UploadResources) -> None:
    file = store(resources, b"X5O!P%@AP", verdict=ScanVerdict.THREATS_FOUND)
    # Reads of a quarantined object are denied by the bucket policy: never attempt one.
    unread = Failing(client("s3"), "get_object", AssertionError("read a quarantined object"))

    outcome = processor(resources, s3=unread).process(file)

    assert (outcome.status, outcome.failure_reason) == (QUARANTINED, "malware found")
    assert item(resources, file.file_id)["status"] == QUARANTINED


@pytest.mark.parametrize("verdict", ["UNSUPPORTED", "ACCESS_DENIED", "FAILED", "SOMETHING_NEW"])
def test_a_file_the_scan_could_not_clear_fails_with_the_verdict(
    resources: UploadResources, verdict: str
) -> None:
    file = store(resources, b"hello world\n", verdict=verdict)

    outcome = processor(resources).process(file)

    assert (outcome.status, outcome.failure_reason) == (FAILED, f"malware scan: {verdict}")
    assert item(resources, file.file_id)["failure_reason"] == f"malware scan: {verdict}"


def test_a_file_not_yet_scanned_waits_and_records_nothing(resources: UploadResources) -> None:
    file = store(resources, b"hello world\n", verdict=None)

    with pytest.raises(MalwareScanNotFinishedError):
        processor(resources).process(file)

    assert item(resources, file.file_id)["status"] == "UPLOADED"
    tag_scanned(file.bucket, file.s3_key)
    assert processor(resources).process(file).status == PROCESSED


def test_the_bytes_checked_are_the_version_the_scan_cleared(resources: UploadResources) -> None:
    file = store(resources, b"hello world\n")
    real = client("s3")

    class NewVersionAfterTheScan:
        """Another version lands between reading the verdict and reading the object."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def get_object_tagging(self, **kwargs: Any) -> Any:
            tagging = real.get_object_tagging(**kwargs)
            real.put_object(Bucket=file.bucket, Key=file.s3_key, Body=b"unscanned bytes")
            return tagging

    outcome = processor(resources, s3=NewVersionAfterTheScan()).process(file)

    assert (outcome.status, outcome.failure_reason) == (PROCESSED, None)
    versions = client("s3").list_object_versions(Bucket=file.bucket, Prefix=file.s3_key)
    scanned = [v["VersionId"] for v in versions["Versions"] if not v["IsLatest"]]
    assert item(resources, file.file_id)["scanned_version_id"] == scanned[0]


def test_a_clean_verdict_still_needs_the_other_checks(resources: UploadResources) -> None:
    file = store(resources, b"hello world\n", item_overrides={"sha256": "0" * 64})

    outcome = processor(resources).process(file)

    assert outcome.status == FAILED
    assert "sha256 mismatch" in str(outcome.failure_reason)


def test_a_png_is_recognised_from_its_magic_number(resources: UploadResources) -> None:
    file = store(resources, PNG, "image/png")

    assert processor(resources).process(file).detected_content_type == "image/png"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"size_bytes": 3}, "size mismatch: item says 3 bytes, object has 12"),
        ({"sha256": "0" * 64}, "sha256 mismatch"),
        ({"content_type": "image/png"}, "content type mismatch: declared image/png"),
    ],
)
def test_a_failed_check_records_failed_with_the_reason(
    resources: UploadResources, overrides: dict[str, Any], reason: str
) -> None:
    file = store(resources, b"hello world\n", item_overrides=overrides)

    outcome = processor(resources).process(file)

    assert outcome.status == FAILED
    assert outcome.failure_reason is not None
    assert reason in outcome.failure_reason
    stored = item(resources, file.file_id)
    assert stored["status"] == FAILED
    assert reason in stored["failure_reason"]


def test_every_failed_check_is_reported(resources: UploadResources) -> None:
    file = store(resources, b"hello", item_overrides={"size_bytes": 1, "sha256": "f" * 64})

    reason = processor(resources).process(file).failure_reason or ""

    assert "size mismatch" in reason
    assert "sha256 mismatch" in reason


def test_a_missing_object_is_a_permanent_failure(resources: UploadResources) -> None:
    file = store(resources, b"gone soon")
    client("s3").delete_object(Bucket=file.bucket, Key=file.s3_key)

    outcome = processor(resources).process(file)

    assert (outcome.status, outcome.failure_reason) == (FAILED, "object missing")
    stored = item(resources, file.file_id)
    assert (stored["status"], stored["failure_reason"]) == (FAILED, "object missing")
    assert stored["processed_at"] == stored["updated_at"] == "2026-11-26T19:12:24.123456Z"


def test_checks_are_extensible(resources: UploadResources) -> None:
    file = store(resources, b"hello")

    def no_hellos(f: UploadedFile, facts: Any) -> str | None:
        return "greeting detected" if facts.head.startswith(b"hello") else None

    outcome = processor(resources, checks=(no_hellos,)).process(file)

    assert (outcome.status, outcome.failure_reason) == (FAILED, "greeting detected")


def test_a_second_delivery_returns_the_recorded_outcome_without_work(
    resources: UploadResources,
) -> None:
    file = store(resources, b"once")
    first = processor(resources).process(file)

    class NoS3:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"S3 must not be called again ({name})")

    second = processor(resources, s3=NoS3()).process(file)

    assert second.duplicate
    assert (second.status, second.processed_at) == (first.status, first.processed_at)


def test_losing_the_race_returns_the_winners_outcome(resources: UploadResources) -> None:
    """Both deliveries saw UPLOADED; the conditional update lets only one record."""
    file = store(resources, b"raced")
    winner = processor(resources).process(file)
    loser = processor(resources)
    # The loser read the item before the winner's update landed.
    loser._current_item = lambda _id: {"status": {"S": "UPLOADED"}}  # type: ignore[method-assign,assignment]

    outcome = loser.process(file)

    assert outcome.duplicate
    assert outcome.status == PROCESSED
    assert outcome.processed_at == winner.processed_at


def test_a_deleted_item_is_not_recreated(resources: UploadResources) -> None:
    file = store(resources, b"orphan")
    client("dynamodb").delete_item(TableName=resources.table, Key={"file_id": {"S": file.file_id}})

    outcome = processor(resources).process(file)

    assert outcome.status == "MISSING"
    assert "Item" not in client("dynamodb").get_item(
        TableName=resources.table, Key={"file_id": {"S": file.file_id}}
    )


class Recording:
    """A client that records each call (operation, keyword arguments) and makes it."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._real, name)

        def record(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return operation(**kwargs)

        return record

    def calls_of(self, operation: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == operation]

    def keys_touched(self) -> set[str]:
        return {str(kwargs["Key"]) for _, kwargs in self.calls if "Key" in kwargs}


class Failing:
    """A client whose `operation` raises `error`; everything else goes to the real client."""

    def __init__(self, real: Any, operation: str, error: Exception) -> None:
        self._real, self._operation, self._error = real, operation, error

    def __getattr__(self, name: str) -> Any:
        if name == self._operation:

            def fail(**_: Any) -> Any:
                raise self._error

            return fail
        return getattr(self._real, name)


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        "Operation",
    )


@pytest.mark.parametrize(
    ("service", "operation", "error", "raised_as"),
    [
        ("s3", "get_object", client_error("SlowDown", 503), ProcessingThrottledError),
        ("s3", "get_object_tagging", client_error("SlowDown", 503), ProcessingThrottledError),
        ("s3", "head_object", client_error("InternalError", 500), TransientProcessingError),
        (
            "s3",
            "get_object",
            EndpointConnectionError(endpoint_url="http://s3"),
            TransientProcessingError,
        ),
        (
            "dynamodb",
            "get_item",
            client_error("ProvisionedThroughputExceededException", 400),
            ProcessingThrottledError,
        ),
        (
            "dynamodb",
            "update_item",
            client_error("ThrottlingException", 400),
            ProcessingThrottledError,
        ),
        (
            "dynamodb",
            "update_item",
            client_error("InternalServerError", 500),
            TransientProcessingError,
        ),
    ],
)
def test_throttling_and_5xx_are_transient_and_record_nothing(
    resources: UploadResources,
    service: str,
    operation: str,
    error: Exception,
    raised_as: type[TransientProcessingError],
) -> None:
    """Throttling is retried longer by the state machine (its own error name), so it is told
    apart from other transient failures."""
    file = store(resources, b"retry me")
    failing = Failing(client(service), operation, error)

    with pytest.raises(TransientProcessingError) as raised:
        processor(resources, **{service: failing}).process(file)

    assert type(raised.value) is raised_as
    assert item(resources, file.file_id)["status"] == "UPLOADED"


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("head_object", client_error("403", 403)),
        ("get_object_tagging", client_error("AccessDenied", 403)),
        ("get_object", client_error("AccessDenied", 403)),
        ("get_object", client_error("KMS.DisabledException", 400)),
        ("get_object", client_error("KMS.KMSInvalidStateException", 400)),
        ("get_object", client_error("KMS.AccessDeniedException", 400)),
        ("get_object", client_error("AccessDeniedException", 400)),
    ],
)
def test_access_and_key_errors_are_configuration_errors_and_record_nothing(
    resources: UploadResources, operation: str, error: ClientError
) -> None:
    """The file is not at fault: the item stays UPLOADED for a re-run, nothing is marked."""
    file = store(resources, b"refused")
    failing = Failing(client("s3"), operation, error)

    with pytest.raises(ProcessingConfigurationError) as raised:
        processor(resources, s3=failing).process(file)

    assert file.bucket not in str(raised.value)
    assert item(resources, file.file_id)["status"] == "UPLOADED"


@pytest.mark.parametrize(
    ("operation", "error", "reason"),
    [
        ("head_object", client_error("404", 404), "object missing"),
        ("get_object_tagging", client_error("NoSuchKey", 404), "object missing"),
        ("get_object", client_error("NoSuchKey", 404), "object missing"),
        ("get_object", client_error("InvalidObjectState", 403), "object unreadable"),
    ],
)
def test_a_missing_or_unreadable_object_fails_with_a_short_reason(
    resources: UploadResources, operation: str, error: ClientError, reason: str
) -> None:
    file = store(resources, b"unreadable")
    failing = Failing(client("s3"), operation, error)

    outcome = processor(resources, s3=failing).process(file)

    assert (outcome.status, outcome.failure_reason) == (FAILED, reason)
    assert item(resources, file.file_id)["failure_reason"] == reason


def test_a_throttled_key_is_throttling(resources: UploadResources) -> None:
    file = store(resources, b"slow key")
    failing = Failing(client("s3"), "get_object", client_error("KMS.ThrottlingException", 400))

    with pytest.raises(ProcessingThrottledError) as raised:
        processor(resources, s3=failing).process(file)

    assert file.bucket not in str(raised.value)


def test_dynamodb_access_denied_is_a_configuration_error(resources: UploadResources) -> None:
    file = store(resources, b"denied")
    failing = Failing(client("dynamodb"), "update_item", client_error("AccessDeniedException", 400))

    with pytest.raises(ProcessingConfigurationError):
        processor(resources, dynamodb=failing).process(file)


def test_an_unclassified_dynamodb_error_propagates(resources: UploadResources) -> None:
    file = store(resources, b"invalid")
    failing = Failing(client("dynamodb"), "update_item", client_error("ValidationException", 400))

    with pytest.raises(ClientError):
        processor(resources, dynamodb=failing).process(file)


@pytest.mark.parametrize(
    ("head", "declared", "detected"),
    [
        (b"plain words", "text/plain", "text/plain"),
        (b'{"a": 1}', "application/json", "application/json"),
        (b"a,b\n1,2\n", "text/csv", "text/csv"),
        (b"just text", "application/octet-stream", "text/plain"),
        (b"\x00\x01\x02binary", "application/octet-stream", "application/octet-stream"),
        (PNG, "text/plain", "image/png"),
        (b"%PDF-1.7\n", "application/pdf", "application/pdf"),
    ],
)
def test_detect_content_type(head: bytes, declared: str, detected: str) -> None:
    assert detect_content_type(head, declared, truncated=False) == detected


def test_a_character_cut_by_the_sniff_window_is_still_text() -> None:
    head = "é".encode()[:1]
    assert text_encoding(b"abc" + head, truncated=True) == "utf-8"
    # A whole file that ends mid-character is not UTF-8; as Latin-1 it is still text...
    assert text_encoding(b"abc" + head, truncated=False) == "windows-1252"
    # ...unless it holds a control byte no legacy text has.
    assert detect_content_type(b"abc\x07" + head, "text/plain", truncated=True) == "text/plain"
    assert detect_content_type(b"abc\x07" + head, "text/plain", truncated=False) == OCTET_STREAM


@pytest.mark.parametrize(
    ("declared", "detected", "agree"),
    [
        ("image/png", "image/png", True),
        ("image/jpg", "image/jpeg", True),
        ("text/plain; charset=utf-8", "text/plain", True),
        ("application/octet-stream", "image/png", True),
        ("application/octet-stream", "text/plain", True),
        ("text/plain", "image/png", False),
        ("image/png", "text/plain", False),
        ("text/plain", "application/octet-stream", False),
        ("application/x-custom-binary", "application/octet-stream", True),
        ("application/pdf", "image/png", False),
    ],
)
def test_content_types_agree(declared: str, detected: str, agree: bool) -> None:
    assert content_types_agree(declared, detected) is agree


# --- Text in the encodings people save it in -------------------------------------------

LATIN_1_TEXT = "Café crème, naïve façade, 5 °C, £3, ½ l\r\n".encode("latin-1")
# Curly quotes, an en dash, the euro sign and an ellipsis: bytes 0x80-0x9F in Windows-1252.
WINDOWS_1252_TEXT = "\u201cQuoted\u201d \u2013 \u20ac5 \u2026 \u2018fine\u2019\r\n".encode("cp1252")
CSV = "name,city\nJosé,Zürich\nÅsa,Malmö\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 40

LEGACY_TEXT_CASES = {
    "latin-1 txt": (LATIN_1_TEXT, "text/plain"),
    "windows-1252 txt": (WINDOWS_1252_TEXT, "text/plain"),
    "utf-16 csv with bom": (CSV.encode("utf-16"), "text/csv"),
    "utf-16-le with bom": (codecs.BOM_UTF16_LE + CSV.encode("utf-16-le"), "text/plain"),
    "utf-16-be with bom": (codecs.BOM_UTF16_BE + CSV.encode("utf-16-be"), "text/csv"),
    "utf-32 with bom": (CSV.encode("utf-32"), "text/csv"),
    "utf-8 with bom": (CSV.encode("utf-8-sig"), "text/markdown"),
    "utf-8 with bom json": ('{"ville": "Zürich"}'.encode("utf-8-sig"), "application/json"),
}


@pytest.mark.parametrize(("data", "declared"), LEGACY_TEXT_CASES.values(), ids=LEGACY_TEXT_CASES)
def test_text_in_legacy_and_bom_encodings_is_processed(
    resources: UploadResources, data: bytes, declared: str
) -> None:
    file = store(resources, data, declared)

    outcome = processor(resources).process(file)

    assert (outcome.status, outcome.failure_reason) == (PROCESSED, None)
    assert outcome.detected_content_type == declared
    assert item(resources, file.file_id)["status"] == PROCESSED


@pytest.mark.parametrize(("data", "declared"), LEGACY_TEXT_CASES.values(), ids=LEGACY_TEXT_CASES)
def test_text_uploaded_through_the_api_is_processed(api: Api, data: bytes, declared: str) -> None:
    """The upload API labels by extension; the processor must confirm that label."""
    extension = {"text/csv": "csv", "text/markdown": "md", "application/json": "json"}
    name = f"notes.{extension.get(declared, 'txt')}"
    payload = {"file_name": name, "file_data": base64.b64encode(data).decode()}
    response = api.client.post("/upload", json=payload, headers=api.auth())
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == declared
    raw = client("dynamodb").get_item(
        TableName=api.resources.table, Key={"file_id": {"S": response.json()["file_id"]}}
    )["Item"]
    tag_scanned(api.resources.bucket, raw["s3_key"]["S"])
    file = FileImage.model_validate(
        {name: next(iter(value.values())) for name, value in raw.items()}
    ).to_uploaded_file()

    outcome = FileProcessor(
        s3=client("s3"),
        dynamodb=client("dynamodb"),
        table_name=api.resources.table,
        bucket=api.resources.bucket,
    ).process(file)

    assert (outcome.status, outcome.failure_reason) == (PROCESSED, None)


BINARY_UNDER_A_TEXT_NAME = {
    "utf-16-le without bom": CSV.encode("utf-16-le"),
    "utf-16-be without bom": CSV.encode("utf-16-be"),
    "nul bytes": b"abc\x00def\x00ghi",
    "elf executable": ELF,
    "png": PNG,
    "latin-1 with a bell": b"caf\xe9 \x07 cr\xe8me",
    "latin-1 with escape": b"caf\xe9 \x1b[31m",
    "bom then a lone surrogate": codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00\xd8",
    "bom then an odd byte": codecs.BOM_UTF16_BE + b"\x00a\x00",
    "utf-16 bom then nul characters": "a\x00\x00b".encode("utf-16"),
}


@pytest.mark.parametrize("data", BINARY_UNDER_A_TEXT_NAME.values(), ids=BINARY_UNDER_A_TEXT_NAME)
def test_binary_declared_as_text_still_fails_the_content_type_check(
    resources: UploadResources, data: bytes
) -> None:
    file = store(resources, data, "text/plain")

    outcome = processor(resources).process(file)

    assert outcome.status == FAILED
    assert outcome.failure_reason is not None
    assert "content type mismatch: declared text/plain" in outcome.failure_reason


@pytest.mark.parametrize(
    ("data", "detected"),
    [(PNG, "image/png"), (ELF, "application/x-executable"), (b"\x00\x01\x02", OCTET_STREAM)],
)
def test_magic_bytes_win_over_a_text_name(data: bytes, detected: str) -> None:
    assert detect_content_type(data, "text/plain", truncated=False) == detected
    assert not content_types_agree("text/plain", detected)


LOOKS_LIKE_TEXT_CASES = {
    "latin-1": (LATIN_1_TEXT, False, True),
    "windows-1252": (WINDOWS_1252_TEXT, False, True),
    "layout controls": (b"tab\tline\nreturn\rform feed\x0c", False, True),
    "empty utf-8 with bom": (codecs.BOM_UTF8, False, True),
    "empty utf-16 with bom": (codecs.BOM_UTF16_LE, False, True),
    "utf-16": (CSV.encode("utf-16"), False, True),
    "utf-32": (CSV.encode("utf-32"), False, True),
    # A window that cuts a UTF-16 code unit, a surrogate pair or a UTF-32 unit.
    "cut utf-16 code unit": ("ab".encode("utf-16") + b"c", True, True),
    "cut surrogate pair": ("a\U0001f600".encode("utf-16")[:-2], True, True),
    "whole file ends in half a pair": ("a\U0001f600".encode("utf-16")[:-2], False, False),
    "cut utf-32 unit": ("abc".encode("utf-32")[:-1], True, True),
    "utf-16 without bom": (CSV.encode("utf-16-le"), False, False),
    "undefined in windows-1252": (b"\x81\x8d\x8f\x90\x9d", False, False),
    "DEL": (b"caf\xe9\x7f", False, False),
    "NUL": (b"\x00", False, False),
}


@pytest.mark.parametrize(
    ("head", "truncated", "text"), LOOKS_LIKE_TEXT_CASES.values(), ids=LOOKS_LIKE_TEXT_CASES
)
def test_looks_like_text(head: bytes, truncated: bool, text: bool) -> None:
    assert looks_like_text(head, truncated=truncated) is text
