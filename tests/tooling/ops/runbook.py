"""The runbook's commands (README, "Operations"), for one environment at a time.

    python -m ops.runbook redrive ENV            # the Pipe's dead-letter queue, back through
    python -m ops.runbook rerun-failed ENV       # failed executions, with their own input
    python -m ops.runbook reprocess ENV          # items stuck in UPLOADED
    python -m ops.runbook sweep-orphans ENV      # objects no item or pending upload owns

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

from devstack.pipe_runner import to_pipe_record
from ops.environment import ENVIRONMENTS, Environment, environment
from upload_contract import Status

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
    cutoff = (datetime.now(UTC) - older_than).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
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
    """Objects under uploads/ that no file item and no pending upload owns: every version.

    A function stopped between its S3 put and its item write (the item write
    removes the object when it fails, but a killed process cannot) leaves such
    an object. Only objects older than `older_than` count, so an upload in
    flight is never taken for one.
    """
    s3, dynamodb = env.client("s3"), env.client("dynamodb")
    bucket = env.parameters["upload_bucket_name"]
    cutoff = datetime.now(UTC) - older_than
    done = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="uploads/"):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            key = version["Key"]
            parts = key.split("/")
            if len(parts) != 4 or version["LastModified"] > cutoff:
                continue
            if _owned(dynamodb, env.parameters, parts[2]):
                continue
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
            done.append(f"swept s3://{bucket}/{key} version {version['VersionId']}")
    return done


def _owned(dynamodb: Any, parameters: dict[str, str], file_id: str) -> bool:
    return any(
        "Item"
        in dynamodb.get_item(TableName=table, Key={"file_id": {"S": file_id}}, ConsistentRead=True)
        for table in (parameters["files_table_name"], parameters["pending_uploads_table_name"])
    )


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
