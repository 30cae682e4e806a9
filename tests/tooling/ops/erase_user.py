"""`make erase-user ENV=<env> SUB=<sub>`: erase every file and pending upload of one user.

For erasure requests. ENV=local works on the running local stack; dev, stage
and prod use the caller's AWS credentials (an operator with the break-glass
role: only it and the functions may read or delete upload data). Every name
comes from the SSM parameters Terraform published for the environment. Each
file is deleted the way `DELETE /uploads/{file_id}` does it (every version of
the object, then the item), each pending upload is aborted, and every removal
is printed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from ops.environment import ENVIRONMENTS, Environment, environment
from upload_api.direct_uploads import DirectUploadService
from upload_api.quota import Quota
from upload_api.service import UploadService
from upload_contract import OWNER_INDEX

_log = logging.getLogger("erase-user")


def erase_user(sub: str, env: Environment) -> list[str]:
    """Delete every file and abort every pending upload of `sub`; one line per removal."""
    s3, dynamodb, parameters = env.client("s3"), env.client("dynamodb"), env.parameters
    # Only releases are made here: the limits play no part.
    quota = Quota(parameters["user_usage_table_name"], max_bytes=1, max_files=1)
    files = UploadService(
        s3=s3,
        dynamodb=dynamodb,
        bucket=parameters["upload_bucket_name"],
        table=parameters["files_table_name"],
        kms_key_id=parameters["kms_key_arn"],
        presigned_url_ttl=1,
        quota=quota,
        logger=_log,
    )
    # Only abort() is used: the upload-planning limits play no part.
    pending = DirectUploadService(
        s3=s3,
        dynamodb=dynamodb,
        bucket=parameters["upload_bucket_name"],
        files_table=parameters["files_table_name"],
        pending_table=parameters["pending_uploads_table_name"],
        kms_key_id=parameters["kms_key_arn"],
        url_ttl=1,
        pending_ttl=1,
        single_put_max_bytes=0,
        part_bytes=5 * 1024 * 1024,
        max_bytes=0,
        quota=quota,
        logger=_log,
    )
    removed = []
    for page in dynamodb.get_paginator("query").paginate(
        TableName=parameters["files_table_name"],
        IndexName=OWNER_INDEX,
        KeyConditionExpression="#owner = :owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={":owner": {"S": sub}},
    ):
        for item in page["Items"]:
            files.delete(sub, item["file_id"]["S"])
            removed.append(
                f"file {item['file_id']['S']} s3://{item['bucket']['S']}/{item['s3_key']['S']}"
            )
    # Pending uploads have no owner index: an operator command may scan.
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=parameters["pending_uploads_table_name"],
        FilterExpression="#owner = :owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={":owner": {"S": sub}},
    ):
        for item in page["Items"]:
            if pending.abort(sub, item["file_id"]["S"]):
                removed.append(
                    f"pending upload {item['file_id']['S']} s3://{item['bucket']['S']}/{item['s3_key']['S']}"
                )
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.erase_user", description=__doc__)
    parser.add_argument("env", choices=ENVIRONMENTS)
    parser.add_argument("sub", help="the user's Cognito sub (a UUID)")
    args = parser.parse_args(argv)
    try:
        uuid.UUID(args.sub)
    except ValueError:
        print(f"error: {args.sub!r} is not a Cognito sub (a UUID)", file=sys.stderr)
        return 2
    try:
        removed = erase_user(args.sub, environment(args.env))
    except Exception as error:  # an operator command: say what failed, in one line
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in removed:
        print(f"removed {line}")
    print(f"{len(removed)} removed for {args.sub} in {args.env}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
