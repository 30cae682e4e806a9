"""Stand-in for the EventBridge Pipe, which moto stores but never runs.

Reads the Pipe's own definition (source stream, FilterCriteria, batch size,
target), polls the stream's shard, keeps the records the filter matches
(moto's EventBridge pattern engine) and starts the state machine with a JSON
array of records, as the real Pipe does.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.events.models import EventPattern

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_pipes import EventBridgePipesClient
    from mypy_boto3_stepfunctions import SFNClient

_log = logging.getLogger("devstack.pipe")


@dataclass(frozen=True)
class PipeConfig:
    source_stream_arn: str
    target_state_machine_arn: str
    patterns: tuple[EventPattern, ...]
    batch_size: int

    @classmethod
    def from_pipe(cls, pipe: dict[str, Any]) -> PipeConfig:
        source = pipe.get("SourceParameters", {})
        filters = source.get("FilterCriteria", {}).get("Filters", [])
        return cls(
            source_stream_arn=pipe["Source"],
            target_state_machine_arn=pipe["Target"],
            patterns=tuple(EventPattern.load(f["Pattern"]) for f in filters),
            batch_size=int(source.get("DynamoDBStreamParameters", {}).get("BatchSize", 1)),
        )

    def matches(self, record: dict[str, Any]) -> bool:
        # Pipes keep a record when any filter matches; no filters keeps everything.
        return not self.patterns or any(
            p.matches_event(record)  # type: ignore[arg-type]  # moto's event TypedDict
            for p in self.patterns
        )


def to_pipe_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """The record as a Pipe delivers it: the stream record plus eventSourceARN."""
    out = dict(record)
    out.setdefault("eventSourceARN", stream_arn)
    dynamodb = dict(out.get("dynamodb", {}))
    # The streams API returns datetimes; the Pipe sends epoch seconds.
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = float(created.timestamp())
    out["dynamodb"] = dynamodb
    return out


class PipeRunner:
    """Polls one shard in a thread; remembers only its iterator and last sequence number."""

    def __init__(
        self,
        pipe_name: str,
        pipes: EventBridgePipesClient,
        streams: DynamoDBStreamsClient,
        stepfunctions: SFNClient,
        *,
        poll_interval: float = 0.05,
        idle_interval: float = 0.2,
        after_poll: Any = None,
    ) -> None:
        self.config = PipeConfig.from_pipe(dict(pipes.describe_pipe(Name=pipe_name)))
        self._streams = streams
        self._sfn = stepfunctions
        self._poll_interval = poll_interval
        self._idle_interval = idle_interval
        # Hook run after each poll with the current iterator (the stack prunes moto's copies).
        self._after_poll = after_poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_sequence_number: str | None = None
        self.executions_started = 0
        self.records_filtered_out = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipe-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _shard_iterator(self) -> str:
        stream = self._streams.describe_stream(StreamArn=self.config.source_stream_arn)
        shard_id = stream["StreamDescription"]["Shards"][0]["ShardId"]
        if self.last_sequence_number is None:
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=shard_id,
                ShardIteratorType="TRIM_HORIZON",
            )
        else:
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=self.last_sequence_number,
            )
        return response["ShardIterator"]

    def _run(self) -> None:
        iterator: str | None = None
        while not self._stop.is_set():
            try:
                if iterator is None:
                    iterator = self._shard_iterator()
                response = self._streams.get_records(
                    ShardIterator=iterator, Limit=self.config.batch_size
                )
                records: list[dict[str, Any]] = [dict(r) for r in response.get("Records", [])]
                iterator = response.get("NextShardIterator")
                if self._after_poll is not None and iterator:
                    self._after_poll(iterator)
                if records:
                    self._deliver(records)
                    self.last_sequence_number = str(records[-1]["dynamodb"]["SequenceNumber"])
            except Exception:
                if self._stop.is_set():
                    return
                _log.exception("pipe runner poll failed; retrying")
                iterator = None
                self._stop.wait(1)
                continue
            self._stop.wait(self._poll_interval if records else self._idle_interval)

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        converted = [to_pipe_record(r, self.config.source_stream_arn) for r in records]
        batch = [r for r in converted if self.config.matches(r)]
        self.records_filtered_out += len(records) - len(batch)
        if not batch:
            return
        first = batch[0]["dynamodb"]["SequenceNumber"]
        last = batch[-1]["dynamodb"]["SequenceNumber"]
        # Deterministic name: a redelivered batch maps to the same execution.
        name = f"pipe-{first}-{last}"[:80]
        self._sfn.start_execution(
            stateMachineArn=self.config.target_state_machine_arn,
            name=name,
            input=json.dumps(batch, default=str),
        )
        self.executions_started += 1
