"""The upload API: `uvicorn --factory upload_api.main:create_app` (Lambda Web Adapter or local)."""

import json
import re
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from upload_api.api.routes import direct_uploads, events, health, uploads
from upload_api.core.config import Settings, settings_from_environment
from upload_api.core.domain import (
    ConflictError,
    FileTooLargeError,
    InvalidUploadError,
    NotFoundError,
    QuotaExceededError,
    StorageUnavailableError,
    UploadError,
)
from upload_api.core.errors import ApiError, validation_details
from upload_api.core.logging import logger
from upload_api.core.metrics import rejected
from upload_api.core.tracing import TraceHeaderMiddleware, start_tracing, tracing_enabled
from upload_api.models import ErrorBody

REQUEST_ID_HEADER = "x-request-id"
# Every 503 says when to try again. A second: the SDK has already retried the
# call with backoff, and a throttled table or prefix frees up within seconds;
# the upload client adds jitter on top, so refused callers do not return together.
RETRY_AFTER_SECONDS = 1
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9=_-]{1,64}")


def create_app(settings: Settings | None = None) -> FastAPI:
    # /docs and /redoc with Swagger UI's and ReDoc's files served by the app itself
    # (from the fastapi-offline package), not from a CDN: they work offline too.
    app = FastAPIOffline(
        title="Secure upload API",
        version="1.0.0",
        description="Authenticated file uploads to S3 with metadata in DynamoDB.",
    )
    app.state.settings = settings or settings_from_environment()
    app.include_router(health.router)
    app.include_router(uploads.router)
    app.include_router(direct_uploads.router)
    app.include_router(events.router)
    _install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    if tracing_enabled():
        start_tracing()
        app.add_middleware(TraceHeaderMiddleware)
    return app


class RequestContextMiddleware:
    """Request id for logs and responses, plus one access-log line per request.

    Plain ASGI rather than `@app.middleware("http")`: it passes the body through
    untouched, which matters for multi-megabyte uploads.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        # Context-local keys: concurrent requests never see each other's id.
        logger.thread_safe_append_keys(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            logger.thread_safe_remove_keys(["request_id"])


def _request_id(headers: Headers) -> str:
    """API Gateway's request id (forwarded by the Lambda Web Adapter), else a fresh one."""
    context = headers.get("x-amzn-request-context")
    if context:
        try:
            candidate = json.loads(context).get("requestId")
        except (ValueError, AttributeError):
            candidate = None
        # Only a plain token goes into the logs: the header is client-settable locally.
        if isinstance(candidate, str) and _SAFE_REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


def _error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    details: list[dict[str, str]] | None = None,
) -> JSONResponse:
    if status_code < 500:
        rejected(code)
    if status_code == 503:
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    body = ErrorBody(
        error=code,
        message=message,
        request_id=getattr(request.state, "request_id", None),
        details=details,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=headers
    )


# The edge's one mapping from the domain's errors to HTTP.
_DOMAIN_STATUS: dict[type[UploadError], int] = {
    InvalidUploadError: 400,
    NotFoundError: 404,
    QuotaExceededError: 403,
    ConflictError: 409,
    FileTooLargeError: 413,
    StorageUnavailableError: 503,
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UploadError)
    async def domain_error(request: Request, error: UploadError) -> JSONResponse:
        return _error_response(request, _DOMAIN_STATUS[type(error)], error.code, error.message)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error_response(
            request,
            error.status_code,
            error.code,
            error.message,
            headers=error.headers,
            details=error.details,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        details = validation_details(error.errors())
        return _error_response(
            request, 422, "validation_error", "request does not match the schema", details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _error_response(
            request,
            error.status_code,
            code,
            str(error.detail),
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return _error_response(request, 500, "internal_error", "internal error")
