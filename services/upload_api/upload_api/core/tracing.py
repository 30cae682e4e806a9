"""X-Ray traces of the API's AWS calls (Powertools Tracer).

The Lambda Web Adapter runs the app as a process of its own, so Lambda's
per-invocation trace header, the `_X_AMZN_TRACE_ID` environment variable the
X-Ray SDK reads, never reaches it: the adapter forwards it as the
`x-amzn-trace-id` request header instead. TraceHeaderMiddleware puts it back
where the SDK reads it, so the AWS calls each request makes (botocore, patched
by the Tracer) are subsegments of that invocation's trace. Lambda runs one
invocation at a time per execution environment, so one process-wide value is
the right one.

Tracing is on where Powertools would enable it (on Lambda, unless
POWERTOOLS_TRACE_DISABLED): decided here first, because creating a Tracer
imports the X-Ray SDK, about 0.1 s, even where the Tracer then disables itself.
"""

import os

from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from starlette.types import ASGIApp, Receive, Scope, Send

SERVICE = "upload-api"
TRACE_HEADER = b"x-amzn-trace-id"
LAMBDA_TRACE_VARIABLE = "_X_AMZN_TRACE_ID"


def tracing_enabled() -> bool:
    """Powertools' rule: in Lambda (not SAM's local emulation), unless switched off."""
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")
    disabled = resolve_truthy_env_var_choice(
        env=os.environ.get("POWERTOOLS_TRACE_DISABLED", "false")
    )
    return in_lambda and not disabled


def start_tracing() -> None:
    """Patch botocore so every AWS call is an X-Ray subsegment."""
    from aws_lambda_powertools import Tracer  # noqa: PLC0415  # imports the X-Ray SDK

    Tracer(service=SERVICE, patch_modules=["botocore"])


class TraceHeaderMiddleware:
    """Each request's x-amzn-trace-id (set by the adapter) becomes the SDK's trace header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Lambda gives every invocation a trace header (Sampled=0 when not traced).
            for name, value in scope["headers"]:
                if name == TRACE_HEADER:
                    os.environ[LAMBDA_TRACE_VARIABLE] = value.decode("latin-1")
        await self.app(scope, receive, send)
