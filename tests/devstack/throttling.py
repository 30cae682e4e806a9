"""Throttling injection in the emulator: AWS's throttle answers, at a rate per service or operation.

A test hook of the local stack, switched at runtime on the emulator's own port,
so a running stack needs no restart:

    POST /_devstack/throttling {"rates": {"s3": 0.2, "dynamodb:PutItem": 1.0}, "seed": 7}
    GET  /_devstack/throttling  -> {"rates": ..., "seed": 7, "calls": {"s3": 40},
                                    "throttled": {"s3": {"PutObject": 8}}}
    POST /_devstack/throttling {"rates": {}}   (off)

A rate is the probability that a call is throttled: "<service>:<Operation>"
(botocore's operation name) wins over "<service>" (the SDK's name for it). A
throttled call gets the answer that service gives when throttled, the error
code botocore parses and the SDKs retry on:

- s3: 503 `SlowDown` (S3's XML error);
- dynamodb: 400 `ProvisionedThroughputExceededException` (DynamoDB's JSON error;
  its stream, `dynamodbstreams`, is another service and not throttled);
- stepfunctions: 400 `ThrottlingException`;
- lambda: 429 `TooManyRequestsException` (the reserved concurrency is used up).

Each POST replaces the rates, seeds the draws (seed 0 unless given: the same
seed and order of calls throttle the same calls) and zeroes the counts.

The hook wraps the WSGI application moto's server builds, the one place every
request passes before moto picks the service's handler: a throttled call is
answered there, so moto never sees it and nothing is written. Every caller
counts, the upload API's and also those inside the stack's own process (the
Pipe runner's StartExecution, the processor, moto's Step Functions engine
calling DynamoDB and Lambda), since they all reach moto over HTTP. moto's own
API (/moto-api/...) and the control path are never throttled. The rates belong
to one server and are not saved with its data: a restarted stack starts
without throttling.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from moto.core.request import Request
from moto.core.routing import get_service_router
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.wrappers import Response

# A path no AWS call takes: S3 bucket names cannot hold "_", so no path-style request starts so.
CONTROL_PATH = "/_devstack/throttling"


def _json_error(status: int, content_type: str, code: str, body: dict[str, str]) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())},
        content_type=content_type,
    )


def _s3_slow_down() -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
        "<Message>Please reduce your request rate.</Message>"
        f"<RequestId>{request_id}</RequestId></Error>",
        status=503,
        headers={"x-amz-request-id": request_id},
        content_type="application/xml",
    )


# What each service answers a throttled call, by the SDK's name for the service.
ANSWERS: dict[str, Callable[[], Response]] = {
    "s3": _s3_slow_down,
    "dynamodb": lambda: _json_error(
        400,
        "application/x-amz-json-1.0",
        "ProvisionedThroughputExceededException",
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was "
            "exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        },
    ),
    "stepfunctions": lambda: _json_error(
        400,
        "application/x-amz-json-1.0",
        "ThrottlingException",
        {"__type": "ThrottlingException", "message": "Rate exceeded"},
    ),
    "lambda": lambda: _json_error(
        429,
        "application/json",
        "TooManyRequestsException",
        {
            "Type": "User",
            "message": "Rate Exceeded.",
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        },
    ),
}


class Throttling:
    """One server's rates, seeded draws and counts (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, float] = {}
        self._seed = 0
        # Seeded draws for repeatable runs; nothing here is a secret.
        self._random = random.Random(0)  # noqa: S311
        self._calls: Counter[str] = Counter()
        self._throttled: dict[str, Counter[str]] = {}

    def configure(self, rates: dict[str, float], seed: int = 0) -> None:
        with self._lock:
            self._rates = dict(rates)
            self._seed = seed
            self._random = random.Random(seed)  # noqa: S311
            self._calls.clear()
            self._throttled.clear()

    def services(self) -> set[str]:
        with self._lock:
            return {name.split(":", 1)[0] for name in self._rates}

    def throttles(self, service: str, operation: str) -> bool:
        """Draw for one call: True when it is to be throttled (and counted so)."""
        with self._lock:
            rate = self._rates.get(f"{service}:{operation}", self._rates.get(service, 0.0))
            self._calls[service] += 1
            if self._random.random() >= rate:
                return False
            self._throttled.setdefault(service, Counter())[operation] += 1
            return True

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rates": dict(self._rates),
                "seed": self._seed,
                "calls": dict(self._calls),
                "throttled": {s: dict(ops) for s, ops in self._throttled.items()},
            }


def parse_rates(body: Any) -> tuple[dict[str, float], int]:
    """The rates and seed of a POST body; a TypeError or ValueError says what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("rates"), dict):
        raise TypeError('expected {"rates": {"<service>[:<Operation>]": <0..1>}, "seed": <int>}')
    rates: dict[str, float] = {}
    for name, rate in body["rates"].items():
        service = name.split(":", 1)[0]
        if service not in ANSWERS:
            raise ValueError(f"{name}: services that can be throttled: {', '.join(ANSWERS)}")
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise TypeError(f"{name}: a rate is a number from 0 to 1, not {rate!r}")
        if not 0 <= rate <= 1:
            raise ValueError(f"{name}: a rate is a number from 0 to 1, not {rate!r}")
        rates[name] = float(rate)
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: an integer, not {seed!r}")
    return rates, seed


_servers: weakref.WeakKeyDictionary[DomainDispatcherApplication, Throttling] = (
    weakref.WeakKeyDictionary()
)
_servers_lock = threading.Lock()


def _throttling_of(app: DomainDispatcherApplication) -> Throttling:
    with _servers_lock:
        if app not in _servers:
            _servers[app] = Throttling()
        return _servers[app]


def _control(throttling: Throttling, environ: dict[str, Any]) -> Response:
    request = Request(environ)
    if request.method == "POST":
        try:
            throttling.configure(*parse_rates(json.loads(request.get_data() or b"null")))
        except (TypeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
            return Response(json.dumps({"error": str(error)}), 400, content_type="application/json")
    elif request.method != "GET":
        return Response(status=405, headers={"Allow": "GET, POST"})
    return Response(json.dumps(throttling.status()), content_type="application/json")


def _operation(service: str, environ: dict[str, Any]) -> str:
    """botocore's name for the call: from X-Amz-Target (JSON protocols) or the method and path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    try:
        operation, _ = get_service_router(service).match(Request(environ))
    except Exception:  # a path no operation of the service matches: the service's rate applies
        return ""
    return str(operation.name)


# moto's names for services, where they are not the SDK's ("lambda" is a Python keyword).
_SDK_NAMES = {"awslambda": "lambda"}

_original_call: Callable[[DomainDispatcherApplication, dict[str, Any], Any], Any] = (
    DomainDispatcherApplication.__call__
)


def dispatch(
    self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any
) -> Any:
    """moto's server application, with the control path and throttled calls answered first."""
    throttling = _throttling_of(self)
    if environ.get("PATH_INFO") == CONTROL_PATH:
        return _control(throttling, environ)(environ, start_response)
    services = throttling.services()
    if not services:
        return _original_call(self, environ, start_response)
    # moto's choice of service for the request, made once: the app it picked answers it.
    app = self.get_application(environ)
    backend = str(getattr(app, "service", ""))
    service = _SDK_NAMES.get(backend, backend)
    if service in services and throttling.throttles(service, _operation(service, environ)):
        # werkzeug sends no body to a HEAD and discards a request body the answer left unread.
        return ANSWERS[service]()(environ, start_response)
    return app(environ, start_response)
