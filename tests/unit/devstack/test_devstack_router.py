"""The narrow moto patch that runs our handlers for Lambda invocations (moto 5.2.5)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from tests.devstack.router import Fault, LambdaRouter, function_name_of

ROUTED = "secure-upload-local-processor"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.py", "")
    return buffer.getvalue()


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        for name in (ROUTED, "someone-else"):
            client.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role,
                Handler="x.handler",
                Code={"ZipFile": _zip()},
            )
        yield client


def invoke(client: Any, name: str, payload: Any) -> tuple[Any, str | None]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload))
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_written_for_the_pinned_moto() -> None:
    assert moto.__version__ == "5.2.5", "re-check tests.devstack.router against this moto version"


def test_routed_function_runs_the_handler(lambda_client: Any) -> None:
    seen: list[tuple[dict[str, Any], str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((event, context.function_name))
        return {"echo": event["n"] + 1}

    router = LambdaRouter()
    router.route(ROUTED, handler)
    with router:
        function_arn = lambda_client.get_function(FunctionName=ROUTED)["Configuration"][
            "FunctionArn"
        ]
        assert invoke(lambda_client, function_arn, {"n": 1}) == ({"echo": 2}, None)
        assert invoke(lambda_client, ROUTED, {"n": 41}) == ({"echo": 42}, None)
    assert seen == [({"n": 1}, ROUTED), ({"n": 41}, ROUTED)]
    assert router.invocations == {ROUTED: 2}


def test_other_functions_keep_mocks_behaviour(lambda_client: Any) -> None:
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: "routed")
    with router:
        assert invoke(lambda_client, "someone-else", {"n": 1}) == ({"n": 1}, None)


def test_a_raising_handler_is_an_unhandled_function_error(lambda_client: Any) -> None:
    class TransientProcessingError(Exception):
        pass

    def handler(event: dict[str, Any], context: Any) -> Any:
        raise TransientProcessingError("throttled")

    router = LambdaRouter()
    router.route(ROUTED, handler)
    with router:
        payload, error = invoke(lambda_client, ROUTED, {})
    assert error == "Unhandled"
    assert payload == {"errorType": "TransientProcessingError", "errorMessage": "throttled"}


def test_faults_fire_the_configured_number_of_times(lambda_client: Any) -> None:
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: "ok")
    router.add_fault(
        Fault(matches=lambda e: bool(e.get("flaky")), error=lambda: RuntimeError("boom"), times=2)
    )
    with router:
        outcomes = [invoke(lambda_client, ROUTED, {"flaky": True})[1] for _ in range(3)]
        assert invoke(lambda_client, ROUTED, {"flaky": False})[1] is None
    assert outcomes == ["Unhandled", "Unhandled", None]


def test_an_unknown_function_is_still_not_found(lambda_client: Any) -> None:
    router = LambdaRouter()
    router.route("not-created", lambda event, context: "never")
    with router, pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="not-created", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_uninstall_restores_moto(lambda_client: Any) -> None:
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: "routed")
    with router:
        pass
    assert invoke(lambda_client, ROUTED, {"n": 3}) == ({"n": 3}, None)


def test_an_event_invocation_is_202_with_an_empty_body_and_runs_in_the_background(
    lambda_client: Any,
) -> None:
    release = threading.Event()
    ran: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Blocks until the caller has its answer: the invocation does not wait for it.
        assert release.wait(5)
        ran.append(event)
        return {"ignored": True}

    router = LambdaRouter()
    router.route(ROUTED, handler)
    with router:
        response = lambda_client.invoke(
            FunctionName=ROUTED, InvocationType="Event", Payload=json.dumps({"n": 1})
        )
        assert response["StatusCode"] == 202
        assert response["Payload"].read() == b""
        assert "FunctionError" not in response
        assert ran == []
        release.set()
        router.wait_for_async(timeout=5)
    assert ran == [{"n": 1}]
    assert router.invocations == {ROUTED: 1}


def test_a_failing_event_invocation_is_still_202_and_is_logged(
    lambda_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("async boom")

    router = LambdaRouter()
    router.route(ROUTED, handler)
    with router, caplog.at_level("WARNING", logger="tests.devstack.router"):
        response = lambda_client.invoke(FunctionName=ROUTED, InvocationType="Event", Payload=b"{}")
        router.wait_for_async(timeout=5)
    assert (response["StatusCode"], response["Payload"].read()) == (202, b"")
    assert any("async boom" in r.getMessage() for r in caplog.records)


def test_a_dry_run_is_204_and_does_not_run_the_handler(lambda_client: Any) -> None:
    calls: list[Any] = []
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: calls.append(event))
    with router:
        response = lambda_client.invoke(FunctionName=ROUTED, InvocationType="DryRun", Payload=b"{}")
    assert (response["StatusCode"], response["Payload"].read()) == (204, b"")
    assert calls == []


def test_a_result_that_is_not_json_is_a_runtime_marshal_error(lambda_client: Any) -> None:
    seen: list[Any] = []
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: {"ids": {1, 2}})
    router.on_result = lambda name, event, result, seconds: seen.append(result)
    with router:
        response = lambda_client.invoke(FunctionName=ROUTED, Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert payload["stackTrace"] == []
    assert payload["requestId"]
    assert seen == [payload]


@pytest.mark.parametrize(
    ("result", "payload"),
    [
        # DynamoDB hands numbers out as Decimal; the runtime writes them as numbers.
        ({"size": Decimal(5), "ratio": Decimal("0.5")}, b'{"size": 5, "ratio": 0.5}'),
        # Bytes go back as they are.
        (b"raw", b"raw"),
    ],
)
def test_results_are_marshalled_like_the_python_runtime(
    lambda_client: Any, result: Any, payload: bytes
) -> None:
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: result)
    with router:
        response = lambda_client.invoke(FunctionName=ROUTED, Payload=b"{}")
    assert response["Payload"].read() == payload
    assert "FunctionError" not in response


def test_refuses_to_patch_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    original = LambdaSimpleBackend.invoke
    monkeypatch.setattr(moto, "__version__", "5.2.6")
    router = LambdaRouter()
    router.route(ROUTED, lambda event, context: "routed")
    with pytest.raises(RuntimeError, match=r"5\.2\.5"):
        router.install()
    assert LambdaSimpleBackend.invoke is original


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("fn", "fn"),
        ("fn:live", "fn"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:7", "fn"),
    ],
)
def test_function_name_of(reference: str, name: str) -> None:
    assert function_name_of(reference) == name
