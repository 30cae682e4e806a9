"""The upload API: `uvicorn --factory upload_api.main:create_app` (Lambda Web Adapter or local)."""

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from upload_api.api.routes import health, uploads
from upload_api.core.config import Settings, get_settings
from upload_api.core.errors import ApiError
from upload_api.core.logging import logger
from upload_api.models import ErrorBody

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9=_-]{1,64}")


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Secure upload API",
        version="1.0.0",
        description="Authenticated file uploads to S3 with metadata in DynamoDB.",
    )
    app.state.settings = settings or get_settings()
    app.include_router(health.router)
    app.include_router(uploads.router)
    _install_error_handlers(app)
    app.middleware("http")(_request_context)
    return app


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = _request_id(request)
    request.state.request_id = request_id
    # Context-local keys: concurrent requests never see each other's id.
    logger.thread_safe_append_keys(request_id=request_id)
    started = time.perf_counter()
    response = await call_next(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    logger.info(
        "request",
        extra={
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    logger.thread_safe_remove_keys(["request_id"])
    return response


def _request_id(request: Request) -> str:
    """API Gateway's request id (forwarded by the Lambda Web Adapter), else a fresh one."""
    context = request.headers.get("x-amzn-request-context")
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
    body = ErrorBody(
        error=code,
        message=message,
        request_id=getattr(request.state, "request_id", None),
        details=details,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
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
        details = [
            {"field": ".".join(str(part) for part in problem["loc"]), "problem": problem["msg"]}
            for problem in error.errors()
        ]
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
