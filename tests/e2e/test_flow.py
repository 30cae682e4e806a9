"""The whole flow over HTTP against a running local stack: API -> S3 + DynamoDB -> stream
-> pipe runner -> Step Functions -> processor -> item."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from ops.environment import published_parameters
from tests.devstack import definitions as d
from tests.devstack.guide_user import guide_sign_in
from tests.devstack.malware_scan import EICAR
from tests.e2e.conftest import (
    FAULT_PREFIX,
    RunningStack,
    all_execution_inputs,
    executions_for,
    wait_for,
)
from upload_client.client import wait_for_final_status
from upload_contract import CONTRACT, to_pipe_record

FINAL = {"PROCESSED", "FAILED", "QUARANTINED"}


def upload(api: httpx.Client, name: str, data: bytes, comment: str = "") -> dict[str, Any]:
    response = api.post(
        "/upload",
        json={
            "file_name": name,
            "comment": comment,
            "file_data": base64.b64encode(data).decode(),
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_final(api: httpx.Client, file_id: str, timeout: float = 20) -> dict[str, Any]:
    item = wait_for_final_status(api, file_id, timeout, interval=0.1)
    assert item["status"] in FINAL, f"timed out after {timeout} s waiting for {file_id}: {item}"
    return item


def wait_executions_done(
    stack: RunningStack, file_id: str, count: int = 1, timeout: float = 20
) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        found = executions_for(stack, file_id)
        done = [e for e in found if e["status"] != "RUNNING"]
        return found if len(found) >= count and len(done) == len(found) else None

    result: list[dict[str, Any]] = wait_for(
        probe, timeout=timeout, interval=0.2, what=f"executions of {file_id}"
    )
    return result


def failed_lambda_attempts(stack: RunningStack, execution_arn: str) -> int:
    history = stack.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    return sum(
        1
        for event in history
        if event["type"] == "TaskFailed"
        and event.get("taskFailedEventDetails", {}).get("resourceType") == "lambda"
    )


def test_upload_is_stored_indexed_and_processed(stack: RunningStack, api: httpx.Client) -> None:
    data = b"hello from the end-to-end test\n"
    created = upload(api, "hello.txt", data, comment="first upload")
    assert created["sha256"] == hashlib.sha256(data).hexdigest()
    bucket, key = created["s3_path"].removeprefix("s3://").split("/", 1)

    head = stack.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ServerSideEncryption"] == "aws:kms"
    item = stack.client("dynamodb").get_item(
        TableName=stack.state.table, Key={"file_id": {"S": created["file_id"]}}
    )["Item"]
    assert item["s3_key"]["S"] == key
    assert item["comment"]["S"] == "first upload"

    final = wait_final(api, created["file_id"])
    assert final["status"] == "PROCESSED", final
    assert final["detected_content_type"] == "text/plain"
    assert final["processed_at"] >= final["created_at"]
    # The download is pinned to the version the malware scan cleared.
    scanned = stack.client("dynamodb").get_item(
        TableName=stack.state.table, Key={"file_id": {"S": created["file_id"]}}
    )["Item"]["scanned_version_id"]["S"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(final["download_url"]).query)
    assert query["versionId"] == [scanned]
    assert httpx.get(final["download_url"]).content == data

    (execution,) = wait_executions_done(stack, created["file_id"])
    assert execution["status"] == "SUCCEEDED"
    (result,) = [
        r for r in json.loads(execution["output"])["results"] if r["file_id"] == created["file_id"]
    ]
    assert result == {
        "file_id": created["file_id"],
        "status": "PROCESSED",
        "detected_content_type": "text/plain",
        "duplicate": False,
        "processed_at": final["processed_at"],
    }


def test_modify_and_remove_never_start_an_execution(stack: RunningStack, api: httpx.Client) -> None:
    first = upload(api, "to-change.txt", b"first")
    wait_final(api, first["file_id"])  # the processor's own update is a MODIFY already
    dynamodb = stack.client("dynamodb")
    key = {"file_id": {"S": first["file_id"]}}
    dynamodb.update_item(
        TableName=stack.state.table,
        Key=key,
        UpdateExpression="SET #c = :c",
        ExpressionAttributeNames={"#c": "comment"},
        ExpressionAttributeValues={":c": {"S": "changed"}},
    )
    dynamodb.delete_item(TableName=stack.state.table, Key=key)
    # The runner reads the shard in order: once a later INSERT has an execution,
    # the MODIFY and REMOVE before it have been seen (and must have been dropped).
    marker = upload(api, "marker.txt", b"marker")
    wait_executions_done(stack, marker["file_id"])

    inputs = all_execution_inputs(stack)
    event_names = {r["eventName"] for batch in inputs.values() for r in batch}
    assert event_names == {"INSERT"}
    assert len(executions_for(stack, first["file_id"])) == 1


def test_transient_failure_is_retried_then_succeeds(stack: RunningStack, api: httpx.Client) -> None:
    created = upload(api, f"{FAULT_PREFIX}2-flaky.txt", b"works on the third try")

    final = wait_final(api, created["file_id"])
    assert final["status"] == "PROCESSED", final
    (execution,) = wait_executions_done(stack, created["file_id"])
    assert execution["status"] == "SUCCEEDED"
    assert failed_lambda_attempts(stack, execution["executionArn"]) == 2


def test_persistent_failure_is_retried_then_recorded_failed(
    stack: RunningStack, api: httpx.Client
) -> None:
    created = upload(api, f"{FAULT_PREFIX}always-broken.txt", b"never works")

    final = wait_final(api, created["file_id"], timeout=30)
    assert final["status"] == "FAILED"
    # The error name only: no message, stack trace, bucket or key reaches the user.
    assert final["failure_reason"] == "processing failed (TransientProcessingError)"
    assert final["processed_at"] == final["updated_at"]
    assert "download_url" not in final  # a file that failed is never handed out
    (execution,) = wait_executions_done(stack, created["file_id"])
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ProcessingFailed"
    # The first try plus MaxAttempts (3) retries.
    assert failed_lambda_attempts(stack, execution["executionArn"]) == 4


def test_a_failure_that_cannot_be_recorded_does_not_abort_its_siblings(
    stack: RunningStack, api: httpx.Client
) -> None:
    """An item at DynamoDB's 400 KB limit cannot take the FAILED attributes: the
    processor's UpdateItem and then RecordFailure's fail (a validation error, not a lost
    race). That iteration ends unrecorded, its sibling is processed, and the execution
    still ends in the Fail state after the Map."""
    created = upload(api, "sibling.txt", b"processed next to a broken record")
    good = _insert_record(stack, created["file_id"])
    broken = json.loads(json.dumps(good))
    file_id = str(uuid.uuid4())
    broken["dynamodb"]["Keys"]["file_id"]["S"] = file_id
    image = broken["dynamodb"]["NewImage"]
    image["file_id"]["S"] = file_id
    image["s3_key"]["S"] = f"uploads/nobody/{file_id}/missing.txt"
    _put_item_at_the_size_limit(stack, image)
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.state.state_machine_arn,
        name=f"unrecordable-{file_id}",
        input=json.dumps([broken, good]),
    )["executionArn"]

    def finished() -> dict[str, Any] | None:
        described = dict(sfn.describe_execution(executionArn=arn))
        return described if described["status"] != "RUNNING" else None

    execution = wait_for(finished, timeout=20, interval=0.2, what="the execution")
    assert (execution["status"], execution["error"]) == ("FAILED", "ProcessingFailed")
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    assert entered.count("RecordFailure") == 1
    assert entered.count("FailureNotRecorded") == 1
    assert "FailureRecorded" not in entered
    assert wait_final(api, created["file_id"])["status"] == "PROCESSED"
    item = stack.client("dynamodb").get_item(
        TableName=stack.state.table, Key={"file_id": {"S": file_id}}, ConsistentRead=True
    )["Item"]
    assert item["status"]["S"] == "UPLOADED"


def test_a_finished_item_and_a_malformed_record_are_told_apart(
    stack: RunningStack, api: httpx.Client
) -> None:
    """One batch: a record of an item the processor already finished whose invocation still
    fails (the fault hook fails it before the handler), and a record without a file_id key.
    The first ends ALREADY_FINISHED and is not counted; the second is a counted failure
    instead of a States.Runtime error that would abort the Map."""
    created = upload(api, "finished.txt", b"processed before the invocation failed")
    file_id = created["file_id"]
    assert wait_final(api, file_id)["status"] == "PROCESSED"
    finished = _insert_record(stack, file_id)
    finished["dynamodb"]["NewImage"]["file_name"]["S"] = f"{FAULT_PREFIX}always-finished.txt"
    malformed = json.loads(json.dumps(finished))
    del malformed["dynamodb"]["Keys"]
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.state.state_machine_arn,
        name=f"finished-and-malformed-{file_id}",
        input=json.dumps([finished, malformed]),
    )["executionArn"]

    def done() -> dict[str, Any] | None:
        described = dict(sfn.describe_execution(executionArn=arn))
        return described if described["status"] != "RUNNING" else None

    execution = wait_for(done, timeout=30, interval=0.2, what="the execution")
    assert (execution["status"], execution["error"]) == ("FAILED", "ProcessingFailed")
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    assert entered.count("AlreadyFinished") == 1
    assert entered.count("MalformedRecord") == 1
    assert "FailureRecorded" not in entered
    assert "FailureNotRecorded" not in entered
    (counted,) = [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in history
        if e.get("stateExitedEventDetails", {}).get("name") == "CountFailures"
    ]
    assert counted["failed_records"] == 1
    assert {r["status"] for r in counted["results"]} == {"ALREADY_FINISHED", "MALFORMED"}
    assert counted["errors"] == ["MalformedRecord"]
    item = api.get(f"/uploads/{file_id}").json()
    assert item["status"] == "PROCESSED"


def _put_item_at_the_size_limit(stack: RunningStack, image: dict[str, Any]) -> None:
    """Pad the item until fewer than 60 bytes are left below 400 KB."""
    dynamodb = stack.client("dynamodb")
    item = {k: v for k, v in image.items() if k in {"file_id", "owner", "status", "created_at"}}
    item["status"] = {"S": "UPLOADED"}
    pad = 400 * 1024
    while True:
        item["padding"] = {"S": "x" * pad}
        try:
            dynamodb.put_item(TableName=stack.state.table, Item=item)
        except dynamodb.exceptions.ClientError as error:
            assert "size" in str(error).lower(), error
            pad -= 16
        else:
            return


def _insert_record(stack: RunningStack, file_id: str) -> dict[str, Any]:
    """The file's INSERT from the table stream, shaped like the Pipe's record."""
    streams = stack.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stack.state.stream_arn)["StreamDescription"][
        "Shards"
    ][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stack.state.stream_arn,
        ShardId=shard["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    (insert,) = [
        to_pipe_record(dict(r), stack.state.stream_arn)
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["file_id"]["S"] == file_id
    ]
    payload: dict[str, Any] = json.loads(json.dumps(insert, default=str))
    return payload


def test_same_record_delivered_twice_is_processed_once(
    stack: RunningStack, api: httpx.Client
) -> None:
    created = upload(api, "twice.txt", b"deliver me twice")
    file_id = created["file_id"]
    payload = _insert_record(stack, file_id)
    # Redeliver while the pipe runner's own delivery may still be in flight:
    # twice in one batch (parallel Map iterations) and once more on its own.
    sfn = stack.client("stepfunctions")
    for name, batch in (("redeliver-pair", [payload, payload]), ("redeliver-one", [payload])):
        sfn.start_execution(
            stateMachineArn=stack.state.state_machine_arn,
            name=f"{name}-{file_id}",
            input=json.dumps(batch),
        )

    executions = wait_executions_done(stack, file_id, count=3)
    assert {e["status"] for e in executions} == {"SUCCEEDED"}
    results = [
        r for e in executions for r in json.loads(e["output"])["results"] if r["file_id"] == file_id
    ]
    assert len(results) == 4
    assert [r["duplicate"] for r in results].count(False) == 1
    assert {r["status"] for r in results} == {"PROCESSED"}
    final = wait_final(api, file_id)
    assert {r["processed_at"] for r in results} == {final["processed_at"]}


def test_fifty_concurrent_uploads_are_all_stored_and_processed(
    stack: RunningStack, token: str
) -> None:
    files = {f"bulk-{n:02d}.bin": os.urandom(1024 + n) for n in range(50)}

    def send(name: str) -> httpx.Response:
        with stack.api(token) as client:
            return client.post(
                "/upload",
                json={"file_name": name, "file_data": base64.b64encode(files[name]).decode()},
            )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(send, files))
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    assert {r.status_code for r in responses} == {201}
    created = [r.json() for r in responses]
    file_ids = {c["file_id"] for c in created}
    assert len(file_ids) == 50

    s3 = stack.client("s3")
    for c in created:
        bucket, key = c["s3_path"].removeprefix("s3://").split("/", 1)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == c["size_bytes"]

    dynamodb = stack.client("dynamodb")

    def statuses() -> dict[str, str]:
        found: dict[str, str] = {}
        ids = sorted(file_ids)
        for start in range(0, len(ids), 100):
            response = dynamodb.batch_get_item(
                RequestItems={
                    stack.state.table: {
                        "Keys": [{"file_id": {"S": i}} for i in ids[start : start + 100]],
                        "ConsistentRead": True,
                    }
                }
            )
            for item in response["Responses"][stack.state.table]:
                found[item["file_id"]["S"]] = item["status"]["S"]
        return found

    def all_final() -> dict[str, str] | None:
        current = statuses()
        return current if all(s in FINAL for s in current.values()) else None

    assert len(statuses()) == 50
    final = wait_for(all_final, timeout=60, interval=0.25, what="50 uploads to be processed")
    assert set(final.values()) == {"PROCESSED"}


def test_delete_leaves_no_version_of_the_file(stack: RunningStack, api: httpx.Client) -> None:
    created = upload(api, "to-delete.txt", b"short-lived")
    assert wait_final(api, created["file_id"])["status"] == "PROCESSED"
    key = created["s3_path"].split("/", 3)[3]

    assert api.delete(f"/uploads/{created['file_id']}").status_code == 204

    assert api.get(f"/uploads/{created['file_id']}").status_code == 404
    assert api.delete(f"/uploads/{created['file_id']}").status_code == 404
    listing = stack.client("s3").list_object_versions(Bucket=stack.state.bucket, Prefix=key)
    assert listing.get("Versions", []) == []
    assert listing.get("DeleteMarkers", []) == []


def test_a_forged_item_gets_no_url_and_deletes_nothing(
    stack: RunningStack, api: httpx.Client
) -> None:
    """Finding 2 of the review, as demonstrated: an attacker's own item rewritten (by
    anyone who can write the files table) to point at the victim's key."""
    victim = upload(api, "victim.txt", b"the victim's bytes")
    assert wait_final(api, victim["file_id"])["status"] == "PROCESSED"
    bucket, victim_key = victim["s3_path"].removeprefix("s3://").split("/", 1)
    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    before = s3.list_object_versions(Bucket=bucket, Prefix=victim_key)["Versions"]
    with stack.api(guide_sign_in(stack.state, "attacker@example.com")) as attacker:
        own = upload(attacker, "own.txt", b"the attacker's bytes")
        assert wait_final(attacker, own["file_id"])["status"] == "PROCESSED"
        dynamodb.update_item(
            TableName=stack.state.table,
            Key={"file_id": {"S": own["file_id"]}},
            UpdateExpression="SET s3_key = :key, scanned_version_id = :version",
            ExpressionAttributeValues={
                ":key": {"S": victim_key},
                ":version": {"S": before[0]["VersionId"]},
            },
        )

        shown = attacker.get(f"/uploads/{own['file_id']}")
        deleted = attacker.delete(f"/uploads/{own['file_id']}")

    assert (shown.status_code, shown.json()["error"]) == (404, "not_found")
    assert "download_url" not in shown.text
    assert (deleted.status_code, deleted.json()["error"]) == (404, "not_found")
    after = s3.list_object_versions(Bucket=bucket, Prefix=victim_key)
    assert after["Versions"] == before
    assert after.get("DeleteMarkers", []) == []
    detail = api.get(f"/uploads/{victim['file_id']}").json()
    assert httpx.get(detail["download_url"]).content == b"the victim's bytes"


def test_each_outcome_is_published_once_on_the_file_events_bus(
    stack: RunningStack, api: httpx.Client
) -> None:
    """An integrator's subscription: a rule on the bus with a queue as its target."""
    bus = published_parameters(stack.client("ssm"), d.PARAMETER_PATH)["file_events_bus_name"]
    sqs, events = stack.client("sqs"), stack.client("events")
    queue_url = sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule = f"subscriber-{uuid.uuid4().hex[:8]}"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps(
            {
                "source": [CONTRACT["outcome_event"]["source"]],
                "detail-type": [CONTRACT["outcome_event"]["detail_type"]],
            }
        ),
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    clean = upload(api, "published.txt", b"all good")
    broken = upload(api, f"{FAULT_PREFIX}always-broken.txt", b"never works")
    infected = upload(api, "eicar.txt", EICAR)
    assert wait_final(api, clean["file_id"])["status"] == "PROCESSED"
    assert wait_final(api, broken["file_id"], timeout=30)["status"] == "FAILED"
    assert wait_final(api, infected["file_id"])["status"] == "QUARANTINED"
    outcomes = {clean["file_id"], broken["file_id"], infected["file_id"]}

    def received() -> dict[str, dict[str, Any]] | None:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            detail = json.loads(message["Body"])["detail"]
            seen.setdefault(detail["file_id"], []).append(detail)
        return {k: v[0] for k, v in seen.items()} if outcomes <= seen.keys() else None

    seen: dict[str, list[dict[str, Any]]] = {}
    details = wait_for(received, timeout=20, what="the three outcome events")
    owner = clean["s3_path"].split("/")[4]
    assert details[clean["file_id"]]["status"] == "PROCESSED"
    assert details[clean["file_id"]]["owner"] == owner
    assert details[broken["file_id"]] == {
        "file_id": broken["file_id"],
        "owner": owner,
        "status": "FAILED",
        "failure_reason": "processing failed (TransientProcessingError)",
    }
    assert details[infected["file_id"]] == {
        "file_id": infected["file_id"],
        "owner": owner,
        "status": "QUARANTINED",
        "failure_reason": "malware found",
        "duplicate": False,
        "processed_at": details[infected["file_id"]]["processed_at"],
    }
    time.sleep(1)
    received()
    assert all(len(v) == 1 for k, v in seen.items() if k in outcomes)
