"""The upload bucket and files table, created the way Terraform creates them.

Used by the local stack and by the tests, so both build the same resources.
"""

from typing import TYPE_CHECKING, Any

from devstack import definitions as d

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client


def create_upload_bucket(s3: "S3Client", name: str, key_arn: str) -> None:
    """Versioned, SSE-KMS with the environment key and a bucket key, no public access."""
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=name,
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
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def create_files_table(dynamodb: "DynamoDBClient", name: str, key_arn: str) -> dict[str, Any]:
    """The metadata table with Terraform's key schema, index and stream, KMS-encrypted."""
    description = dynamodb.create_table(
        TableName=name,
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        **d.table_definition(),
    )["TableDescription"]
    return dict(description)
