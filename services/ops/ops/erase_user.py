"""`make erase-user ENV=<env> SUB=<sub>`: erase every file, upload and byte of one user.

For erasure requests. ENV=local works on the running local stack; dev, stage
and prod use the caller's AWS credentials (an operator with the break-glass
role: only it and the functions may read or delete upload data). Every name
comes from the SSM parameters Terraform published for the environment.

Erasure works on the user's S3 prefix, uploads/<sub>/, not on what the items
name: every object version, every delete marker and every open multipart
upload under it goes (the same purge DELETE /uploads/{file_id} runs on one
file's prefix), then every file item, every pending or closed upload record
and the usage counters. It prints each removal and the totals: files, uploads,
object versions and their bytes, delete markers, multipart uploads aborted.

Disable the user in Cognito first: a URL signed before erasure stays usable
for its few minutes, and the object it may write then is removed by its
object-created event only while the upload's record exists. Run erase-user
again after those minutes (or sweep-orphans) to be certain.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass, field

from ops.environment import ENVIRONMENTS, Environment, environment
from upload_api.storage import Removed, purge_prefix
from upload_contract import OWNER_INDEX, user_prefix


@dataclass
class Erasure:
    """What erase_user removed."""

    files: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    objects: Removed = field(default_factory=Removed)
    usage: bool = False

    def lines(self, sub: str) -> list[str]:
        return [
            *(f"removed file {file_id}" for file_id in self.files),
            *(f"removed upload {file_id}" for file_id in self.uploads),
            f"removed under {user_prefix(sub)}: {self.objects.summary()}",
        ]

    def totals(self, sub: str) -> str:
        return (
            f"erased {sub}: {len(self.files)} file(s), {len(self.uploads)} upload record(s), "
            f"{self.objects.summary()}, usage counters {'removed' if self.usage else 'absent'}"
        )


def erase_user(sub: str, env: Environment) -> Erasure:
    """Every byte under the user's prefix, then every item and record that names the user."""
    s3, dynamodb, parameters = env.client("s3"), env.client("dynamodb"), env.parameters
    erased = Erasure()
    pending_table = parameters["pending_uploads_table_name"]
    # Pending uploads have no owner index: an operator command may scan. Records go
    # first, so no signal can complete an upload into a file behind the purge.
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=pending_table,
        FilterExpression="#owner = :owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={":owner": {"S": sub}},
        ProjectionExpression="file_id",
        ConsistentRead=True,
    ):
        for record in page["Items"]:
            dynamodb.delete_item(TableName=pending_table, Key={"file_id": record["file_id"]})
            erased.uploads.append(record["file_id"]["S"])
    erased.objects = purge_prefix(s3, parameters["upload_bucket_name"], user_prefix(sub))
    files_table = parameters["files_table_name"]
    for page in dynamodb.get_paginator("query").paginate(
        TableName=files_table,
        IndexName=OWNER_INDEX,
        KeyConditionExpression="#owner = :owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={":owner": {"S": sub}},
    ):
        for item in page["Items"]:
            dynamodb.delete_item(TableName=files_table, Key={"file_id": item["file_id"]})
            erased.files.append(item["file_id"]["S"])
    answer = dynamodb.delete_item(
        TableName=parameters["user_usage_table_name"],
        Key={"owner": {"S": sub}},
        ReturnValues="ALL_OLD",
    )
    erased.usage = "Attributes" in answer
    return erased


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
        erased = erase_user(args.sub, environment(args.env))
    except Exception as error:  # an operator command: say what failed, in one line
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in erased.lines(args.sub):
        print(line)
    print(f"{erased.totals(args.sub)} in {args.env}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
