"""The runbook's commands (services/README.md, "Operations"), for one environment at a time.

    python -m ops.runbook redrive ENV            # the Pipe's dead-letter queue, back through
    python -m ops.runbook rerun-failed ENV       # failed executions, with their own input
    python -m ops.runbook reprocess ENV          # items stuck in UPLOADED
    python -m ops.runbook sweep-orphans ENV      # file prefixes no item or live upload owns

Every command finds the environment's resources from what Terraform created
(SSM parameters, the files table's stream, the Pipe reading it) and prints
what it did, one line each. Processing is idempotent, so any of them may be
run again: a file already PROCESSED, FAILED or QUARANTINED is reported, not redone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ops.environment import ENVIRONMENTS, Environment, environment
from upload_api.direct_uploads import CLOSED
from upload_api.quota import Quota
from upload_api.storage import file_prefix, purge_prefix
from upload_contract import PENDING_TTL_ATTRIBUTE, UPLOAD_PREFIX, Status, timestamp, to_pipe_record

# Step Functions refuses a larger execution input.
MAX_EXECUTION_INPUT_BYTES = 256 * 1024


def pipeline(env: Environment) -> tuple[str, str, str]:
    """The files table's stream, the Pipe on it and the state machine it starts."""
    table = env.client("dynamodb").describe_table(TableName=env.parameters["files_table_name"])
    stream_arn = table["Table"]["LatestStreamArn"]
    pipes = env.client("pipes")
    for summary in pipes.list_pipes(SourcePrefix=stream_arn)["Pipes"]:
        if summary["Source"] == stream_arn:
            described = pipes.describe_pipe(Name=summary["Name"])
            dlq = described["SourceParameters"]["DynamoDBStreamParameters"]["DeadLetterConfig"]
            return stream_arn, dlq["Arn"], described["Target"]
    raise RuntimeError(f"no Pipe reads {stream_arn}")


def start(env: Environment, state_machine_arn: str, records: list[dict[str, Any]], why: str) -> str:
    """One execution with the Pipe's input shape: an array of stream records."""
    return str(
        env.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn,
            name=f"{why}-{uuid.uuid4()}",
            input=json.dumps(records),
        )["executionArn"]
    )


# ------------------------------------------------------------------ redrive


def redrive(env: Environment) -> list[str]:
    """Each dead-lettered batch: its INSERTs read back from the stream and started again.

    The Pipe's dead-letter message describes the batch (shard and sequence
    numbers), not its records: they stay in the stream for 24 hours. A message
    is deleted once its batch is started; one whose records have left the
    stream is kept, and `reprocess` finds its items still UPLOADED.
    """
    stream_arn, dlq_arn, state_machine_arn = pipeline(env)
    sqs = env.client("sqs")
    _, _, _, _, account, name = dlq_arn.split(":", 5)
    queue_url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    done = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        for message in messages:
            batch = json.loads(message["Body"])["DDBStreamBatchInfo"]
            records = list(_stream_records(env, stream_arn, batch))
            if len(records) != int(batch["batchSize"]):
                done.append(
                    f"kept dead letter {message['MessageId']}: {len(records)} of "
                    f"{batch['batchSize']} records still in the stream (run reprocess)"
                )
                continue
            inserts = [r for r in records if r["eventName"] == "INSERT"]
            if inserts:
                arn = start(env, state_machine_arn, inserts, "redrive")
                done.append(f"redrove {len(inserts)} record(s) as {arn}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return done


def _stream_records(
    env: Environment, stream_arn: str, batch: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    streams = env.client("dynamodbstreams")
    end = int(batch["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=batch["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]
    except streams.exceptions.TrimmedDataAccessException:
        return
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in page["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return
            yield to_pipe_record(record, stream_arn)
        if not page["Records"]:
            return
        iterator = page.get("NextShardIterator")


# ------------------------------------------------------------------ rerun-failed


def rerun_failed(env: Environment, since: timedelta) -> list[str]:
    """Failed executions of the last `since`, started again with their own input.

    A configuration error (access denied, a disabled key) fails the execution
    and leaves its items UPLOADED: once it is fixed, this finishes them.
    Items an execution did mark FAILED stay FAILED (the processor reports them
    as already finished).
    """
    _, _, state_machine_arn = pipeline(env)
    sfn = env.client("stepfunctions")
    cutoff = datetime.now(UTC) - since
    done = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="FAILED"
    ):
        for execution in page["executions"]:
            if execution["startDate"] < cutoff:
                continue
            records = json.loads(
                sfn.describe_execution(executionArn=execution["executionArn"])["input"]
            )
            arn = start(env, state_machine_arn, records, "rerun")
            done.append(f"reran {execution['name']} ({len(records)} record(s)) as {arn}")
    return done


# ------------------------------------------------------------------ reprocess


def reprocess(env: Environment, older_than: timedelta) -> list[str]:
    """Items UPLOADED for longer than `older_than`, each started again as the Pipe would.

    A healthy pipeline finishes a file in seconds: an item still UPLOADED
    after minutes was lost on the way (a dead-lettered batch whose records
    left the stream, an execution that could not run).
    """
    stream_arn, _, state_machine_arn = pipeline(env)
    cutoff = timestamp(datetime.now(UTC) - older_than)
    stuck = [
        item
        for item in _scan(env, env.parameters["files_table_name"])
        if item.get("status", {}).get("S") == Status.UPLOADED and _last_change(item) < cutoff
    ]
    done = []
    for item in stuck:
        file_id = item["file_id"]["S"]
        record = _insert_record(item, stream_arn, env.region)
        # One execution each: a record that cannot run never holds back another.
        if len(json.dumps([record]).encode()) > MAX_EXECUTION_INPUT_BYTES:
            done.append(f"skipped {file_id}: its item is too large for an execution's input")
            continue
        arn = start(env, state_machine_arn, [record], "reprocess")
        done.append(f"reprocessing {file_id} as {arn}")
    return done


def _last_change(item: dict[str, Any]) -> str:
    """updated_at, else created_at; an item with neither sorts as the oldest."""
    return str((item.get("updated_at") or item.get("created_at") or {}).get("S", ""))


def _insert_record(item: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """The INSERT record the stream carried for `item` (NEW_IMAGE)."""
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": {
            "ApproximateCreationDateTime": time.time(),
            "Keys": {"file_id": item["file_id"]},
            "NewImage": item,
            "SequenceNumber": "0",
            "SizeBytes": len(json.dumps(item)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": stream_arn,
    }


# ------------------------------------------------------------------ sweep-orphans


def sweep_orphans(env: Environment, older_than: timedelta) -> list[str]:
    """Everything under a file's prefix, uploads/<sub>/<file_id>/, that no file and no
    live upload owns: every object version, delete marker and open multipart upload.

    A function stopped between its S3 put and its item write (the item write
    removes the object when it fails, but a killed process cannot), a purge
    that failed, or a URL used after its upload's record expired or was erased
    leaves such a prefix. Only prefixes with no activity for `older_than`
    count, so an upload in flight is never taken for one. Pending uploads
    whose record expired are closed and purged too, and the quota their
    owners reserved for them is given back.
    """
    s3, dynamodb = env.client("s3"), env.client("dynamodb")
    bucket = env.parameters["upload_bucket_name"]
    cutoff = datetime.now(UTC) - older_than
    done = _expire_pending(env, s3, bucket)
    latest: dict[tuple[str, str], datetime] = {}
    for key, moment in _under_uploads(s3, bucket):
        location = _file_of(key)
        if location is None:
            done.append(f"left s3://{bucket}/{key}: not an upload key (look at it)")
            continue
        latest[location] = max(moment, latest.get(location, moment))
    for (owner, file_id), moment in sorted(latest.items()):
        if moment > cutoff or _owned(dynamodb, env.parameters, owner, file_id):
            continue
        removed = purge_prefix(s3, bucket, file_prefix(owner, file_id))
        if removed.anything:
            done.append(f"swept s3://{bucket}/{file_prefix(owner, file_id)}: {removed.summary()}")
    return done


def _under_uploads(s3: Any, bucket: str) -> Iterator[tuple[str, datetime]]:
    """Every key under uploads/ with the time of each version, marker and multipart upload."""
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=UPLOAD_PREFIX
    ):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield version["Key"], version["LastModified"]
    for page in s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=UPLOAD_PREFIX
    ):
        for upload in page.get("Uploads", []):
            yield upload["Key"], upload["Initiated"]


def _file_of(key: str) -> tuple[str, str] | None:
    """(owner, file_id) of a key under a file's prefix; None for any other key."""
    segments = key.removeprefix(UPLOAD_PREFIX).split("/")
    if len(segments) < 3 or not segments[0]:
        return None
    try:
        file_prefix(segments[0], segments[1])
    except ValueError:
        return None
    return segments[0], segments[1]


def _owned(dynamodb: Any, parameters: dict[str, str], owner: str, file_id: str) -> bool:
    """Whether a file of `owner` (not being deleted) or a live upload owns the prefix.

    A closed upload record owns nothing: its file, if it became one, is the
    files-table item.
    """
    key = {"file_id": {"S": file_id}}
    item = dynamodb.get_item(
        TableName=parameters["files_table_name"], Key=key, ConsistentRead=True
    ).get("Item")
    if item is not None and item.get("owner", {}).get("S") == owner:
        return bool(item.get("status", {}).get("S") != Status.DELETING)
    record = dynamodb.get_item(
        TableName=parameters["pending_uploads_table_name"], Key=key, ConsistentRead=True
    ).get("Item")
    return (
        record is not None
        and record.get("owner", {}).get("S") == owner
        and CLOSED not in record
        and int(record.get(PENDING_TTL_ATTRIBUTE, {}).get("N", "0")) > time.time()
    )


def _expire_pending(env: Environment, s3: Any, bucket: str) -> list[str]:
    """Pending uploads past their expiry: closed, purged, and their owners' expired
    reservations given back (DynamoDB's TTL deletes a record without a word)."""
    dynamodb = env.client("dynamodb")
    table = env.parameters["pending_uploads_table_name"]
    quota = Quota(env.parameters["user_usage_table_name"], max_bytes=1, max_files=1)
    now = time.time()
    done, owners = [], set()
    for record in _scan(env, table):
        expires_at = int(record.get(PENDING_TTL_ATTRIBUTE, {}).get("N", "0"))
        if CLOSED in record or expires_at > now:
            continue
        owner, file_id = record["owner"]["S"], record["file_id"]["S"]
        try:
            dynamodb.delete_item(
                TableName=table,
                Key={"file_id": record["file_id"]},
                ConditionExpression="#ttl = :ttl AND attribute_not_exists(#closed)",
                ExpressionAttributeNames={"#ttl": PENDING_TTL_ATTRIBUTE, "#closed": CLOSED},
                ExpressionAttributeValues={":ttl": {"N": str(expires_at)}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # completed or discarded meanwhile
        removed = purge_prefix(s3, bucket, file_prefix(owner, file_id))
        owners.add(owner)
        done.append(f"expired upload {file_id}: {removed.summary()}")
    for owner in sorted(owners):
        if quota.release_expired(dynamodb, owner, now):
            done.append(f"gave back the expired reservations of {owner}")
    return done


def _scan(env: Environment, table: str) -> Iterator[dict[str, Any]]:
    for page in env.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]


COMMANDS: dict[str, Callable[[Environment, argparse.Namespace], list[str]]] = {
    "redrive": lambda env, _: redrive(env),
    "rerun-failed": lambda env, args: rerun_failed(env, timedelta(hours=args.hours)),
    "reprocess": lambda env, args: reprocess(env, timedelta(minutes=args.minutes)),
    "sweep-orphans": lambda env, args: sweep_orphans(env, timedelta(hours=args.hours)),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.runbook", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("env", choices=ENVIRONMENTS)
    parser.add_argument("--hours", type=float, default=24, help="rerun-failed, sweep-orphans")
    parser.add_argument("--minutes", type=float, default=15, help="reprocess")
    args = parser.parse_args(argv)
    try:
        done = COMMANDS[args.command](environment(args.env), args)
    except Exception as error:  # an operator command: say what failed, in one line
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    print(f"{args.command} in {args.env}: {len(done)} action(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
