"""Lambda entry point: parse one DynamoDB stream record, delegate to the service."""

import os
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from processor.models import FileStreamRecord
from processor.service import FAILED, LOCATION_REFUSED, PROCESSED, QUARANTINED, FileProcessor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Few SDK retries: the state machine's Retry (with jitter) is the outer loop.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)


@cache
def _processor() -> FileProcessor:
    # Built on first use (not at import) so tests can start their mocks first;
    # cached so warm invocations reuse the connections.
    s3: S3Client = boto3.client("s3", config=_BOTO_CONFIG)
    dynamodb: DynamoDBClient = boto3.client("dynamodb", config=_BOTO_CONFIG)
    return FileProcessor(
        s3=s3,
        dynamodb=dynamodb,
        table_name=os.environ["FILES_TABLE"],
        # The one bucket objects are read from; an item naming another is refused.
        bucket=os.environ["UPLOAD_BUCKET"],
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    record = parse(event=event, model=FileStreamRecord)
    file_id = record.dynamodb.Keys.file_id
    logger.append_keys(file_id=file_id)
    image = record.dynamodb.NewImage
    if record.eventName != "INSERT" or image is None:
        # The Pipe filter lets only INSERTs through; anything else is a no-op, not an error.
        logger.warning("Ignoring stream record", extra={"event_name": record.eventName})
        metrics.add_metric(name="IgnoredRecords", unit=MetricUnit.Count, value=1)
        return {"file_id": file_id, "status": "IGNORED"}

    outcome = _processor().process(image.to_uploaded_file())
    if outcome.duplicate:
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
    elif outcome.status == PROCESSED:
        metrics.add_metric(name="FilesProcessed", unit=MetricUnit.Count, value=1)
    elif outcome.status == FAILED:
        metrics.add_metric(name="FilesFailed", unit=MetricUnit.Count, value=1)
        if outcome.failure_reason == LOCATION_REFUSED:
            # An item pointing at a location not its own: worth an alarm of its own.
            metrics.add_metric(name="StoredLocationsRefused", unit=MetricUnit.Count, value=1)
    elif outcome.status == QUARANTINED:
        metrics.add_metric(name="FilesQuarantined", unit=MetricUnit.Count, value=1)
    logger.info("File processed", extra=outcome.as_dict())
    return outcome.as_dict()
