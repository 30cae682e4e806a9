"""At saturation the product degrades, never breaks: 200 uploads while the emulator throttles
a fifth of the calls to S3, DynamoDB and Step Functions (tests/devstack/throttling.py), from
every caller: the upload API, the Pipe runner, the processor.

The uploads go through the upload client's call, which sends a refused one again with
backoff. Every upload the API accepts reaches its final status and none is dead-lettered;
every answer that is not a 201 is a 503 (or 429) with Retry-After and the error shape, and
leaves nothing behind: the bucket's objects for this run, the table's items for it and the
user's usage counters agree.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from botocore.exceptions import ClientError

from tests.devstack.throttling import CONTROL_PATH
from tests.e2e.conftest import RunningStack, wait_for
from upload_client.answers import UploadError
from upload_client.client import upload_json

UPLOADS = 200
CLIENTS = 8
RATES = {"s3": 0.2, "dynamodb": 0.2, "stepfunctions": 0.2}
SEED = 23
# What the API answers when AWS throttled it past its SDK's retries: try again later
# (the upload client sends such an upload again, with backoff).
REFUSED = {429, 503}
FINAL = {"PROCESSED", "FAILED", "QUARANTINED"}
log = logging.getLogger(__name__)


def set_throttling(stack: RunningStack, rates: dict[str, float]) -> dict[str, Any]:
    answer = httpx.post(
        f"{stack.state.moto_endpoint}{CONTROL_PATH}", json={"rates": rates, "seed": SEED}
    )
    answer.raise_for_status()
    status: dict[str, Any] = answer.json()
    return status


def throttling_status(stack: RunningStack) -> dict[str, Any]:
    answer = httpx.get(f"{stack.state.moto_endpoint}{CONTROL_PATH}")
    answer.raise_for_status()
    status: dict[str, Any] = answer.json()
    return status


def usage(stack: RunningStack, owner: str) -> tuple[int, int]:
    """The user's (bytes, files) counters."""
    item = (
        stack.client("dynamodb")
        .get_item(
            TableName=stack.state.usage_table,
            Key={"owner": {"S": owner}},
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    return int(item.get("bytes", {}).get("N", 0)), int(item.get("files", {}).get("N", 0))


def dead_letters(stack: RunningStack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.state.dead_letter_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def statuses(stack: RunningStack, file_ids: list[str]) -> dict[str, str] | None:
    """Each file's status, read under throttling: None when a read was throttled."""
    found: dict[str, str] = {}
    table = stack.state.table
    try:
        for start in range(0, len(file_ids), 100):
            keys = [{"file_id": {"S": i}} for i in file_ids[start : start + 100]]
            response = stack.client("dynamodb").batch_get_item(
                RequestItems={table: {"Keys": keys, "ConsistentRead": True}}
            )
            if response.get("UnprocessedKeys"):
                return None
            for item in response["Responses"][table]:
                found[item["file_id"]["S"]] = item["status"]["S"]
    except ClientError:
        return None
    return found


def run_items(stack: RunningStack, prefix: str) -> dict[str, dict[str, Any]]:
    """The table's items of this run's files, by file_id."""
    items: dict[str, dict[str, Any]] = {}
    for page in (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=stack.state.table,
            FilterExpression="begins_with(file_name, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": prefix}},
            ConsistentRead=True,
        )
    ):
        for item in page["Items"]:
            items[item["file_id"]["S"]] = item
    return items


def run_versions(stack: RunningStack, owner: str, prefix: str) -> list[tuple[str, bool]]:
    """Every version and delete marker of this run's objects, as (key, is a delete marker)."""
    found: list[tuple[str, bool]] = []
    for page in (
        stack.client("s3")
        .get_paginator("list_object_versions")
        .paginate(Bucket=stack.state.bucket, Prefix=f"uploads/{owner}/")
    ):
        for kind, marker in (("Versions", False), ("DeleteMarkers", True)):
            found += [
                (v["Key"], marker)
                for v in page.get(kind, [])
                if v["Key"].rsplit("/", 1)[-1].startswith(prefix)
            ]
    return found


def token_subject(token: str) -> str:
    """The ID token's `sub` (read, not verified: the API verified it), the files' owner."""
    payload = token.removeprefix("Bearer ").split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return str(claims["sub"])


def test_uploads_under_throttling_lose_nothing(stack: RunningStack, token: str) -> None:
    owner = token_subject(token)
    usage_before, dead_letters_before = usage(stack, owner), dead_letters(stack)
    prefix = f"throttled-{uuid.uuid4().hex[:8]}-"
    files = {
        f"{prefix}{n:03d}.json": json.dumps({"n": n, "pad": "x" * n}).encode()
        for n in range(UPLOADS)
    }
    started = time.monotonic()
    set_throttling(stack, RATES)
    try:
        accepted, refused, shown = upload_all_until_final(stack, token, files)
    finally:
        # Always off again: every end-to-end test shares this stack.
        set_throttling(stack, {})
    elapsed = time.monotonic() - started
    log.info(
        "%d of %d accepted, %d refused, all final %.1f s after the first upload; calls %s, "
        "throttled %s",
        len(accepted),
        UPLOADS,
        len(refused),
        elapsed,
        shown["calls"],
        shown["throttled"],
    )

    assert dead_letters(stack) == dead_letters_before
    # Every throttled service was really called, the pipeline's callers included.
    assert set(shown["calls"]) == set(RATES), shown
    assert shown["throttled"].get("s3"), shown
    assert shown["throttled"].get("dynamodb"), shown
    assert shown["calls"]["stepfunctions"] > 0, shown

    file_ids = sorted(a["file_id"] for a in accepted.values())
    items = run_items(stack, prefix)
    assert sorted(items) == file_ids, "an item without an accepted upload, or one missing"
    assert {i["status"]["S"] for i in items.values()} == {"PROCESSED"}
    keys = {a["s3_path"].removeprefix(f"s3://{stack.state.bucket}/") for a in accepted.values()}
    assert {i["s3_key"]["S"] for i in items.values()} == keys
    # One version per accepted upload and no delete marker: a refused upload left no bytes.
    assert sorted(run_versions(stack, owner, prefix)) == sorted((key, False) for key in keys)
    # The usage counters count the accepted uploads only.
    sizes = sum(a["size_bytes"] for a in accepted.values())
    assert usage(stack, owner) == (usage_before[0] + sizes, usage_before[1] + len(accepted))


def upload_all_until_final(
    stack: RunningStack, token: str, files: dict[str, bytes]
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, Any]]:
    """Upload `files` with the upload client's call, CLIENTS at a time, then wait until every
    accepted one is final.

    The accepted uploads' 201 bodies by name, the names refused after the client's own
    retries, and the emulator's throttling counts.
    """
    answers: list[httpx.Response] = []  # every answer of the API, retried ones included

    def send(names: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
        # One client (and its connections) per thread, as a real client keeps them.
        with stack.api(token) as client:
            client.event_hooks["response"] = [answers.append]
            sent: list[tuple[str, dict[str, Any] | None]] = []
            for name in names:
                try:
                    sent.append((name, upload_json(client, name, files[name])))
                except UploadError:
                    sent.append((name, None))
            return sent

    names = list(files)
    groups = [names[n::CLIENTS] for n in range(CLIENTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = [result for sent in pool.map(send, groups) for result in sent]
    not_created = [a for a in answers if a.status_code != 201]
    log.info(
        "%d uploads answered in %.1f s; %d answers were not 201",
        len(files),
        time.monotonic() - started,
        len(not_created),
    )

    unexpected = [(a.status_code, a.text) for a in not_created if a.status_code not in REFUSED]
    assert unexpected == [], "neither accepted nor refused for throttling (never a 500)"
    for refusal in not_created:
        assert refusal.headers.get("Retry-After"), refusal.headers
        assert refusal.json()["error"], refusal.text
    accepted = {name: body for name, body in results if body is not None}
    refused = [name for name, body in results if body is None]
    assert len(accepted) >= len(files) // 2, f"only {len(accepted)} of {len(files)} accepted"
    file_ids = sorted(a["file_id"] for a in accepted.values())

    def all_final() -> dict[str, str] | None:
        current = statuses(stack, file_ids)
        if current is None or len(current) < len(file_ids):
            return None
        return current if set(current.values()) <= FINAL else None

    final = wait_for(all_final, timeout=120, interval=0.25, what="accepted uploads to finish")
    assert set(final.values()) == {"PROCESSED"}, final
    return accepted, refused, throttling_status(stack)
