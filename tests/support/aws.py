"""The upload API's AWS resources in moto (decorator mode) for unit and property tests.

The local stack gets its resources from Terraform; unit tests mock AWS in
process and build just the bucket and table the code under test needs, with
the data contract's keys.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from tests.devstack.definitions import MOTO_CREDENTIAL
from tests.support.pipeline import table_definition
from upload_contract import PENDING_HASH_KEY, USAGE_HASH_KEY, ScanVerdict

REGION = "us-east-1"
BUCKET = "secure-upload-test-uploads-123456789012"
TABLE = "secure-upload-test-files"
PENDING_TABLE = "secure-upload-test-pending-uploads"
USAGE_TABLE = "secure-upload-test-user-usage"


@dataclass(frozen=True)
class UploadResources:
    bucket: str
    table: str
    pending_table: str
    usage_table: str
    kms_key_arn: str


@cache
def client(service: str) -> Any:
    """One client per service for the session: moto intercepts it whenever a mock is active."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def server_client(
    endpoint: str,
    service: str,
    *,
    access_key: str = MOTO_CREDENTIAL,
    config: Config | None = None,
) -> Any:
    """A client of a moto server (the unit tests' `endpoint`, the local stack's emulator),
    signing as the upload API does: SigV4 for S3, which botocore would presign with SigV2."""
    s3v4 = Config(signature_version="s3v4") if service == "s3" else None
    merged = config.merge(s3v4) if config and s3v4 else config or s3v4
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=MOTO_CREDENTIAL,
        aws_session_token=MOTO_CREDENTIAL,
        config=merged,
    )


def create_upload_resources(
    aws: Callable[[str], Any] = client, suffix: str = ""
) -> UploadResources:
    """The bucket and tables, through `aws` (decorator-mode moto by default, or a moto
    server's clients), each name ending in `suffix` so one server can hold several sets."""
    bucket, table = f"{BUCKET}{suffix}", f"{TABLE}{suffix}"
    pending, usage = f"{PENDING_TABLE}{suffix}", f"{USAGE_TABLE}{suffix}"
    key_arn = aws("kms").create_key(Description="test uploads key")["KeyMetadata"]["Arn"]
    s3, dynamodb = aws("s3"), aws("dynamodb")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    encryption = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    dynamodb.create_table(TableName=table, SSESpecification=encryption, **table_definition())
    for name, hash_key in ((pending, PENDING_HASH_KEY), (usage, USAGE_HASH_KEY)):
        dynamodb.create_table(
            TableName=name,
            SSESpecification=encryption,
            KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return UploadResources(
        bucket=bucket, table=table, pending_table=pending, usage_table=usage, kms_key_arn=key_arn
    )


def tag_scanned(bucket: str, key: str, verdict: str = ScanVerdict.CLEAN) -> None:
    """Tag the object as GuardDuty Malware Protection does once it has scanned it."""
    client("s3").put_object_tagging(
        Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": ScanVerdict.TAG_KEY, "Value": verdict}]}
    )
