"""Events that reach the function without API Gateway: Lambda Web Adapter posts them here.

On AWS only the object-created rule can invoke the function this way (the
SAM template's permission), and no API route leads to this path. Locally the
path is reachable on loopback, which is harmless: an event only completes a
pending upload whose object really exists at its own key, or removes what is
under the prefix of an upload that was discarded, expired or whose file was
deleted, exactly what the real event would do.
"""

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from upload_api.api.deps import DirectUploadServiceDep
from upload_api.core.errors import ApiError
from upload_api.core.logging import logger

EVENTS_PATH = "/events"
# EventBridge events are at most 256 KiB.
MAX_EVENT_BYTES = 256 * 1024

router = APIRouter(include_in_schema=False)


@router.post(EVENTS_PATH)
async def object_created(request: Request, service: DirectUploadServiceDep) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        raise ApiError(413, "payload_too_large", "events are at most 256 KiB")
    bucket, key = _object_of(body)
    outcome = await run_in_threadpool(service.complete_object, bucket, key)
    logger.info("object-created event", extra={"s3_key": key, "outcome": outcome})
    return {"outcome": outcome}


def _object_of(body: bytes) -> tuple[str, str]:
    """Bucket and key of an S3 `Object Created` event, or a 400."""
    try:
        event: Any = json.loads(body)
        matches = event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
        bucket, key = event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise _invalid_event() from error
    if not matches or not isinstance(bucket, str) or not isinstance(key, str):
        raise _invalid_event()
    return bucket, key


def _invalid_event() -> ApiError:
    return ApiError(400, "invalid_event", "expected an S3 Object Created event")
