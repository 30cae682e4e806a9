"""The upload API's AWS resources, created in moto the way Terraform creates them."""

from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3

from tests.support.tables import FILES_TABLE

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
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    client("dynamodb").create_table(TableName=TABLE, **FILES_TABLE)
    return UploadResources(bucket=BUCKET, table=TABLE, kms_key_arn=key_arn)
