"""The narrow moto extensions the local stack needs (tests.devstack.emulator), each against a real
moto server on loopback, as the local stack runs it."""

from __future__ import annotations

import base64
import copy
import gc
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.s3.models import FakeKey

from tests.devstack.definitions import MOTO_CREDENTIAL
from tests.devstack.emulator import (
    MOTO_VERSION,
    deliver_lambda_targets,
    install_extensions,
)
from tests.support.aws import server_client
from tests.support.pipeline import state_machine_definition

ROLE = "arn:aws:iam::123456789012:role/sfn"
VALID = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def client(endpoint: str, service: str, access_key: str = MOTO_CREDENTIAL) -> Any:
    return server_client(endpoint, service, access_key=access_key)


def test_written_for_the_pinned_moto() -> None:
    import moto

    assert moto.__version__ == MOTO_VERSION
    install_extensions()  # idempotent


def test_a_valid_definition_validates_ok(endpoint: str) -> None:
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=VALID, type="STANDARD"
    )
    assert answer["result"] == "OK"
    assert answer["diagnostics"] == []


def test_an_invalid_definition_still_fails_validation(endpoint: str) -> None:
    broken = json.dumps({"StartAt": "Nowhere", "States": {"Done": {"Type": "Succeed"}}})
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=broken, type="STANDARD"
    )
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"][0]["severity"] == "ERROR"


def test_a_transition_to_a_missing_nested_state_fails_validation(endpoint: str) -> None:
    inner = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "Next": "Gone"}}}
    broken = {
        "StartAt": "Map",
        "States": {"Map": {"Type": "Map", "ItemProcessor": inner, "End": True}},
    }
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=json.dumps(broken), type="STANDARD"
    )
    assert answer["result"] == "FAIL"
    assert "Work.Next -> Gone" in answer["diagnostics"][0]["message"]


def test_the_pipeline_definition_validates(endpoint: str) -> None:
    definition = state_machine_definition("arn:aws:lambda:us-east-1:1:function:p", "files")
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=definition, type="STANDARD"
    )
    assert answer["result"] == "OK", answer


def test_versions_are_listed_from_moto(endpoint: str) -> None:
    sfn = client(endpoint, "stepfunctions")
    plain = sfn.create_state_machine(name="plain", definition=VALID, roleArn=ROLE)
    listed = sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])
    assert listed["stateMachineVersions"] == []
    published = sfn.create_state_machine(
        name="published", definition=VALID, roleArn=ROLE, publish=True
    )
    arn = published["stateMachineArn"]
    (version,) = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert version["stateMachineVersionArn"] == f"{arn}:1"


def tls_only_policy(bucket: str, extra: list[dict[str, Any]] | None = None) -> str:
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        *(extra or []),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_access_logging_to_a_bucket_whose_policy_has_a_star_principal(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    for name in ("logged", "log-target"):
        s3.create_bucket(Bucket=name)
    delivery = {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::log-target/uploads/*",
    }
    s3.put_bucket_policy(Bucket="log-target", Policy=tls_only_policy("log-target", [delivery]))
    s3.put_bucket_logging(
        Bucket="logged",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "log-target", "TargetPrefix": "uploads/"}
        },
    )
    enabled = s3.get_bucket_logging(Bucket="logged")["LoggingEnabled"]
    assert enabled["TargetBucket"] == "log-target"


def test_logging_still_needs_the_delivery_grant(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    for name in ("logged-2", "log-target-2"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="log-target-2", Policy=tls_only_policy("log-target-2"))
    with pytest.raises(ClientError, match="InvalidTargetBucketForLogging"):
        s3.put_bucket_logging(
            Bucket="logged-2",
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": "log-target-2", "TargetPrefix": ""}
            },
        )


def test_conditional_denies_do_not_deny_everything(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=tls_only_policy("tls-only"))
    s3.put_object(Bucket="tls-only", Key="k", Body=b"data")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"data"


def test_unconditional_denies_still_deny(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="no-writes")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::no-writes/*",
    }
    s3.put_bucket_policy(
        Bucket="no-writes", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    with pytest.raises(ClientError, match=r"403|AccessDenied|Forbidden"):
        s3.put_object(Bucket="no-writes", Key="k", Body=b"data")


def test_authorization_details_name_their_managed_policies(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    arn = iam.create_policy(
        PolicyName="named",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    details = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])
    (policy,) = [p for p in details["Policies"] if p["Arn"] == arn]
    assert policy["PolicyName"] == "named"
    assert policy["PolicyId"] == iam.get_policy(PolicyArn=arn)["Policy"]["PolicyId"]


# ------------------------------------------------------------ read back as written
# Without these, `terraform plan` of the local root shows changes right after an apply.


@pytest.mark.parametrize(("asked", "answered"), [({"RotationPeriodInDays": 90}, 90), ({}, 365)])
def test_the_key_rotation_period_is_read_back(
    endpoint: str, asked: dict[str, int], answered: int
) -> None:
    kms = client(endpoint, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id, **asked)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, answered)
    kms.disable_key_rotation(KeyId=key_id)
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)


def test_eventbridge_notifications_are_read_back(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="notifying")
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket="notifying"
    )
    s3.put_bucket_notification_configuration(
        Bucket="notifying", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    configuration = s3.get_bucket_notification_configuration(Bucket="notifying")
    assert configuration["EventBridgeConfiguration"] == {}
    s3.put_bucket_notification_configuration(Bucket="notifying", NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket="notifying"
    )


# ------------------------------------------------------------ presigned URLs

DATA = b"data"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def stored(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchKey"
        return None
    return body


def error_code(response: httpx.Response) -> str:
    return response.text.split("<Code>")[1].split("</Code>")[0]


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"presigned-{uuid.uuid4().hex[:12]}"
    client(endpoint, "s3").create_bucket(Bucket=name)
    return name


def test_a_presigned_put_stores_the_object(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    key = "uploads/owner/a b!(1)*'~é.txt"  # sent percent-encoded: signed as sent
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key})
    response = httpx.put(url, content=DATA)
    assert response.status_code == 200, response.text
    assert stored(s3, bucket, key) == DATA


def test_an_expired_presigned_url_is_refused(
    endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = client(endpoint, "s3")
    two_hours_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: two_hours_ago)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "late"}, ExpiresIn=3600
    )
    response = httpx.put(url, content=DATA)
    assert response.status_code == 403
    assert error_code(response) == "AccessDenied"
    assert "Request has expired" in response.text
    assert stored(s3, bucket, "late") is None


def test_a_presigned_url_used_for_another_key_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploads/one"})
    response = httpx.put(url.replace("/uploads/one?", "/uploads/two?"), content=DATA)
    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert stored(s3, bucket, "uploads/two") is None
    assert stored(s3, bucket, "uploads/one") is None


def test_an_unknown_access_key_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3", access_key="AKIAUNKNOWN")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    response = httpx.put(url, content=DATA)
    assert response.status_code == 403
    assert error_code(response) == "InvalidAccessKeyId"
    assert stored(client(endpoint, "s3"), bucket, "k") is None


def presigned_put_with_headers(s3: Any, bucket: str, key: str) -> tuple[str, dict[str, str]]:
    """A presigned PUT as the direct-upload API hands it out, with the headers it signs."""
    url = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ContentLength": len(DATA),
            "ContentType": "text/plain",
            "ChecksumSHA256": sha256(DATA),
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KMS_KEY,
        },
    )
    headers = {
        "Content-Type": "text/plain",
        "x-amz-checksum-sha256": sha256(DATA),
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
    }
    return url, headers


def test_a_presigned_put_with_signed_headers_succeeds_with_them(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    url, headers = presigned_put_with_headers(s3, bucket, "uploads/signed")
    assert "content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256" in url
    response = httpx.put(url, content=DATA, headers=headers)
    assert response.status_code == 200, response.text
    head = s3.head_object(Bucket=bucket, Key="uploads/signed")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS_KEY)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Content-Length", str(len(DATA) + 1)),
        ("Content-Type", "text/html"),
        ("x-amz-checksum-sha256", sha256(b"other")),
        ("x-amz-server-side-encryption", "AES256"),
        ("x-amz-server-side-encryption-aws-kms-key-id", None),
    ],
    ids=["content-length", "content-type", "checksum", "encryption", "kms-key-left-out"],
)
def test_a_signed_header_changed_or_left_out_is_refused(
    endpoint: str, bucket: str, header: str, value: str | None
) -> None:
    s3 = client(endpoint, "s3")
    url, headers = presigned_put_with_headers(s3, bucket, "uploads/signed")
    headers.pop(header, None)
    body = DATA + b"!" if header == "Content-Length" else DATA
    response = httpx.put(url, content=body, headers=headers | ({header: value} if value else {}))
    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert stored(s3, bucket, "uploads/signed") is None


def test_malformed_query_authentication_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    response = httpx.put(url.replace("X-Amz-Date=", "X-Amz-Datum="), content=DATA)
    assert response.status_code == 400
    assert error_code(response) == "AuthorizationQueryParametersError"


def test_a_presigned_upload_part_url_works(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="uploads/big")["UploadId"]
    url = s3.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": bucket,
            "Key": "uploads/big",
            "UploadId": upload_id,
            "PartNumber": 1,
            "ContentLength": len(DATA),
        },
    )
    assert httpx.put(url.replace("partNumber=1", "partNumber=2"), content=DATA).status_code == 403
    response = httpx.put(url, content=DATA)
    assert response.status_code == 200, response.text
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="uploads/big",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": response.headers["ETag"]}]},
    )
    assert stored(s3, bucket, "uploads/big") == DATA


def test_a_presigned_get_works(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    s3.put_object(Bucket=bucket, Key="k", Body=DATA)
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": "k",
            "ResponseContentDisposition": 'attachment; filename="a b.txt"',
        },
    )
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert response.content == DATA


# ------------------------------------------------------------ checksums


def test_a_put_whose_sha256_does_not_match_the_body_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    with pytest.raises(ClientError, match="BadDigest") as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=DATA, ChecksumSHA256=sha256(b"other"))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert stored(s3, bucket, "k") is None
    s3.put_object(Bucket=bucket, Key="k", Body=DATA, ChecksumSHA256=sha256(DATA))
    assert stored(s3, bucket, "k") == DATA


def test_a_presigned_put_of_other_bytes_than_signed_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    url, headers = presigned_put_with_headers(s3, bucket, "uploads/swapped")
    response = httpx.put(url, content=b"evil", headers=headers)  # same length, other bytes
    assert response.status_code == 400
    assert error_code(response) == "BadDigest"
    assert stored(s3, bucket, "uploads/swapped") is None


def test_a_part_whose_sha256_does_not_match_the_body_is_refused(endpoint: str, bucket: str) -> None:
    s3 = client(endpoint, "s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    part = {"Bucket": bucket, "Key": "big", "UploadId": upload_id, "PartNumber": 1, "Body": DATA}
    with pytest.raises(ClientError, match="BadDigest"):
        s3.upload_part(**part, ChecksumSHA256=sha256(b"other"))
    assert s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id).get("Parts", []) == []
    s3.upload_part(**part, ChecksumSHA256=sha256(DATA))


# ------------------------------------------------------------ conditional writes
# moto's own behaviour, pinned: an upload never replaces an existing object.


def precondition_failed(error: ClientError) -> bool:
    return (
        error.response["Error"]["Code"] == "PreconditionFailed"
        and error.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    )


def versions(s3: Any, bucket: str, key: str) -> list[str]:
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key]


@pytest.fixture
def versioned(endpoint: str, bucket: str) -> str:
    client(endpoint, "s3").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return bucket


def test_a_put_if_none_match_refuses_an_existing_key(endpoint: str, versioned: str) -> None:
    s3 = client(endpoint, "s3")
    s3.put_object(Bucket=versioned, Key="k", Body=DATA, IfNoneMatch="*")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=versioned, Key="k", Body=b"other", IfNoneMatch="*")
    assert precondition_failed(raised.value)
    assert stored(s3, versioned, "k") == DATA
    assert len(versions(s3, versioned, "k")) == 1


def test_a_presigned_put_signed_with_if_none_match_cannot_replace(
    endpoint: str, versioned: str
) -> None:
    s3 = client(endpoint, "s3")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": versioned, "Key": "uploads/once", "IfNoneMatch": "*"}
    )
    assert "if-none-match" in url  # a signed header: the client must send it
    first = httpx.put(url, content=DATA, headers={"If-None-Match": "*"})
    assert first.status_code == 200, first.text

    again = httpx.put(url, content=b"other", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert error_code(again) == "PreconditionFailed"
    without = httpx.put(url, content=b"other")
    assert without.status_code == 403
    assert error_code(without) == "SignatureDoesNotMatch"
    assert stored(s3, versioned, "uploads/once") == DATA
    assert len(versions(s3, versioned, "uploads/once")) == 1


def test_a_multipart_completion_if_none_match_refuses_an_existing_key(
    endpoint: str, versioned: str
) -> None:
    s3 = client(endpoint, "s3")
    s3.put_object(Bucket=versioned, Key="big", Body=DATA)
    upload_id = s3.create_multipart_upload(Bucket=versioned, Key="big")["UploadId"]
    etag = s3.upload_part(
        Bucket=versioned, Key="big", UploadId=upload_id, PartNumber=1, Body=b"other"
    )["ETag"]
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=versioned,
            Key="big",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
            IfNoneMatch="*",
        )
    assert precondition_failed(raised.value)
    assert stored(s3, versioned, "big") == DATA
    assert len(versions(s3, versioned, "big")) == 1


def test_a_put_if_none_match_may_follow_a_delete_marker(endpoint: str, versioned: str) -> None:
    """As S3: a key whose current version is a delete marker has no object."""
    s3 = client(endpoint, "s3")
    s3.put_object(Bucket=versioned, Key="k", Body=b"old")
    s3.delete_object(Bucket=versioned, Key="k")
    s3.put_object(Bucket=versioned, Key="k", Body=DATA, IfNoneMatch="*")
    assert stored(s3, versioned, "k") == DATA


def test_the_clean_only_read_gate_is_not_enforced_locally(endpoint: str, bucket: str) -> None:
    """The production statement is conditional, so the emulator skips it: nothing in the local
    stack may depend on it (terraform test, checkov and the e2e read-back prove the policy)."""
    s3 = client(endpoint, "s3")
    gate = {
        "Sid": "ReadsOnlyOfObjectsScannedClean",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {
            "StringNotEquals": {
                "s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"
            },
            "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/scanner"},
        },
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket, [gate]))
    s3.put_object(Bucket=bucket, Key="unscanned", Body=DATA)
    assert stored(s3, bucket, "unscanned") == DATA
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][1] == gate


# ------------------------------------------------------------ EventBridge to Lambda

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:processor"
ENVELOPE = {
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
}


@pytest.fixture
def delivered() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    deliver_lambda_targets(lambda arn, event: calls.append((arn, event)))
    yield calls
    deliver_lambda_targets(None)


@pytest.fixture
def notifying_bucket(endpoint: str) -> str:
    """A bucket sending EventBridge notifications, with a rule for its uploads/ to FUNCTION."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [name]}, "object": {"key": [{"prefix": "uploads/"}]}},
    }
    events = client(endpoint, "events")
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "processor", "Arn": FUNCTION}])
    return name


def test_an_object_created_under_the_prefix_is_delivered(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    client(endpoint, "s3").put_object(Bucket=notifying_bucket, Key="uploads/a", Body=DATA)
    ((arn, event),) = delivered
    assert arn == FUNCTION
    assert set(event) == ENVELOPE
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["resources"] == [f"arn:aws:s3:::{notifying_bucket}"]
    assert event["detail"]["bucket"]["name"] == notifying_bucket
    assert event["detail"]["object"]["key"] == "uploads/a"
    assert event["detail"]["object"]["size"] == len(DATA)
    sent = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)


def test_each_event_has_its_own_id(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    s3 = client(endpoint, "s3")
    for key in ("uploads/a", "uploads/b"):
        s3.put_object(Bucket=notifying_bucket, Key=key, Body=DATA)
    first, second = (event["id"] for _, event in delivered)
    assert first != second


def test_an_object_outside_the_prefix_is_not_delivered(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    client(endpoint, "s3").put_object(Bucket=notifying_bucket, Key="elsewhere/a", Body=DATA)
    assert delivered == []


def test_a_completed_multipart_upload_is_delivered(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    s3 = client(endpoint, "s3")
    key = "uploads/big"
    upload_id = s3.create_multipart_upload(Bucket=notifying_bucket, Key=key)["UploadId"]
    etag = s3.upload_part(
        Bucket=notifying_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=DATA
    )["ETag"]
    assert delivered == []
    s3.complete_multipart_upload(
        Bucket=notifying_bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    # moto sends two events: one for the object its completion puts, one for the
    # completion; both with reason "ObjectCreated", which S3 sends for neither.
    assert [(arn, event["detail-type"], event["detail"]) for arn, event in delivered] == [
        (FUNCTION, "Object Created", delivered[0][1]["detail"])
    ] * 2
    assert delivered[0][1]["detail"]["object"]["key"] == key
    assert delivered[0][1]["detail"]["reason"] == "ObjectCreated"


def test_put_events_reach_a_lambda_target_as_the_full_event(
    endpoint: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    source = f"test.{uuid.uuid4().hex[:12]}"
    events = client(endpoint, "events")
    events.put_rule(Name=source, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=source, Targets=[{"Id": "processor", "Arn": FUNCTION}])
    events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": '{"k": "v"}'}])
    ((arn, event),) = delivered
    assert arn == FUNCTION
    assert set(event) == ENVELOPE
    assert (event["source"], event["detail"]) == (source, {"k": "v"})
    datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_an_input_transformer_is_applied_to_put_events(
    endpoint: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    source = f"test.{uuid.uuid4().hex[:12]}"
    events = client(endpoint, "events")
    events.put_rule(Name=source, EventPattern=json.dumps({"source": [source]}))
    transformer = {"InputPathsMap": {"k": "$.detail.k"}, "InputTemplate": '{"file": "<k>"}'}
    events.put_targets(
        Rule=source,
        Targets=[{"Id": "processor", "Arn": FUNCTION, "InputTransformer": transformer}],
    )
    events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": '{"k": "v"}'}])
    assert delivered == [(FUNCTION, {"file": "v"})]


def test_the_rule_s_other_targets_still_get_the_event(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    sqs = client(endpoint, "sqs")
    queue_url = sqs.create_queue(QueueName=notifying_bucket)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    client(endpoint, "events").put_targets(
        Rule=notifying_bucket,
        Targets=[{"Id": "queue", "Arn": queue_arn["Attributes"]["QueueArn"]}],
    )
    client(endpoint, "s3").put_object(Bucket=notifying_bucket, Key="uploads/a", Body=DATA)
    assert len(delivered) == 1
    (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "uploads/a"


def test_a_failing_deliver_is_logged_and_the_put_succeeds(
    endpoint: str, notifying_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(arn: str, event: dict[str, Any]) -> None:
        raise RuntimeError("queue full")

    deliver_lambda_targets(fail)
    try:
        with caplog.at_level(logging.ERROR, logger="tests.devstack.emulator"):
            client(endpoint, "s3").put_object(Bucket=notifying_bucket, Key="uploads/a", Body=DATA)
    finally:
        deliver_lambda_targets(None)
    assert "queue full" in caplog.text


def test_without_a_deliver_function_nothing_is_delivered(
    endpoint: str, notifying_bucket: str, delivered: list[tuple[str, dict[str, Any]]]
) -> None:
    deliver_lambda_targets(None)
    client(endpoint, "s3").put_object(Bucket=notifying_bucket, Key="uploads/a", Body=DATA)
    assert delivered == []


def test_a_failed_transaction_does_not_undo_a_concurrent_write(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto restored a snapshot of the table on rollback; a write made meanwhile must survive."""
    dynamodb = client(endpoint, "dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"id": {"S": "taken"}})
    snapshot_taken, writer_started = threading.Event(), threading.Event()
    condition = vars(dynamodb_models)["get_filter_expression"]

    def slow_condition(*args: Any, **kwargs: Any) -> Any:
        # Inside moto's transaction, after its rollback copy (if it takes one):
        # hold the transaction open while the writer runs.
        if not snapshot_taken.is_set():
            snapshot_taken.set()
            writer_started.wait(5)
            time.sleep(0.3)
        return condition(*args, **kwargs)

    # This server runs in-process: moto's own condition check is the hook.
    monkeypatch.setattr(dynamodb_models, "get_filter_expression", slow_condition)

    def failing_transaction() -> None:
        with pytest.raises(ClientError):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"id": {"S": "taken"}},
                            "ConditionExpression": "attribute_not_exists(id)",
                        }
                    }
                ]
            )

    def writer() -> None:
        snapshot_taken.wait(5)
        writer_started.set()
        client(endpoint, "dynamodb").put_item(TableName=table, Item={"id": {"S": "concurrent"}})

    threads = [
        threading.Thread(target=failing_transaction),
        threading.Thread(target=writer, name="writer"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert snapshot_taken.is_set()
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "concurrent"}}, ConsistentRead=True)
    assert "Item" in item


def test_a_reader_of_the_stream_still_sees_records_after_a_failed_transaction(
    endpoint: str,
) -> None:
    dynamodb, streams = client(endpoint, "dynamodb"), client(endpoint, "dynamodbstreams")
    table = f"t-{uuid.uuid4().hex[:8]}"
    stream_arn = dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    dynamodb.put_item(TableName=table, Item={"id": {"S": "taken"}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": "counter"}, "n": {"N": "1"}})
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    with pytest.raises(ClientError):
        # The first Put and the Update apply (and are streamed) before the last Put's
        # condition fails.
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"id": {"S": "rolled-back"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"id": {"S": "counter"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"id": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                },
            ]
        )

    dynamodb.put_item(TableName=table, Item={"id": {"S": "after"}})

    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in records] == ["after"]
    rolled_back = dynamodb.get_item(TableName=table, Key={"id": {"S": "rolled-back"}})
    assert "Item" not in rolled_back
    counter = dynamodb.get_item(TableName=table, Key={"id": {"S": "counter"}})["Item"]
    assert counter["n"] == {"N": "1"}


def test_a_transaction_does_not_copy_its_tables(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's copy costs time in proportion to the table, on every transaction."""
    dynamodb = client(endpoint, "dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    copied: list[Any] = []
    deepcopy = copy.deepcopy

    def counting(value: Any, *args: Any) -> Any:
        if isinstance(value, Table):
            copied.append(value)
        return deepcopy(value, *args)

    monkeypatch.setattr(copy, "deepcopy", counting)

    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {"id": {"S": "one"}}}}]
    )

    assert copied == []
    assert "Item" in dynamodb.get_item(TableName=table, Key={"id": {"S": "one"}})


def test_listing_versions_copies_no_object_bytes_and_leaves_them_readable(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto deep-copied every version in the bucket, bytes included, on each listing."""
    s3 = client(endpoint, "s3")
    bucket = f"versions-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="a", Body=b"first")
    s3.put_object(Bucket=bucket, Key="a", Body=b"second")
    s3.put_object(Bucket=bucket, Key="b", Body=b"other")
    s3.delete_object(Bucket=bucket, Key="b")
    copies: list[Any] = []
    getstate = FakeKey.__getstate__

    def counting(self: FakeKey) -> Any:
        copies.append(self)
        return getstate(self)

    monkeypatch.setattr(FakeKey, "__getstate__", counting)

    listing = s3.list_object_versions(Bucket=bucket)
    gc.collect()  # the listing's views of the versions are gone

    assert copies == []
    assert [(v["Key"], v["IsLatest"], v["Size"]) for v in listing["Versions"]] == [
        ("a", True, 6),
        ("a", False, 5),
        ("b", False, 5),
    ]
    assert [(m["Key"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [("b", True)]
    older = listing["Versions"][1]["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="a", VersionId=older)["Body"].read() == b"first"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"second"
