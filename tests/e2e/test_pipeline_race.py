"""The two signals that register a direct upload race, and the pipeline goes on delivering.

`complete` and the S3 object-created event both move the pending record into
the files table, in a transaction only one of them can win. moto rolled the
loser's cancelled transaction back by putting a copy of the files table in
place, with a copy of its stream: the Pipe runner went on reading the old one,
and from then on every upload stayed UPLOADED, silently. Here the race is
forced: `complete` (the upload API's own code, run in this process so the test
can time it) reads the open record, the stack's event completes the upload
before complete goes on, and complete's transaction is cancelled.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import httpx
from botocore.exceptions import ClientError

from tests.devstack.pipeline_status import PATH
from tests.e2e.conftest import RunningStack, executions_for, wait_for
from tests.e2e.test_direct_uploads import key_of
from tests.e2e.test_flow import upload, wait_final
from upload_api.direct_uploads import DirectUploadService
from upload_api.quota import Quota

MIB = 1024 * 1024


class OvertakenAfterTheRecordRead:
    """A DynamoDB client whose first read of a pending record returns only once `meanwhile`
    has run: what the caller read is then stale, as when the other signal overtakes it."""

    def __init__(self, client: Any, pending_table: str, meanwhile: Callable[[], None]) -> None:
        self._client = client
        self._pending_table = pending_table
        self._meanwhile: Callable[[], None] | None = meanwhile
        self.refused: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **request: Any) -> Any:
        item = self._client.get_item(**request)
        if request["TableName"] == self._pending_table and self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return item

    def transact_write_items(self, **request: Any) -> Any:
        try:
            return self._client.transact_write_items(**request)
        except ClientError as error:
            self.refused.append(error.response["Error"]["Code"])
            raise


def direct_upload_service(stack: RunningStack, dynamodb: Any) -> DirectUploadService:
    """The upload API's service for direct uploads, on the stack's resources."""
    state = stack.state
    return DirectUploadService(
        s3=stack.client("s3"),
        dynamodb=dynamodb,
        bucket=state.bucket,
        files_table=state.table,
        pending_table=state.pending_table,
        kms_key_id=state.kms_key_arn,
        # The settings' defaults; complete reads only the URL lifetime.
        url_ttl=300,
        pending_ttl=86_400,
        single_put_max_bytes=64 * MIB,
        part_bytes=16 * MIB,
        max_bytes=5 * 1024 * MIB,
        quota=Quota(state.usage_table, max_bytes=50 * 1024 * MIB, max_files=10_000),
        logger=logging.getLogger("tests.e2e.race"),
    )


def test_after_complete_loses_the_race_to_the_s3_event_the_next_20_uploads_are_processed(
    stack: RunningStack, api: httpx.Client
) -> None:
    data = b"raced\n"
    started = api.post(
        "/uploads",
        json={
            "file_name": "raced.txt",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    ).json()
    file_id, upload_url = started["file_id"], started["upload"]
    owner = key_of(started).split("/")[1]  # uploads/<owner>/<file id>/<name>

    def the_event_completes_it() -> None:
        sent = httpx.put(upload_url["url"], content=data, headers=upload_url["headers"])
        assert sent.status_code == 200, sent.text
        wait_for(
            lambda: api.get(f"/uploads/{file_id}").status_code == 200,
            what="the object-created event to complete the upload",
        )

    dynamodb = OvertakenAfterTheRecordRead(
        stack.client("dynamodb"), stack.state.pending_table, the_event_completes_it
    )

    completed = direct_upload_service(stack, dynamodb).complete(owner, file_id, None)

    assert completed.item["file_id"] == file_id
    assert dynamodb.refused == ["TransactionCanceledException"]  # complete lost the race
    assert wait_final(api, file_id)["status"] == "PROCESSED"
    later = [upload(api, f"after-the-race-{n}.txt", f"file {n}\n".encode()) for n in range(20)]
    statuses = {u["file_id"]: wait_final(api, u["file_id"])["status"] for u in later}
    assert set(statuses.values()) == {"PROCESSED"}
    assert len(executions_for(stack, file_id)) == 1
    # The processor's MODIFYs (which the filter drops) included: the runner is not behind.
    wait_for(
        lambda: httpx.get(f"{stack.state.moto_endpoint}{PATH}").json()["undelivered_records"] == 0,
        timeout=5,
        what="the pipe runner to have read the whole stream",
    )


def test_the_pipeline_says_idle_only_once_every_upload_is_processed(
    stack: RunningStack, api: httpx.Client
) -> None:
    sent = [upload(api, f"idle-{n}.txt", f"file {n}\n".encode())["file_id"] for n in range(5)]
    url = f"{stack.state.moto_endpoint}{PATH}"
    seen: list[dict[str, Any]] = []

    def idle() -> bool:
        seen.append(httpx.get(url).json())
        return bool(seen[-1]["idle"])

    wait_for(idle, timeout=30, interval=0.01, what="the pipeline to go idle")
    # Read right after the status said idle: nothing of the five may still be under way.
    statuses = {file_id: api.get(f"/uploads/{file_id}").json()["status"] for file_id in sent}
    assert set(statuses.values()) == {"PROCESSED"}, (statuses, seen)
    said_idle = seen[-1]
    assert said_idle["undelivered_records"] == 0
    assert said_idle["object_events_pending"] == 0
    assert said_idle["executions_running"] == 0
