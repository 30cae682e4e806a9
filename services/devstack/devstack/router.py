"""Route moto's Lambda invocations of our function names to the project's handlers in-process.

moto without Docker runs Lambda through its "simple" backend, which echoes the
input back: a false pass. This is a narrow patch of that one method, written
against moto 5.2.5 (tested in tests/unit/processor/test_devstack_router.py):
invocations of a routed name run the real handler and come back the way Lambda
answers (payload, or `X-Amz-Function-Error: Unhandled` with errorType and
errorMessage); every other function keeps moto's behaviour.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import moto
from moto.awslambda_simple.models import LambdaSimpleBackend

MOTO_VERSION = "5.2.5"
LambdaHandler = Callable[[dict[str, Any], Any], Any]
_log = logging.getLogger("devstack.router")


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

    def _invoke(
        self,
        name: str,
        arn: str,
        handler: LambdaHandler,
        body: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        raw = body.decode() if isinstance(body, bytes) else (body or "{}")
        event = json.loads(raw or "{}")
        with self._lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        started = time.perf_counter()
        try:
            result = self._call(handler, event, LambdaContextStub(name, arn))
        except Exception as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": type(error).__name__, "errorMessage": str(error)}
            _log.debug("%s raised %s", name, result)
        if self.on_result is not None:
            self.on_result(name, event, result, time.perf_counter() - started)
        return json.dumps(result).encode()
