"""Route moto's Lambda invocations of our function names to the project's handlers in-process.

moto without Docker runs Lambda through its "simple" backend, which echoes the
input back: a false pass. This is a narrow patch of that one method, written
against moto 5.2.5 (tested in tests/unit/devstack/test_devstack_router.py):
invocations of a routed name run the real handler and come back the way Lambda
answers; every other function keeps moto's behaviour.

- RequestResponse: the handler's result as JSON; a raised exception is
  `X-Amz-Function-Error: Unhandled` with errorType and errorMessage; a result
  that is not JSON-serialisable is Unhandled with errorType
  `Runtime.MarshalError`, as the Python runtime reports it (Decimal is
  serialised as a number, bytes are returned as they are, like the runtime).
- Event: 202 with an empty body at once; the handler runs in a thread
  (Lambda's own async retries and destinations are not modelled: an error is
  logged).
- DryRun: 204 with an empty body; the handler does not run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import moto
from moto.awslambda_simple.models import LambdaSimpleBackend

MOTO_VERSION = "5.2.5"
LambdaHandler = Callable[[dict[str, Any], Any], Any]
_log = logging.getLogger("tests.devstack.router")


@dataclass
class LambdaContextStub:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default_factory=lambda: time.monotonic() + 60)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Fault:
    """Make matching invocations raise before the handler runs (test hook, never in product code).

    `matches` sees the invocation event; `times` is how many matching
    invocations fail (None: all of them).
    """

    matches: Callable[[dict[str, Any]], bool]
    error: Callable[[], Exception]
    times: int | None = None
    hits: int = 0


def function_name_of(name_or_arn: str) -> str:
    # arn:aws:lambda:region:account:function:name[:qualifier]
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":", 1)[0]


class LambdaRouter:
    def __init__(self) -> None:
        self._routes: dict[str, LambdaHandler] = {}
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None
        self._async_threads: set[threading.Thread] = set()
        self.invocations: dict[str, int] = {}
        self.on_result: Callable[[str, dict[str, Any], Any, float], None] | None = None

    def route(self, function_name: str, handler: LambdaHandler) -> None:
        self._routes[function_name] = handler

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def install(self) -> None:
        if self._original is not None:
            return
        if moto.__version__ != MOTO_VERSION:
            # The patch reaches into moto internals: re-check it on every moto upgrade.
            raise RuntimeError(f"devstack router is written for moto {MOTO_VERSION}")
        original = LambdaSimpleBackend.invoke
        router = self

        def invoke(  # noqa: PLR0917 - moto's own signature
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            name = function_name_of(function_name)
            handler = router._routes.get(name)
            if handler is None:
                return original(backend, function_name, qualifier, body, headers, response_headers)
            # Like Lambda: an unknown function is a 404, even if a route exists.
            fn = backend.get_function(name, qualifier)
            # moto answers 202 (Event) or 204 (DryRun) itself when the body is not None.
            invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                router._invoke_async(name, fn.function_arn, handler, body)
                return b""
            return router._invoke(name, fn.function_arn, handler, body, response_headers)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        self._original = original

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original  # type: ignore[method-assign]
            self._original = None

    def __enter__(self) -> LambdaRouter:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _take_fault(self, event: dict[str, Any]) -> Exception | None:
        with self._lock:
            for fault in self._faults:
                if (fault.times is None or fault.hits < fault.times) and fault.matches(event):
                    fault.hits += 1
                    return fault.error()
        return None

    def _call(self, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        fault = self._take_fault(event)
        if fault is not None:
            raise fault
        return handler(event, context)

    def _invoke_async(self, name: str, arn: str, handler: LambdaHandler, body: Any) -> None:
        def run() -> None:
            try:
                self._invoke(name, arn, handler, body, {}, asynchronous=True)
            except Exception:
                _log.exception("%s (Event invocation) could not run", name)
            finally:
                with self._lock:
                    self._async_threads.discard(thread)

        thread = threading.Thread(target=run, name=f"lambda-event-{name}", daemon=True)
        with self._lock:
            self._async_threads.add(thread)
        thread.start()

    def wait_for_async(self, timeout: float = 10) -> None:
        """Wait for handlers started by Event invocations (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._async_threads)
            if not pending:
                return
            for thread in pending:
                thread.join(max(0.0, deadline - time.monotonic()))

    def _invoke(
        self,
        name: str,
        arn: str,
        handler: LambdaHandler,
        body: Any,
        response_headers: dict[str, str],
        *,
        asynchronous: bool = False,
    ) -> bytes:
        raw = body.decode() if isinstance(body, bytes) else (body or "{}")
        event = json.loads(raw or "{}")
        with self._lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        context = LambdaContextStub(name, arn)
        started = time.perf_counter()
        try:
            result = self._call(handler, event, context)
        except Exception as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": type(error).__name__, "errorMessage": str(error)}
            _log.debug("%s raised %s", name, result)
        payload, problem = marshal(result)
        if payload is None:
            # What the Python runtime answers for a result it cannot serialise.
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {
                "errorMessage": f"Unable to marshal response: {problem}",
                "errorType": "Runtime.MarshalError",
                "requestId": context.aws_request_id,
                "stackTrace": [],
            }
            payload = json.dumps(result).encode()
            _log.warning("%s returned a result that is not JSON-serialisable: %s", name, problem)
        if self.on_result is not None:
            self.on_result(name, event, result, time.perf_counter() - started)
        if asynchronous and "x-amz-function-error" in response_headers:
            _log.warning("%s (Event invocation) failed: %s", name, payload.decode())
        return payload


def _json_default(value: Any) -> Any:
    # The runtime writes Decimal as a JSON number (DynamoDB hands numbers out as Decimal).
    if isinstance(value, Decimal):
        if value.is_nan():
            return float("nan")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result: Any) -> tuple[bytes | None, str]:
    """The result as the Python runtime serialises it, or (None, why it cannot be)."""
    if isinstance(result, bytes):
        return result, ""
    try:
        return json.dumps(result, default=_json_default).encode(), ""
    except (TypeError, ValueError) as error:
        return None, str(error)
