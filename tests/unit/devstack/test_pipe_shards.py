"""The Pipe runner follows a stream of several shards as the Pipe does, and measures its lag.

moto's stream has one shard that never closes, so these tests give the runner a
stand-in stream: shards with parents, closed ones, one shard per DescribeStream
page, and iterators that keep reading the records of the shard they were made
for, as moto's do.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.devstack.pipe_runner import LAG_WARNING_SECONDS, Lag, PipeRunner
from tests.support import pipeline

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/files/stream/2026-12-01T00:00:00.000"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:processing"
NOW = 1_800_000_000.0


@dataclass
class Shard:
    parent: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class ShardedStream:
    """DescribeStream, GetShardIterator and GetRecords of a stream whose shards the test shapes."""

    def __init__(self) -> None:
        self.shards: dict[str, Shard] = {}
        self._sequence = itertools.count(100)
        self._iterators: dict[str, tuple[list[dict[str, Any]], int, str]] = {}
        self._iterator_ids = itertools.count()
        self.now = NOW

    # ------------------------------------------------------------ shaping
    def shard(self, shard_id: str, *file_ids: str, parent: str | None = None) -> None:
        self.shards[shard_id] = Shard(parent)
        self.write(shard_id, *file_ids)

    def write(self, shard_id: str, *file_ids: str) -> None:
        for file_id in file_ids:
            self.shards[shard_id].records.append(
                {
                    "eventName": "INSERT",
                    "dynamodb": {
                        "Keys": {"file_id": {"S": file_id}},
                        "SequenceNumber": str(next(self._sequence)),
                        "ApproximateCreationDateTime": datetime.fromtimestamp(self.now, UTC),
                    },
                }
            )

    def replace(self, shard_id: str) -> None:
        """What moto did on a failed transaction: a copy of the shard takes its place."""
        self.shards[shard_id].records = list(self.shards[shard_id].records)

    # ------------------------------------------------------------ the API
    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str = "") -> dict[str, Any]:  # noqa: N803
        ids = list(self.shards)
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = ids[start : start + 1]  # one shard a page: every listing pages
        shards = [
            {"ShardId": s} | ({"ParentShardId": p} if (p := self.shards[s].parent) else {})
            for s in page
        ]
        more = {"LastEvaluatedShardId": page[-1]} if start + 1 < len(ids) else {}
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": shards, **more}}

    def get_shard_iterator(
        self,
        StreamArn: str,  # noqa: N803
        ShardId: str,  # noqa: N803
        ShardIteratorType: str,  # noqa: N803
        SequenceNumber: str = "",  # noqa: N803
    ) -> dict[str, Any]:
        shard = self.shards[ShardId]
        sequences = [r["dynamodb"]["SequenceNumber"] for r in shard.records]
        position = {
            "TRIM_HORIZON": 0,
            "LATEST": len(sequences),
            "AFTER_SEQUENCE_NUMBER": sequences.index(SequenceNumber) + 1 if SequenceNumber else 0,
        }[ShardIteratorType]
        return {"ShardIterator": self._iterator(shard.records, position, ShardId)}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:  # noqa: N803
        records, position, shard_id = self._iterators.pop(ShardIterator)
        batch = records[position : position + Limit]
        end = position + len(batch)
        if self.shards[shard_id].closed and end == len(records):
            return {"Records": batch}  # no NextShardIterator: the closed shard's end
        return {"Records": batch, "NextShardIterator": self._iterator(records, end, shard_id)}

    def _iterator(self, records: list[dict[str, Any]], position: int, shard_id: str) -> str:
        # Bound to the shard's record list as it is now, as moto's iterators are.
        iterator = f"{shard_id}/{next(self._iterator_ids)}"
        self._iterators[iterator] = (records, position, shard_id)
        return iterator


class Pipes:
    def __init__(self, batch_size: int, starting_position: str) -> None:
        parameters = pipeline.pipe_stream_parameters("no dead-letter queue")
        del parameters["DeadLetterConfig"]
        parameters |= {"BatchSize": batch_size, "StartingPosition": starting_position}
        self._pipe = {
            "Arn": "arn:aws:pipes:us-east-1:123456789012:pipe/p",
            "Source": STREAM_ARN,
            "Target": MACHINE_ARN,
            "SourceParameters": {
                "FilterCriteria": {
                    "Filters": [{"Pattern": json.dumps(pipeline.pipe_filter_pattern())}]
                },
                "DynamoDBStreamParameters": parameters,
            },
            "TargetParameters": pipeline.pipe_target_parameters(),
        }

    def describe_pipe(self, Name: str) -> dict[str, Any]:  # noqa: N803
        return self._pipe


class Executions:
    """Step Functions as the runner calls it: the file ids of each batch started, in order."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def start_execution(self, **request: Any) -> dict[str, Any]:
        records = json.loads(request["input"])
        self.batches.append([r["dynamodb"]["Keys"]["file_id"]["S"] for r in records])
        return {}


@pytest.fixture
def stream() -> ShardedStream:
    return ShardedStream()


@pytest.fixture
def executions() -> Executions:
    return Executions()


def runner(
    stream: ShardedStream,
    executions: Executions,
    *,
    batch_size: int = 10,
    starting_position: str = "TRIM_HORIZON",
    **options: Any,
) -> PipeRunner:
    return PipeRunner(
        "p",
        Pipes(batch_size, starting_position),  # type: ignore[arg-type]
        stream,  # type: ignore[arg-type]
        executions,  # type: ignore[arg-type]
        clock=lambda: stream.now,
        **options,
    )


def drain(pipe_runner: PipeRunner) -> None:
    while pipe_runner.poll_once():
        pass


def delivered(executions: Executions) -> list[str]:
    return [file_id for batch in executions.batches for file_id in batch]


def test_a_closed_shard_is_read_to_its_end_before_its_child(
    stream: ShardedStream, executions: Executions
) -> None:
    # The child is listed first: the order comes from ParentShardId, not from the listing.
    stream.shard("shard-2", "d", "e", parent="shard-1")
    stream.shard("shard-1", "a", "b", "c")
    stream.shards["shard-1"].closed = True

    drain(runner(stream, executions, batch_size=2))

    assert executions.batches == [["a", "b"], ["c"], ["d", "e"]]


def test_a_child_listed_once_its_parent_closed_is_read_from_its_first_record(
    stream: ShardedStream, executions: Executions
) -> None:
    stream.shard("shard-1", "a")
    pipe_runner = runner(stream, executions)
    drain(pipe_runner)
    # The shard rolls over: a last record, closed, then a child with records already.
    stream.write("shard-1", "b")
    stream.shards["shard-1"].closed = True
    stream.shard("shard-2", "c", "d", parent="shard-1")

    drain(pipe_runner)
    stream.write("shard-2", "e")
    drain(pipe_runner)

    assert delivered(executions) == ["a", "b", "c", "d", "e"]


def test_a_shard_whose_parent_is_no_longer_listed_is_read(
    stream: ShardedStream, executions: Executions
) -> None:
    stream.shard("shard-2", "a", parent="shard-1-trimmed")

    drain(runner(stream, executions))

    assert delivered(executions) == ["a"]


def test_from_latest_the_first_shards_start_at_their_tip_and_a_new_child_at_its_start(
    stream: ShardedStream, executions: Executions
) -> None:
    stream.shard("shard-1", "before")
    pipe_runner = runner(stream, executions, starting_position="LATEST")
    assert pipe_runner.poll_once() == 0
    stream.write("shard-1", "a")
    stream.shards["shard-1"].closed = True
    stream.shard("shard-2", "b", parent="shard-1")

    drain(pipe_runner)

    assert delivered(executions) == ["a", "b"]


def test_a_restart_resumes_each_shard_after_its_own_checkpoint(
    stream: ShardedStream, executions: Executions
) -> None:
    stream.shard("shard-1", "a")
    stream.shards["shard-1"].closed = True
    stream.shard("shard-2", "b", parent="shard-1")
    stream.shard("shard-3", "c", parent="shard-1")
    first = runner(stream, executions)
    drain(first)
    stream.write("shard-2", "b2")
    stream.write("shard-3", "c2")

    second = runner(stream, executions, start_after=first.checkpoint)
    drain(second)

    assert set(first.checkpoint) == {"shard-1", "shard-2", "shard-3"}
    assert delivered(executions)[:3] == ["a", "b", "c"]
    assert sorted(delivered(executions)[3:]) == ["b2", "c2"]


def test_the_lag_is_what_a_restart_would_deliver_and_the_oldest_record_s_age(
    stream: ShardedStream, executions: Executions
) -> None:
    stream.shard("shard-1", "a")
    stream.now += 5
    stream.write("shard-1", "b")
    pipe_runner = runner(stream, executions)
    stream.now += 10

    assert pipe_runner.lag() == Lag(records=2, oldest_age_seconds=15.0)
    drain(pipe_runner)
    assert pipe_runner.lag() == Lag(records=0, oldest_age_seconds=None)
    stream.write("shard-1", "c")
    assert pipe_runner.lag() == Lag(records=1, oldest_age_seconds=0.0)
    assert pipe_runner.status() == {
        "undelivered_records": 1,
        "oldest_undelivered_age_seconds": 0.0,
        "executions_started": 1,
        "start_failures": 0,
        "records_filtered_out": 0,
        "records_dead_lettered": 0,
        "checkpoint": {"shard-1": "101"},
    }


def test_a_runner_left_reading_a_replaced_shard_shows_as_lag_and_a_warning(
    stream: ShardedStream, executions: Executions, caplog: pytest.LogCaptureFixture
) -> None:
    """The stall moto's rollback caused: the runner's iterator reads a shard nothing writes to."""
    stream.shard("shard-1", "a")
    pipe_runner = runner(stream, executions, idle_interval=0.01, lag_check_interval=0.01)
    drain(pipe_runner)
    stream.replace("shard-1")
    stream.write("shard-1", "b")
    stream.now += LAG_WARNING_SECONDS + 1

    with caplog.at_level(logging.WARNING, logger="tests.devstack.pipe"):
        pipe_runner.start()
        try:
            deadline = time.monotonic() + 5
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            pipe_runner.stop()

    assert delivered(executions) == ["a"]  # the stale iterator never sees "b"
    assert pipe_runner.lag().records == 1
    (warning,) = {r.getMessage() for r in caplog.records}
    assert "1 record(s) behind" in warning
    assert "/_devstack/pipeline" in warning
