"""The upload API's AWS resources in moto, built by the same code as the local stack."""

from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3

from devstack.resources import create_files_table, create_upload_bucket

REGION = "us-east-1"
BUCKET = "secure-upload-test-uploads-123456789012"
TABLE = "secure-upload-test-files"


@dataclass(frozen=True)
class UploadResources:
    bucket: str
    table: str
    kms_key_arn: str


@cache
def client(service: str) -> Any:
    """One client per service for the session: moto intercepts it whenever a mock is active."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def create_upload_resources() -> UploadResources:
    key_arn = client("kms").create_key(Description="test uploads key")["KeyMetadata"]["Arn"]
    create_upload_bucket(client("s3"), BUCKET, key_arn)
    create_files_table(client("dynamodb"), TABLE, key_arn)
    return UploadResources(bucket=BUCKET, table=TABLE, kms_key_arn=key_arn)
