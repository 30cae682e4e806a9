"""Stand-in for the EventBridge Pipe, which moto stores but never runs.

Reads the Pipe's own definition (source stream, starting position,
FilterCriteria, batch size, retry and record-age limits, dead-letter queue,
target) and delivers the way the Pipe does for a DynamoDB stream source and a
STANDARD state machine target:

- Batching and filtering: each poll reads up to BatchSize records of the shard
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
- The shard position advances only once a batch is started or dead-lettered.

Not modelled: OnPartialBatchItemFailure=AUTOMATIC_BISECT (a failing batch is
retried and dead-lettered whole), several shards, parallelization.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
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
    """Polls one shard in a thread; remembers only its iterator and last sequence number."""

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
        clock: Callable[[], float] = time.time,
        after_poll: Callable[[str], None] | None = None,
        start_after: str | None = None,
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
        self._clock = clock
        # Hook run after each poll with the current iterator (the stack prunes moto's copies).
        self._after_poll = after_poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._iterator: str | None = None
        self._shard_id: str | None = None
        # The checkpoint: None reads from the Pipe's StartingPosition; a restart with the
        # emulator's data kept resumes after the last record delivered (`start_after`).
        self.last_sequence_number: str | None = start_after
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
        while not self._stop.is_set():
            try:
                read = self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                # Reading the stream or the dead-letter queue failed: start over
                # from the last checkpoint, like a Pipe's internal error.
                _log.exception("pipe runner poll failed; retrying from the last checkpoint")
                self._iterator = None
                self._stop.wait(1)
                continue
            self._stop.wait(self._poll_interval if read else self._idle_interval)

    # ------------------------------------------------------------ one poll
    def poll_once(self) -> int:
        """Read one batch, deliver it, then advance the checkpoint; returns records read."""
        if self._iterator is None:
            self._iterator = self._shard_iterator()
        response = self._streams.get_records(
            ShardIterator=self._iterator, Limit=self.config.batch_size
        )
        records: list[dict[str, Any]] = [dict(r) for r in response.get("Records", [])]
        next_iterator = response.get("NextShardIterator")
        if self._after_poll is not None and next_iterator:
            self._after_poll(next_iterator)
        if records and not self._deliver(records):
            # Stopped while retrying: the batch stays unconsumed.
            self._iterator = None
            return len(records)
        self._iterator = next_iterator
        if records:
            self.last_sequence_number = str(records[-1]["dynamodb"]["SequenceNumber"])
        return len(records)

    def _shard_iterator(self) -> str:
        stream = self._streams.describe_stream(StreamArn=self.config.source_stream_arn)
        self._shard_id = stream["StreamDescription"]["Shards"][0]["ShardId"]
        if self.last_sequence_number is None:
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=self._shard_id,
                ShardIteratorType=self.config.starting_position,  # type: ignore[arg-type]
            )
        else:
            response = self._streams.get_shard_iterator(
                StreamArn=self.config.source_stream_arn,
                ShardId=self._shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=self.last_sequence_number,
            )
        return response["ShardIterator"]

    # ------------------------------------------------------------ delivery
    def _deliver(self, records: list[dict[str, Any]]) -> bool:
        """Start the filtered batch, retrying as configured; False if stopped meanwhile."""
        converted = [to_pipe_record(r, self.config.source_stream_arn) for r in records]
        batch = [r for r in converted if self.config.matches(r)]
        self.records_filtered_out += len(records) - len(batch)
        counted = 0  # attempts that use up MaximumRetryAttempts
        tries = 0
        while batch:
            batch = self._without_expired(batch, tries)
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
                    self._dead_letter(batch, RETRY_ATTEMPTS_EXHAUSTED, error, tries)
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

    def _without_expired(self, batch: list[dict[str, Any]], tries: int) -> list[dict[str, Any]]:
        limit = self.config.maximum_record_age_seconds
        if limit < 0:
            return batch
        now = self._clock()
        expired = [r for r in batch if now - _created(r, now) > limit]
        if expired:
            self._dead_letter(expired, RECORD_AGE_EXCEEDED, None, tries)
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
                "shardId": self._shard_id,
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


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat().replace("+00:00", "Z")
