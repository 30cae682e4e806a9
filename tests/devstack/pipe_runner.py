"""Stand-in for the EventBridge Pipe, which moto stores but never runs.

Reads the Pipe's own definition (source stream, starting position,
FilterCriteria, batch size, retry and record-age limits, dead-letter queue,
target) and delivers the way the Pipe does for a DynamoDB stream source and a
STANDARD state machine target:

- Shards: the stream is followed as the Pipe follows it. DescribeStream (every
  page) lists its shards when the runner starts, whenever a shard has been
  read to its end (a GetRecords answer without NextShardIterator: the shard is
  closed), and at every poll while all listed shards have been (their children
  may not be listed yet). A shard is read only once its
  parent has been read to its end, or is no longer listed, so an item's
  records are delivered in the order they were written across a shard
  rollover (DynamoDB rolls shards over every few hours). The shards listed at
  the start are read from the Pipe's StartingPosition, those that appear later
  from their first record. Each poll reads one batch of every shard being
  read, one shard after the other. moto's stream has one shard that never
  closes; several shards are tested against a stand-in stream
  (tests/unit/devstack/test_pipe_shards.py).
- Batching and filtering: each poll reads up to BatchSize records of a shard
  (the batching window is 0), applies the FilterCriteria to every record of
  that batch (moto's EventBridge pattern engine) and starts one execution
  whose input is a JSON array of the records that are left. A batch left empty
  starts nothing. The filter never pulls records forward from a later batch:
  INSERT, MODIFY, INSERT with BatchSize 2 start [INSERT], then [INSERT].
- Every StartExecution (FIRE_AND_FORGET) gets a new unique name, like the
  Pipe's: a re-delivered batch starts another execution (processing is
  idempotent), it never collides with an earlier one.
- A StartExecution that fails with an error AWS answered for this caller
  (denied, state machine missing, invalid input, execution limit) is retried
  MaximumRetryAttempts times with exponential backoff, then the batch goes to
  the dead-letter queue. Throttling, 5xx answers and transport failures are
  retried without counting, like the Pipe's internal errors. Before every
  attempt, records older than MaximumRecordAgeInSeconds are taken out of the
  batch and dead-lettered.
- A dead-letter message describes the batch (shard, first and last sequence
  number, size, reason), not its records: as with the Pipe, the records stay
  in the stream. Each one is logged as a WARNING.
- The checkpoint is per shard, the last sequence number delivered of each
  (`checkpoint`), and advances only once a batch is started or dead-lettered.
  A runner given `start_after` (a restart with the emulator's data kept)
  reads each shard after its checkpoint there, and a shard it does not name
  from its first record: delivery is at least once.
- Lag: `lag()` counts the records a restart from the checkpoint would deliver
  now, and the age of the oldest, reading the stream afresh rather than
  through the runner's own iterators, so a runner left reading a shard that
  nothing writes to any more shows as lag, not as an idle pipeline. While the
  oldest is older than LAG_WARNING_SECONDS the runner logs a WARNING every
  `lag_check_interval`; the emulator answers `status()` on its
  /_devstack/pipeline path (tests.devstack.pipeline_status).

Not modelled: OnPartialBatchItemFailure=AUTOMATIC_BISECT (a failing batch is
retried and dead-lettered whole), ParallelizationFactor (one batch of a shard
at a time, and the shards in turn).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.events.models import EventPattern

from upload_contract import to_pipe_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_pipes import EventBridgePipesClient
    from mypy_boto3_stepfunctions import SFNClient

_log = logging.getLogger("tests.devstack.pipe")
# Answers that mean "try again later", not "this call is wrong": never counted.
_THROTTLING = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
# A record waits well under a second for the runner; half a minute means it is stuck.
LAG_WARNING_SECONDS = 30.0


@dataclass(frozen=True)
class PipeConfig:
    pipe_arn: str
    source_stream_arn: str
    target_state_machine_arn: str
    patterns: tuple[EventPattern, ...]
    batch_size: int
    starting_position: str = "TRIM_HORIZON"
    # -1 is the Pipe's "infinite", its default for both.
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    dead_letter_arn: str | None = None
    invocation_type: str = "FIRE_AND_FORGET"

    @classmethod
    def from_pipe(cls, pipe: dict[str, Any]) -> PipeConfig:
        source = pipe.get("SourceParameters", {})
        filters = source.get("FilterCriteria", {}).get("Filters", [])
        stream = source.get("DynamoDBStreamParameters", {})
        target = pipe.get("TargetParameters", {}).get("StepFunctionStateMachineParameters", {})
        invocation_type = str(target.get("InvocationType", "REQUEST_RESPONSE"))
        if invocation_type != "FIRE_AND_FORGET":
            # A STANDARD state machine accepts nothing else; EXPRESS is not run locally.
            raise ValueError(f"pipe runner supports FIRE_AND_FORGET only, not {invocation_type}")
        return cls(
            pipe_arn=str(pipe.get("Arn", "")),
            source_stream_arn=pipe["Source"],
            target_state_machine_arn=pipe["Target"],
            patterns=tuple(EventPattern.load(f["Pattern"]) for f in filters),
            batch_size=int(stream.get("BatchSize", 1)),
            starting_position=str(stream.get("StartingPosition", "TRIM_HORIZON")),
            maximum_retry_attempts=int(stream.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(stream.get("MaximumRecordAgeInSeconds", -1)),
            dead_letter_arn=stream.get("DeadLetterConfig", {}).get("Arn"),
            invocation_type=invocation_type,
        )

    def matches(self, record: dict[str, Any]) -> bool:
        # Pipes keep a record when any filter matches; no filters keeps everything.
        return not self.patterns or any(
            p.matches_event(record)  # type: ignore[arg-type]  # moto's event TypedDict
            for p in self.patterns
        )


@dataclass(frozen=True)
class Lag:
    """Records in the stream the runner has not delivered, and the oldest one's age."""

    records: int
    oldest_age_seconds: float | None


def _counts_as_attempt(error: ClientError) -> bool:
    """Errors of this call (4xx, not throttling) use up MaximumRetryAttempts; others don't."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
    return status < 500 and code not in _THROTTLING


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", type(error).__name__))
    return type(error).__name__


class PipeRunner:
    """Follows the stream's shards in a thread; remembers its iterators and checkpoint."""

    def __init__(
        self,
        pipe_name: str,
        pipes: EventBridgePipesClient,
        streams: DynamoDBStreamsClient,
        stepfunctions: SFNClient,
        sqs: Any = None,
        *,
        poll_interval: float = 0.05,
        idle_interval: float = 0.2,
        retry_delay: float = 0.2,
        max_retry_delay: float = 5.0,
        lag_check_interval: float = 10.0,
        clock: Callable[[], float] = time.time,
        forget_iterator: Callable[[str], None] | None = None,
        start_after: Mapping[str, str] | None = None,
    ) -> None:
        self.config = PipeConfig.from_pipe(dict(pipes.describe_pipe(Name=pipe_name)))
        self._streams = streams
        self._sfn = stepfunctions
        self._sqs = sqs
        self._dlq_url = self._dead_letter_queue_url()
        self._poll_interval = poll_interval
        self._idle_interval = idle_interval
        # Exponential backoff between StartExecution attempts: retry_delay * 2**n, capped.
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._lag_check_interval = lag_check_interval
        self._clock = clock
        # Told each shard iterator the runner will not use again (the stack drops moto's copy).
        self._forget_iterator = forget_iterator
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The checkpoint and the shards read to their end, also read by lag() in other threads.
        self._lock = threading.Lock()
        # The checkpoint: shard id -> the last sequence number delivered of it.
        self.checkpoint: dict[str, str] = dict(start_after or {})
        self._ended: set[str] = set()
        self._iterators: dict[str, str] = {}
        self._parents = self._list_shards()
        self._listing_due = False
        # Read from the Pipe's StartingPosition: the shards there when it starts, unless resuming.
        self._at_starting_position = frozenset() if start_after else frozenset(self._parents)
        self._lagging = False
        self.executions_started = 0
        self.start_failures = 0
        self.records_filtered_out = 0
        self.batches_dead_lettered = 0
        self.records_dead_lettered = 0

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipe-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        next_lag_check = time.monotonic() + self._lag_check_interval
        while not self._stop.is_set():
            try:
                read = self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                # Reading the stream or the dead-letter queue failed: start over
                # from the last checkpoint, like a Pipe's internal error.
                _log.exception("pipe runner poll failed; retrying from the last checkpoint")
                self._iterators.clear()
                self._listing_due = True
                self._stop.wait(1)
                continue
            if time.monotonic() >= next_lag_check:
                self._check_lag()
                next_lag_check = time.monotonic() + self._lag_check_interval
            self._stop.wait(self._poll_interval if read else self._idle_interval)

    # ------------------------------------------------------------ one poll
    def poll_once(self) -> int:
        """Read one batch of every shard that may be read now, deliver each, then advance
        that shard's checkpoint; returns the records read. A shard read to its end hands
        over to its children within the same poll."""
        read = 0
        polled: set[str] = set()
        while not self._stop.is_set():
            if self._listing_due:
                self._parents = self._list_shards()
                self._listing_due = False
            ready = [s for s in self._readable() if s not in polled]
            if not ready:
                break
            for shard_id in ready:
                polled.add(shard_id)
                read += self._poll_shard(shard_id)
        if not self._readable():
            # Every listed shard is read to its end: the next ones may not be listed yet.
            self._listing_due = True
        return read

    def _poll_shard(self, shard_id: str) -> int:
        iterator = self._iterators.pop(shard_id, None) or self._iterator_at(
            shard_id, self.checkpoint
        )
        response = self._streams.get_records(ShardIterator=iterator, Limit=self.config.batch_size)
        self._forget(iterator)
        records: list[dict[str, Any]] = [dict(r) for r in response.get("Records", [])]
        next_iterator = response.get("NextShardIterator")
        if records and not self._deliver(shard_id, records):
            # Stopped while retrying: the batch stays unconsumed.
            self._forget(next_iterator)
            return len(records)
        with self._lock:
            if records:
                self.checkpoint[shard_id] = str(records[-1]["dynamodb"]["SequenceNumber"])
            if not next_iterator:
                self._ended.add(shard_id)
        if next_iterator:
            self._iterators[shard_id] = next_iterator
        else:
            # Closed and read to its end: its children are listed by now.
            self._listing_due = True
        return len(records)

    def _readable(self) -> list[str]:
        """Listed shards not read to their end whose parent has been (or is no longer listed)."""
        return [
            shard_id
            for shard_id, parent in self._parents.items()
            if shard_id not in self._ended
            and (parent is None or parent in self._ended or parent not in self._parents)
        ]

    def _list_shards(self) -> dict[str, str | None]:
        """Every shard of the stream (DescribeStream, all pages): shard id -> parent id."""
        shards: dict[str, str | None] = {}
        request: dict[str, Any] = {"StreamArn": self.config.source_stream_arn}
        while True:
            described = self._streams.describe_stream(**request)["StreamDescription"]
            for shard in described.get("Shards", []):
                shards[shard["ShardId"]] = shard.get("ParentShardId")
            last = described.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _iterator_at(self, shard_id: str, checkpoint: Mapping[str, str]) -> str:
        """A new iterator where the runner reads the shard from: after its checkpoint, else
        at the Pipe's StartingPosition for a shard there at the start, else at its start."""
        if shard_id in checkpoint:
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=checkpoint[shard_id],
            )
        else:
            at_start = shard_id in self._at_starting_position
            position = self.config.starting_position if at_start else "TRIM_HORIZON"
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=shard_id,
                ShardIteratorType=position,  # type: ignore[arg-type]
            )
        return response["ShardIterator"]

    def _forget(self, iterator: str | None) -> None:
        if iterator and self._forget_iterator is not None:
            self._forget_iterator(iterator)

    # ------------------------------------------------------------ lag
    def lag(self) -> Lag:
        """The records a restart from the checkpoint would deliver now, and the oldest's age.

        Read afresh (DescribeStream, a new iterator per shard), not through the runner's
        own iterators, and safe to call from any thread.
        """
        with self._lock:
            checkpoint, ended = dict(self.checkpoint), set(self._ended)
        count, oldest = 0, None
        for shard_id in self._list_shards():
            iterator = None if shard_id in ended else self._iterator_at(shard_id, checkpoint)
            while iterator:
                response = self._streams.get_records(ShardIterator=iterator)
                self._forget(iterator)
                records = response.get("Records", [])
                iterator = response.get("NextShardIterator")
                if not records:
                    self._forget(iterator)
                    break
                count += len(records)
                created = _epoch(records[0]["dynamodb"].get("ApproximateCreationDateTime"))
                if created is not None and (oldest is None or created < oldest):
                    oldest = created
        age = None if oldest is None else max(0.0, self._clock() - oldest)
        return Lag(records=count, oldest_age_seconds=age)

    def status(self) -> dict[str, Any]:
        """The lag and the delivery counts, as the emulator's /_devstack/pipeline answers."""
        lag = self.lag()
        with self._lock:
            checkpoint = dict(self.checkpoint)
        return {
            "undelivered_records": lag.records,
            "oldest_undelivered_age_seconds": lag.oldest_age_seconds,
            "executions_started": self.executions_started,
            "start_failures": self.start_failures,
            "records_filtered_out": self.records_filtered_out,
            "records_dead_lettered": self.records_dead_lettered,
            "checkpoint": checkpoint,
        }

    def _check_lag(self) -> None:
        try:
            lag = self.lag()
        except Exception:  # the stream unreadable now: the next poll says so, or recovers
            _log.exception("measuring the pipe runner's lag failed")
            return
        lagging = (
            lag.oldest_age_seconds is not None and lag.oldest_age_seconds > LAG_WARNING_SECONDS
        )
        if lagging:
            _log.warning(
                "the pipe runner is %d record(s) behind on %s, the oldest %.0f s old: files "
                "written since are not processed until it catches up (GET /_devstack/pipeline "
                "on the emulator's port)",
                lag.records,
                self.config.source_stream_arn,
                lag.oldest_age_seconds,
            )
        elif self._lagging:
            _log.info("the pipe runner caught up with %s", self.config.source_stream_arn)
        self._lagging = lagging

    # ------------------------------------------------------------ delivery
    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> bool:
        """Start the filtered batch, retrying as configured; False if stopped meanwhile."""
        converted = [to_pipe_record(r, self.config.source_stream_arn) for r in records]
        batch = [r for r in converted if self.config.matches(r)]
        self.records_filtered_out += len(records) - len(batch)
        counted = 0  # attempts that use up MaximumRetryAttempts
        tries = 0
        while batch:
            batch = self._without_expired(shard_id, batch, tries)
            if not batch:
                return True
            tries += 1
            try:
                self._start_execution(batch)
            except ClientError as error:
                self.start_failures += 1
                if _counts_as_attempt(error):
                    counted += 1
                retries = self.config.maximum_retry_attempts
                if retries >= 0 and counted > retries:
                    self._dead_letter(shard_id, batch, RETRY_ATTEMPTS_EXHAUSTED, error, tries)
                    return True
                failure: Exception = error
            except BotoCoreError as error:
                # No answer at all (connection refused, timeout): retried without counting.
                self.start_failures += 1
                if self._stop.is_set():
                    return False
                failure = error
            else:
                return True
            delay = min(self._retry_delay * 2 ** (tries - 1), self._max_retry_delay)
            self._log_retry(failure, counted, delay)
            if self._stop.wait(delay):
                return False
        return True

    def _start_execution(self, batch: list[dict[str, Any]]) -> None:
        self._sfn.start_execution(
            stateMachineArn=self.config.target_state_machine_arn,
            # A new name per StartExecution, as the Pipe does: never a collision.
            name=str(uuid.uuid4()),
            input=json.dumps(batch, default=str),
        )
        self.executions_started += 1

    def _log_retry(self, error: Exception, counted: int, delay: float) -> None:
        retries = self.config.maximum_retry_attempts
        budget = "unlimited" if retries < 0 else str(retries)
        _log.warning(
            "StartExecution of %s failed (%s); retrying in %.1f s (%d of %s retries used%s)",
            self.config.target_state_machine_arn,
            _error_code(error),
            delay,
            counted,
            budget,
            "" if isinstance(error, ClientError) and _counts_as_attempt(error) else "; not counted",
        )

    def _without_expired(
        self, shard_id: str, batch: list[dict[str, Any]], tries: int
    ) -> list[dict[str, Any]]:
        limit = self.config.maximum_record_age_seconds
        if limit < 0:
            return batch
        now = self._clock()
        expired = [r for r in batch if now - _created(r, now) > limit]
        if expired:
            self._dead_letter(shard_id, expired, RECORD_AGE_EXCEEDED, None, tries)
        return [r for r in batch if now - _created(r, now) <= limit]

    # ------------------------------------------------------------ dead letters
    def _dead_letter_queue_url(self) -> str | None:
        arn = self.config.dead_letter_arn
        if arn is None:
            return None
        if self._sqs is None:
            raise ValueError(
                f"the pipe has a dead-letter queue ({arn}) but no SQS client was given"
            )
        # arn:aws:sqs:<region>:<account>:<name>
        _, _, _, _, account, name = arn.split(":", 5)
        return str(
            self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        )

    def _dead_letter(
        self,
        shard_id: str,
        batch: list[dict[str, Any]],
        condition: str,
        error: Exception | None,
        invoke_count: int,
    ) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "pipeArn": self.config.pipe_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": {
                "errorCode": _error_code(error) if error is not None else None,
                "errorMessage": str(error) if error is not None else None,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first.get("SequenceNumber"),
                "endSequenceNumber": last.get("SequenceNumber"),
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.config.source_stream_arn,
            },
        }
        file_ids = [r["dynamodb"].get("Keys", {}).get("file_id", {}).get("S") for r in batch]
        if self._dlq_url is None:
            _log.error(
                "DROPPED %d record(s) (%s; no dead-letter queue configured): sequence numbers "
                "%s..%s, file_ids %s",
                len(batch),
                condition,
                first.get("SequenceNumber"),
                last.get("SequenceNumber"),
                file_ids,
            )
        else:
            self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=json.dumps(message))
            _log.warning(
                "DEAD-LETTERED %d record(s) to %s (%s after %d StartExecution attempt(s)%s): "
                "sequence numbers %s..%s, file_ids %s",
                len(batch),
                self.config.dead_letter_arn,
                condition,
                invoke_count,
                f", last error {_error_code(error)}" if error is not None else "",
                first.get("SequenceNumber"),
                last.get("SequenceNumber"),
                file_ids,
            )
        self.batches_dead_lettered += 1
        self.records_dead_lettered += len(batch)


def _created(record: dict[str, Any], default: float) -> float:
    """When the record entered the stream (epoch seconds); `default` when unknown."""
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    return default if created is None else float(created)


def _epoch(created: datetime | float | None) -> float | None:
    """A stream record's ApproximateCreationDateTime as boto3 reads it, in epoch seconds."""
    if isinstance(created, datetime):
        return created.timestamp()
    return None if created is None else float(created)


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat().replace("+00:00", "Z")
