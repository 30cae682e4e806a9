"""The local stack's pipe runner filter and the templatefile-like rendering of the ASL file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devstack import definitions
from devstack.pipe_runner import PipeConfig, to_pipe_record


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


def test_state_machine_retries_transient_errors_with_jitter_and_records_failures() -> None:
    rendered = json.loads(definitions.state_machine_definition("arn:fn", "files"))
    assert rendered["QueryLanguage"] == "JSONPath"
    process = rendered["States"]["ProcessRecords"]["ItemProcessor"]["States"]["ProcessFile"]
    assert process["Resource"] == "arn:aws:states:::lambda:invoke"
    (retry,) = process["Retry"]
    assert set(retry["ErrorEquals"]) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "TransientProcessingError",
    }
    assert retry["JitterStrategy"] == "FULL"
    assert retry["BackoffRate"] > 1
    (catch,) = process["Catch"]
    record = rendered["States"]["ProcessRecords"]["ItemProcessor"]["States"][catch["Next"]]
    assert record["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert record["Parameters"]["Key"] == {"file_id": {"S.$": "$.dynamodb.Keys.file_id.S"}}
    assert "failure_reason" in record["Parameters"]["UpdateExpression"]
    assert "updated_at" in record["Parameters"]["UpdateExpression"]
    assert any(s["Type"] == "Fail" for s in rendered["States"].values())
