"""The local Pipe stand-in's loop against moto (decorator mode): batching with the
filter, unique execution names, retries, record age and the dead-letter queue.

The runner models the Pipe as documented in tests.devstack.pipe_runner: each poll reads
up to BatchSize records, the filter runs on each record of that batch, and the
records left start one execution; the filter never pulls records forward from
the next batch.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.devstack import definitions as d
from tests.devstack.pipe_runner import (
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    PipeRunner,
)
from tests.support import pipeline

ROLE = "arn:aws:iam::123456789012:role/pipe"
TABLE = "files"
MISSING_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:not-there"


@dataclass
class Aws:
    dynamodb: Any
    streams: Any
    sfn: Any
    pipes: Any
    sqs: Any
    stream_arn: str
    machine_arn: str
    dlq_url: str
    dlq_arn: str

    def pipe(self, name: str = "p", *, target: str | None = None, **stream: Any) -> dict[str, Any]:
        """A Pipe shaped like the local stack's, with `stream` overriding its parameters."""
        parameters = pipeline.pipe_stream_parameters(self.dlq_arn) | stream
        self.pipes.create_pipe(
            Name=name,
            RoleArn=ROLE,
            Source=self.stream_arn,
            SourceParameters={
                "FilterCriteria": {
                    "Filters": [{"Pattern": json.dumps(pipeline.pipe_filter_pattern())}]
                },
                "DynamoDBStreamParameters": parameters,
            },
            Target=target or self.machine_arn,
            TargetParameters=pipeline.pipe_target_parameters(),
        )
        return dict(self.pipes.describe_pipe(Name=name))

    def runner(self, name: str = "p", **options: Any) -> PipeRunner:
        options.setdefault("retry_delay", 0)
        return PipeRunner(name, self.pipes, self.streams, self.sfn, self.sqs, **options)

    def insert(self, file_id: str) -> None:
        self.dynamodb.put_item(
            TableName=TABLE,
            Item={"file_id": {"S": file_id}, "owner": {"S": "o"}, "created_at": {"S": "t"}},
        )

    def modify(self, file_id: str) -> None:
        self.dynamodb.update_item(
            TableName=TABLE,
            Key={"file_id": {"S": file_id}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "PROCESSED"}},
        )

    def executions(self, machine_arn: str | None = None) -> list[dict[str, Any]]:
        """Started executions, oldest first, with their input decoded."""
        listed = self.sfn.list_executions(stateMachineArn=machine_arn or self.machine_arn)
        out = []
        for summary in sorted(listed["executions"], key=lambda e: e["startDate"]):
            described = self.sfn.describe_execution(executionArn=summary["executionArn"])
            out.append({"name": summary["name"], "input": json.loads(described["input"])})
        return out

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=d.REGION)
        table = dynamodb.create_table(TableName=TABLE, **pipeline.table_definition())
        sfn = boto3.client("stepfunctions", region_name=d.REGION)
        machine_arn = sfn.create_state_machine(
            name="processing",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=ROLE,
        )["stateMachineArn"]
        sqs = boto3.client("sqs", region_name=d.REGION)
        dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        yield Aws(
            dynamodb=dynamodb,
            streams=boto3.client("dynamodbstreams", region_name=d.REGION),
            sfn=sfn,
            pipes=boto3.client("pipes", region_name=d.REGION),
            sqs=sqs,
            stream_arn=table["TableDescription"]["LatestStreamArn"],
            machine_arn=machine_arn,
            dlq_url=dlq_url,
            dlq_arn=dlq_arn,
        )


def drain(runner: PipeRunner) -> None:
    while runner.poll_once():
        pass


def event_names(execution: dict[str, Any]) -> list[str]:
    return [r["eventName"] for r in execution["input"]]


def file_ids(execution: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["file_id"]["S"] for r in execution["input"]]


def test_the_runner_reads_its_settings_from_the_pipe(aws: Aws) -> None:
    aws.pipe()
    config = aws.runner().config
    assert config.batch_size == pipeline.PIPE_BATCH_SIZE
    assert config.starting_position == pipeline.PIPE_STARTING_POSITION
    assert config.maximum_retry_attempts == pipeline.PIPE_MAXIMUM_RETRY_ATTEMPTS
    assert config.maximum_record_age_seconds == pipeline.PIPE_MAXIMUM_RECORD_AGE_SECONDS
    assert config.dead_letter_arn == aws.dlq_arn
    assert config.invocation_type == "FIRE_AND_FORGET"


def test_the_filter_runs_on_each_polled_batch(aws: Aws) -> None:
    """INSERT, MODIFY, INSERT with BatchSize 2: [INSERT, MODIFY] -> [INSERT], then [INSERT]."""
    aws.pipe(BatchSize=2)
    aws.insert("a")
    aws.modify("a")
    aws.insert("b")
    runner = aws.runner()

    assert runner.poll_once() == 2
    assert runner.poll_once() == 1
    assert runner.poll_once() == 0

    first, second = aws.executions()
    assert (event_names(first), file_ids(first)) == (["INSERT"], ["a"])
    assert (event_names(second), file_ids(second)) == (["INSERT"], ["b"])
    assert runner.records_filtered_out == 1
    # Pipe-shaped records: the stream record plus the source ARN, epoch seconds.
    record = first["input"][0]
    assert record["eventSourceARN"] == aws.stream_arn
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)


def test_one_batch_becomes_one_json_array_execution(aws: Aws) -> None:
    aws.pipe(BatchSize=10)
    aws.insert("a")
    aws.modify("a")
    aws.insert("b")
    runner = aws.runner()

    drain(runner)

    (execution,) = aws.executions()
    assert event_names(execution) == ["INSERT", "INSERT"]
    assert file_ids(execution) == ["a", "b"]


def test_a_batch_of_only_filtered_records_starts_nothing_and_is_consumed(aws: Aws) -> None:
    aws.pipe(BatchSize=1)
    aws.insert("a")
    aws.modify("a")
    runner = aws.runner()

    drain(runner)

    assert len(aws.executions()) == 1
    assert runner.checkpoint
    assert runner.poll_once() == 0


def test_a_runner_started_after_a_checkpoint_delivers_only_later_records(aws: Aws) -> None:
    """A restart with the emulator's data kept: what was delivered is not delivered again."""
    aws.pipe(BatchSize=1)
    aws.insert("a")
    first = aws.runner()
    drain(first)
    aws.insert("b")

    drain(aws.runner(start_after=first.checkpoint))

    assert [file_ids(e) for e in aws.executions()] == [["a"], ["b"]]


def test_every_start_has_a_unique_name_so_a_redelivery_never_collides(aws: Aws) -> None:
    aws.pipe(BatchSize=10)
    aws.insert("a")
    first = aws.runner()
    drain(first)
    # A second runner from TRIM_HORIZON re-reads the same batch: a redelivery.
    second = aws.runner()
    drain(second)

    executions = aws.executions()
    assert len(executions) == 2
    assert executions[0]["input"] == executions[1]["input"]
    assert len({e["name"] for e in executions}) == 2
    assert all(len(e["name"]) <= 80 for e in executions)
    assert first.start_failures == second.start_failures == 0


def test_a_failing_start_is_retried_then_dead_lettered(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    aws.pipe(target=MISSING_MACHINE, BatchSize=10)
    aws.insert("a")
    aws.insert("b")
    runner = aws.runner()

    with caplog.at_level(logging.WARNING, logger="tests.devstack.pipe"):
        drain(runner)

    # The first attempt plus MaximumRetryAttempts retries, then the DLQ.
    assert runner.start_failures == pipeline.PIPE_MAXIMUM_RETRY_ATTEMPTS + 1
    assert runner.executions_started == 0
    (message,) = aws.dead_letters()
    assert message["requestContext"]["condition"] == RETRY_ATTEMPTS_EXHAUSTED
    assert message["requestContext"]["approximateInvokeCount"] == 4
    assert message["responseContext"]["errorCode"] == "StateMachineDoesNotExist"
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2
    assert info["streamArn"] == aws.stream_arn
    assert info["startSequenceNumber"] <= info["endSequenceNumber"]
    # The batch is consumed: the stream moves on instead of stalling.
    assert runner.checkpoint == {info["shardId"]: info["endSequenceNumber"]}
    assert runner.poll_once() == 0
    dead = [r.getMessage() for r in caplog.records if "DEAD-LETTERED" in r.getMessage()]
    assert len(dead) == 1
    assert "['a', 'b']" in dead[0]
    assert RETRY_ATTEMPTS_EXHAUSTED in dead[0]


class FlakySfn:
    """StartExecution fails `failures` times with `code`, then reaches moto."""

    def __init__(self, real: Any, failures: int, code: str, status: int = 400) -> None:
        self._real = real
        self.failures = failures
        self.code = code
        self.status = status
        self.calls = 0

    def start_execution(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            response: Any = {
                "Error": {"Code": self.code, "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": self.status},
            }
            raise ClientError(response, "StartExecution")
        return self._real.start_execution(**kwargs)


def test_a_start_that_fails_within_the_budget_is_delivered(aws: Aws) -> None:
    aws.pipe()
    aws.insert("a")
    flaky = FlakySfn(
        aws.sfn, failures=pipeline.PIPE_MAXIMUM_RETRY_ATTEMPTS, code="AccessDeniedException"
    )
    runner = PipeRunner("p", aws.pipes, aws.streams, flaky, aws.sqs, retry_delay=0)  # type: ignore[arg-type]

    drain(runner)

    assert flaky.calls == pipeline.PIPE_MAXIMUM_RETRY_ATTEMPTS + 1
    assert [file_ids(e) for e in aws.executions()] == [["a"]]
    assert aws.dead_letters() == []


def test_throttling_does_not_use_up_the_retry_budget(aws: Aws) -> None:
    aws.pipe()
    aws.insert("a")
    flaky = FlakySfn(aws.sfn, failures=10, code="ThrottlingException")
    runner = PipeRunner("p", aws.pipes, aws.streams, flaky, aws.sqs, retry_delay=0)  # type: ignore[arg-type]

    drain(runner)

    assert flaky.calls == 11
    assert len(aws.executions()) == 1
    assert aws.dead_letters() == []


def test_records_older_than_the_maximum_age_are_dead_lettered_not_started(aws: Aws) -> None:
    aws.pipe(BatchSize=10)
    aws.insert("old")
    time.sleep(0.01)
    aws.insert("young")
    records = aws.streams.get_records(
        ShardIterator=aws.streams.get_shard_iterator(
            StreamArn=aws.stream_arn,
            ShardId=aws.streams.describe_stream(StreamArn=aws.stream_arn)["StreamDescription"][
                "Shards"
            ][0]["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
    )["Records"]
    young_created = records[1]["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    old_created = records[0]["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    assert old_created < young_created
    # "Now" is exactly the maximum age after the young record: only the old one is over it.
    now = young_created + pipeline.PIPE_MAXIMUM_RECORD_AGE_SECONDS
    runner = aws.runner(clock=lambda: now)

    drain(runner)

    assert [file_ids(e) for e in aws.executions()] == [["young"]]
    (message,) = aws.dead_letters()
    assert message["requestContext"]["condition"] == RECORD_AGE_EXCEEDED
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == str(
        records[0]["dynamodb"]["SequenceNumber"]
    )


def test_records_that_age_out_while_retrying_are_dead_lettered(aws: Aws) -> None:
    aws.pipe(target=MISSING_MACHINE, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60)
    aws.insert("a")
    now = [time.time()]

    def clock() -> float:
        now[0] += 25  # each attempt is 25 s later: the third is past 60 s
        return now[0]

    runner = aws.runner(clock=clock)

    drain(runner)

    assert runner.start_failures == 2
    (message,) = aws.dead_letters()
    assert message["requestContext"]["condition"] == RECORD_AGE_EXCEEDED


def test_the_thread_delivers_and_stops_promptly_while_retrying(aws: Aws) -> None:
    aws.pipe(target=MISSING_MACHINE, MaximumRetryAttempts=-1)
    aws.pipe("ok", BatchSize=10)
    aws.insert("a")
    good = aws.runner("ok", idle_interval=0.01)
    stuck = aws.runner(retry_delay=0.05)
    good.start()
    stuck.start()
    try:
        deadline = time.monotonic() + 5
        while good.executions_started == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert good.executions_started == 1
        while stuck.start_failures < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        started = time.monotonic()
        stuck.stop()
        good.stop()
    assert time.monotonic() - started < 1
    # Stopped mid-retry: nothing dead-lettered, the batch is left for the next start.
    assert stuck.checkpoint == {}
    assert aws.dead_letters() == []


def test_a_pipe_without_a_dead_letter_queue_drops_with_an_error_log(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    parameters = pipeline.pipe_stream_parameters(aws.dlq_arn)
    del parameters["DeadLetterConfig"]
    aws.pipes.create_pipe(
        Name="no-dlq",
        RoleArn=ROLE,
        Source=aws.stream_arn,
        SourceParameters={"DynamoDBStreamParameters": parameters | {"MaximumRetryAttempts": 0}},
        Target=MISSING_MACHINE,
        TargetParameters=pipeline.pipe_target_parameters(),
    )
    aws.insert("a")
    runner = PipeRunner("no-dlq", aws.pipes, aws.streams, aws.sfn, retry_delay=0)

    with caplog.at_level(logging.ERROR, logger="tests.devstack.pipe"):
        drain(runner)

    assert runner.records_dead_lettered == 1
    assert any("DROPPED 1 record(s)" in r.getMessage() for r in caplog.records)


def test_only_fire_and_forget_is_supported(aws: Aws) -> None:
    aws.pipes.create_pipe(
        Name="sync",
        RoleArn=ROLE,
        Source=aws.stream_arn,
        Target=aws.machine_arn,
        TargetParameters={
            "StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}
        },
    )
    with pytest.raises(ValueError, match="FIRE_AND_FORGET"):
        aws.runner("sync")
