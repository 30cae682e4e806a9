"""The local stack's pipe runner filter and the templatefile-like rendering of the ASL file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.devstack.pipe_runner import PipeConfig
from tests.support import pipeline as definitions
from upload_contract import to_pipe_record


def config() -> PipeConfig:
    return PipeConfig.from_pipe(
        {
            "Source": "arn:stream",
            "Target": "arn:sfn",
            "SourceParameters": {
                "FilterCriteria": {
                    "Filters": [{"Pattern": json.dumps(definitions.pipe_filter_pattern())}]
                },
                "DynamoDBStreamParameters": {"BatchSize": 10},
            },
            "TargetParameters": definitions.pipe_target_parameters(),
        }
    )


@pytest.mark.parametrize(
    ("event_name", "kept"), [("INSERT", True), ("MODIFY", False), ("REMOVE", False)]
)
def test_the_filter_file_keeps_only_inserts(event_name: str, kept: bool) -> None:
    record = {"eventName": event_name, "dynamodb": {"Keys": {"file_id": {"S": "x"}}}}
    assert config().matches(record) is kept


def test_pipe_records_carry_the_source_and_epoch_seconds() -> None:
    created = datetime(2026, 11, 26, tzinfo=UTC)
    record = to_pipe_record(
        {"eventName": "INSERT", "dynamodb": {"ApproximateCreationDateTime": created}}, "arn:s"
    )
    assert record["eventSourceARN"] == "arn:s"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == created.timestamp()
    json.dumps(record)


def test_the_state_machine_renders_like_templatefile() -> None:
    rendered = json.loads(
        definitions.state_machine_definition("arn:aws:lambda:us-east-1:1:function:p", "files")
    )
    states = rendered["States"]["ProcessRecords"]["ItemProcessor"]["States"]
    assert (
        states["ProcessFile"]["Parameters"]["FunctionName"]
        == "arn:aws:lambda:us-east-1:1:function:p"
    )
    assert states["RecordFailure"]["Parameters"]["TableName"] == "files"
    assert "${" not in json.dumps(rendered)


def test_render_refuses_unknown_variables() -> None:
    with pytest.raises(KeyError, match="other"):
        definitions.render_template("${other}", {"table_name": "t"})


def _item_states(rendered: dict[str, Any]) -> dict[str, Any]:
    states: dict[str, Any] = rendered["States"]["ProcessRecords"]["ItemProcessor"]["States"]
    return states


def test_state_machine_retries_transient_errors_with_jitter_and_records_failures() -> None:
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    assert rendered["QueryLanguage"] == "JSONPath"
    process = _item_states(rendered)["ProcessFile"]
    assert process["Resource"] == "arn:aws:states:::lambda:invoke"
    scan_wait, throttled, transient = process["Retry"]
    # A missing scan verdict has its own bounded wait (environments/local's: 5 x 1 s).
    assert scan_wait["ErrorEquals"] == ["MalwareScanNotFinishedError"]
    assert (scan_wait["MaxAttempts"], scan_wait["IntervalSeconds"]) == (5, 1)
    # Throttling (of the invoke, or of the processor's own calls) first, with its own
    # longer backoff; never in the generic entry too.
    assert throttled["ErrorEquals"] == [
        "Lambda.TooManyRequestsException",
        "ProcessingThrottledError",
    ]
    assert (
        throttled["MaxAttempts"],
        throttled["IntervalSeconds"],
        throttled["BackoffRate"],
        throttled["MaxDelaySeconds"],
        throttled["JitterStrategy"],
    ) == (8, 2, 2, 60, "FULL")
    assert set(transient["ErrorEquals"]) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "TransientProcessingError",
    }
    assert transient["JitterStrategy"] == "FULL"
    assert transient["BackoffRate"] > 1
    retried = {e for r in process["Retry"] for e in r["ErrorEquals"]}
    assert "ProcessingConfigurationError" not in retried
    configuration, everything = process["Catch"]
    assert configuration["ErrorEquals"] == ["ProcessingConfigurationError"]
    assert configuration["Next"] == "FailureNotRecorded"
    assert everything["ErrorEquals"] == ["States.ALL"]
    record = _item_states(rendered)[everything["Next"]]
    assert record["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert record["Parameters"]["Key"] == {"file_id": {"S.$": "$.dynamodb.Keys.file_id.S"}}
    for attribute in ("failure_reason", "updated_at", "processed_at"):
        assert attribute in record["Parameters"]["UpdateExpression"]
    assert any(s["Type"] == "Fail" for s in rendered["States"].values())


def test_map_concurrency_fits_the_processors_reserved_concurrency() -> None:
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    template = (definitions.REPO_ROOT / "services" / "template.yaml").read_text(encoding="utf-8")
    match = re.search(
        r"ProcessorReservedConcurrency:\s*\n\s*Type: Number\s*\n\s*Default: (\d+)", template
    )
    assert match, "ProcessorReservedConcurrency default not found"
    assert 0 < rendered["States"]["ProcessRecords"]["MaxConcurrency"] < int(match.group(1))


def test_the_recorded_failure_reason_is_the_error_name_only() -> None:
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    values = _item_states(rendered)["RecordFailure"]["Parameters"]["ExpressionAttributeValues"]
    assert values[":reason"] == {"S.$": "States.Format('processing failed ({})', $.error.Error)"}
    assert "Cause" not in json.dumps(values)


def test_a_failure_that_cannot_be_recorded_still_fails_the_execution() -> None:
    """Only a lost race is "recorded"; any other RecordFailure error ends the iteration
    unrecorded, with an `error` so the count after the Map sees it."""
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    states = _item_states(rendered)
    record = states["RecordFailure"]
    retried = {e for r in record["Retry"] for e in r["ErrorEquals"]}
    assert {"DynamoDB.ProvisionedThroughputExceededException", "States.Timeout"} <= retried
    assert "DynamoDB.ConditionalCheckFailedException" not in retried
    lost_race, other = record["Catch"]
    assert lost_race["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert lost_race["Next"] == "AlreadyFinished"
    assert other["ErrorEquals"] == ["States.ALL"]
    assert other["ResultPath"] != "$.error"  # keeps the processing error for the count
    unrecorded = states[other["Next"]]
    assert unrecorded["Type"] == "Pass"
    assert unrecorded["End"] is True
    assert unrecorded["Parameters"]["error.$"] == "$.error.Error"
    assert rendered["States"]["ProcessRecords"]["ResultSelector"]["errors.$"] == "$[*].error"


def test_an_item_the_processor_already_finished_is_not_counted_as_failed() -> None:
    """The processor wrote PROCESSED/FAILED, then the invocation still failed: the lost
    race ends in a state without an `error` key, so CountFailures ignores it."""
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    states = _item_states(rendered)
    (lost_race,) = [
        c
        for c in states["RecordFailure"]["Catch"]
        if c["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    ]
    finished = states[lost_race["Next"]]
    assert finished["Type"] == "Pass"
    assert finished["End"] is True
    assert finished["Parameters"]["status"] == "ALREADY_FINISHED"
    assert finished["Parameters"]["file_id.$"] == "$.dynamodb.Keys.file_id.S"
    assert not any(key.split(".$")[0] == "error" for key in finished["Parameters"])
    # Every other end state that reports a failure carries one.
    for name in ("FailureRecorded", "FailureNotRecorded", "MalformedRecord"):
        assert any(key.split(".$")[0] == "error" for key in states[name]["Parameters"]), name


def test_a_record_without_a_file_id_is_a_counted_failure_not_a_runtime_error() -> None:
    """States.Runtime (a JSONPath that matches nothing) is not caught by States.ALL and
    would abort the whole Map; the first state routes such records away."""
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    processor = rendered["States"]["ProcessRecords"]["ItemProcessor"]
    guard = processor["States"][processor["StartAt"]]
    assert guard["Type"] == "Choice"
    (choice,) = guard["Choices"]
    assert choice == {
        "Variable": "$.dynamodb.Keys.file_id.S",
        "IsPresent": True,
        "Next": "ProcessFile",
    }
    malformed = processor["States"][guard["Default"]]
    assert malformed["Type"] == "Pass"
    assert malformed["End"] is True
    assert "error" in malformed["Parameters"]
    assert "$" not in json.dumps(malformed["Parameters"])  # reads nothing from the record
