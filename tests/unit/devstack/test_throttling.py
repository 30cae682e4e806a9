"""Throttling injection (tests.devstack.throttling), against a real moto server with the
local stack's extensions, switched over HTTP as tests switch it on a running stack."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from tests.devstack.throttling import CONTROL_PATH
from tests.support.aws import server_client

# One attempt per call: each throttled answer reaches the test as it was sent.
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
ROLE = "arn:aws:iam::123456789012:role/sfn"

Throttle = Callable[..., dict[str, Any]]


def client(endpoint: str, service: str) -> Any:
    return server_client(endpoint, service, config=ONE_ATTEMPT)


@pytest.fixture
def throttle(endpoint: str) -> Iterator[Throttle]:
    """Set the emulator's rates (and seed) over HTTP; switched off again after the test."""

    def set_rates(rates: dict[str, float], seed: int = 0) -> dict[str, Any]:
        answer = httpx.post(f"{endpoint}{CONTROL_PATH}", json={"rates": rates, "seed": seed})
        answer.raise_for_status()
        status: dict[str, Any] = answer.json()
        return status

    try:
        yield set_rates
    finally:
        set_rates({})


def status(endpoint: str) -> dict[str, Any]:
    answer = httpx.get(f"{endpoint}{CONTROL_PATH}")
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def new_bucket(endpoint: str) -> str:
    name = f"throttle-{uuid.uuid4().hex[:12]}"
    client(endpoint, "s3").create_bucket(Bucket=name)
    return name


def new_table(endpoint: str) -> str:
    name = f"throttle-{uuid.uuid4().hex[:12]}"
    client(endpoint, "dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def refused(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def assert_throttled(error: ClientError, code: str, status_code: int) -> None:
    assert error.response["Error"]["Code"] == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status_code
    # botocore's standard retry mode retries it as a throttle (as every SDK does).
    context = RetryContext(attempt_number=1, parsed_response=error.response)
    assert ThrottledRetryableChecker().is_retryable(context)


def test_a_throttled_s3_put_answers_slow_down_and_stores_nothing(
    endpoint: str, throttle: Throttle
) -> None:
    bucket = new_bucket(endpoint)
    s3 = client(endpoint, "s3")
    throttle({"s3": 1.0})

    error = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 1000))

    assert_throttled(error, "SlowDown", 503)
    head = refused(lambda: s3.head_object(Bucket=bucket, Key="k"))
    assert head.response["ResponseMetadata"]["HTTPStatusCode"] == 503  # HEAD: a bare 503
    throttle({})
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []


def test_a_throttled_dynamodb_write_answers_provisioned_throughput_exceeded_and_writes_nothing(
    endpoint: str, throttle: Throttle
) -> None:
    table = new_table(endpoint)
    dynamodb = client(endpoint, "dynamodb")
    throttle({"dynamodb": 1.0})

    error = refused(lambda: dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}}))

    assert_throttled(error, "ProvisionedThroughputExceededException", 400)
    throttle({})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "a"}})


def test_a_throttled_step_functions_call_answers_throttling_exception_and_creates_nothing(
    endpoint: str, throttle: Throttle
) -> None:
    sfn = client(endpoint, "stepfunctions")
    name = f"throttle-{uuid.uuid4().hex[:12]}"
    throttle({"stepfunctions": 1.0})

    error = refused(
        lambda: sfn.create_state_machine(name=name, definition=DEFINITION, roleArn=ROLE)
    )

    assert_throttled(error, "ThrottlingException", 400)
    throttle({})
    assert name not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]


def test_a_throttled_lambda_call_answers_too_many_requests(
    endpoint: str, throttle: Throttle
) -> None:
    throttle({"lambda": 1.0})

    error = refused(lambda: client(endpoint, "lambda").invoke(FunctionName="any"))

    assert_throttled(error, "TooManyRequestsException", 429)


def test_the_rate_is_honoured_and_the_seed_repeats_the_same_throttles(
    endpoint: str, throttle: Throttle
) -> None:
    table = new_table(endpoint)
    dynamodb = client(endpoint, "dynamodb")
    calls, rate = 200, 0.3

    def throttled_calls() -> list[int]:
        throttled = []
        for n in range(calls):
            try:
                dynamodb.get_item(TableName=table, Key={"id": {"S": str(n)}})
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
                throttled.append(n)
        return throttled

    throttle({"dynamodb": rate}, seed=7)
    first = throttled_calls()
    counted = status(endpoint)
    throttle({"dynamodb": rate}, seed=7)
    again = throttled_calls()

    # Binomial(200, 0.3): mean 60, standard deviation 6.5; four of them either side.
    assert abs(len(first) - calls * rate) < 4 * (calls * rate * (1 - rate)) ** 0.5
    assert counted["calls"] == {"dynamodb": calls}
    assert counted["throttled"] == {"dynamodb": {"GetItem": len(first)}}
    assert again == first


def test_an_operation_rate_overrides_its_service_rate(endpoint: str, throttle: Throttle) -> None:
    bucket = new_bucket(endpoint)
    table = new_table(endpoint)
    s3, dynamodb = client(endpoint, "s3"), client(endpoint, "dynamodb")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"kept")
    throttle({"s3": 1.0, "s3:GetObject": 0.0, "dynamodb:PutItem": 1.0})

    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"kept"
    assert_throttled(
        refused(lambda: s3.put_object(Bucket=bucket, Key="new", Body=b"")), "SlowDown", 503
    )
    refused(lambda: dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}}))
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "a"}})
    assert status(endpoint)["throttled"] == {"s3": {"PutObject": 1}, "dynamodb": {"PutItem": 1}}


def test_switching_off_restores_normal_answers(endpoint: str, throttle: Throttle) -> None:
    bucket = new_bucket(endpoint)
    s3 = client(endpoint, "s3")
    throttle({"s3": 1.0})
    refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"first" * 1000))

    throttle({})

    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"
    assert status(endpoint) == {"rates": {}, "seed": 0, "calls": {}, "throttled": {}}


def test_the_control_path_and_moto_s_own_api_are_never_throttled(
    endpoint: str, throttle: Throttle
) -> None:
    shown = throttle({"s3": 1.0, "dynamodb": 1.0, "stepfunctions": 1.0, "lambda": 1.0}, seed=3)

    assert shown["rates"] == {"s3": 1.0, "dynamodb": 1.0, "stepfunctions": 1.0, "lambda": 1.0}
    assert shown["seed"] == 3
    assert status(endpoint)["rates"] == shown["rates"]
    moto_api = httpx.get(f"{endpoint}/moto-api/config")
    assert moto_api.is_success
    assert moto_api.json()["lambda"] == {"use_docker": False}
    assert status(endpoint)["calls"] == {}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"rates": {"sqs": 0.5}}, "services that can be throttled"),
        ({"rates": {"s3": 1.5}}, "a rate is a number from 0 to 1"),
        ({"rates": {"s3": "half"}}, "a rate is a number from 0 to 1"),
        ({"rates": {"s3": 0.5}, "seed": "x"}, "seed: an integer"),
        ({"s3": 0.5}, "expected"),
    ],
)
def test_a_bad_setting_is_refused_and_changes_nothing(
    endpoint: str, throttle: Throttle, body: dict[str, Any], problem: str
) -> None:
    throttle({"s3": 0.1})

    answer = httpx.post(f"{endpoint}{CONTROL_PATH}", json=body)

    assert answer.status_code == 400
    assert problem in answer.json()["error"]
    assert status(endpoint)["rates"] == {"s3": 0.1}
