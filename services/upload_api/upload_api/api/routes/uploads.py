"""POST /upload, GET /uploads, GET and DELETE /uploads/{file_id}: every route acts for the
caller only; another user's file is not found."""

import io
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from upload_api.api.deps import (
    CurrentUser,
    DirectUploadServiceDep,
    SettingsDep,
    UploadServiceDep,
)
from upload_api.api.responses import ERROR_RESPONSES, metadata
from upload_api.core.config import Settings
from upload_api.core.domain import FileTooLargeError, NotFoundError
from upload_api.core.errors import ApiError, validation_details
from upload_api.core.files import (
    MAX_LINE_BREAK_BYTES,
    WRAP_WIDTHS,
    decode_base64_strict,
    encoded_length,
    unwrap_base64,
)
from upload_api.dynamodb_items import MAX_CURSOR_CHARS
from upload_api.models import (
    MAX_COMMENT_CHARS,
    MAX_FILE_NAME_CHARS,
    FileDetail,
    FileList,
    UploadRequest,
    UploadResponse,
)
from upload_contract import Status

router = APIRouter(tags=["uploads"])

# Room for the JSON around file_data: a 1,024-char name and a 1,000-char comment,
# each fully escaped (12 bytes for a character outside the BMP, a surrogate pair
# of \u escapes), plus keys, punctuation and whitespace.
_JSON_ENVELOPE_BYTES = (MAX_FILE_NAME_CHARS + MAX_COMMENT_CHARS) * 12 + 4096


def _larger_files_hint(settings: Settings) -> str:
    """Where a file too large for POST /upload goes: the refusal says so."""
    return (
        "larger files go through POST /uploads, a direct upload to S3 of up to "
        f"{settings.max_direct_upload_bytes} bytes; "
        "`make upload` (python -m upload_client) picks the path by size"
    )


async def _read_capped_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it cannot hold a file within the limit."""
    too_large = ApiError(
        413, "payload_too_large", f"request body exceeds {limit} bytes for the upload limit"
    )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large
    # One buffer grown in place (realloc), handed over by getvalue() as the bytes
    # pydantic parses without a copy: a bytearray would need one more full copy
    # into bytes (pydantic copies a bytearray first), a list of chunks a join.
    body = io.BytesIO()
    async for chunk in request.stream():
        if body.tell() + len(chunk) > limit:
            raise too_large
        body.write(chunk)
    return body.getvalue()


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadResponse,
    responses=ERROR_RESPONSES,
    summary="Upload a Base64-encoded file",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": UploadRequest.model_json_schema()}},
        }
    },
)
async def upload(
    request: Request, user: CurrentUser, settings: SettingsDep, service: UploadServiceDep
) -> UploadResponse:
    content_type = request.headers.get("content-type", "application/json")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the upload as application/json")
    limit = body_limit(settings.max_upload_bytes)
    hint = _larger_files_hint(settings)
    try:
        body = await _read_capped_body(request, limit)
    except ApiError as too_large:  # the only error it raises
        raise ApiError(413, too_large.code, f"{too_large.message}; {hint}") from too_large
    payload = parse_upload_request(body)
    # A 4 MiB file exists as body, text and decoded bytes in turn; dropping each
    # copy once the next exists keeps peak memory under 3x the file.
    del body
    file_name, comment = payload.file_name, payload.comment
    encoded = unwrap_base64(payload.file_data)
    del payload
    try:
        data = decode_base64_strict(encoded, settings.max_upload_bytes)
    except FileTooLargeError as error:
        raise FileTooLargeError(error.code, f"{error.message}; {hint}") from error
    del encoded
    stored = await run_in_threadpool(service.create, user.sub, file_name, comment, data)
    item = stored.item
    return UploadResponse(
        s3_path=stored.s3_path,
        file_id=item["file_id"],
        size_bytes=item["size_bytes"],
        sha256=item["sha256"],
        content_type=item["content_type"],
    )


@router.get("/uploads", response_model=FileList, responses=ERROR_RESPONSES, summary="List my files")
async def list_uploads(
    user: CurrentUser,
    service: UploadServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    # The length is checked with the rest of the cursor, so a long one is a 400
    # invalid_cursor like any other bad cursor; the schema still documents it.
    cursor: Annotated[
        str | None,
        Query(
            description="`next_cursor` from the previous page.",
            json_schema_extra={"maxLength": MAX_CURSOR_CHARS},
        ),
    ] = None,
) -> FileList:
    files, next_cursor = await run_in_threadpool(service.list, user.sub, limit, cursor)
    return FileList(items=[metadata(stored) for stored in files], next_cursor=next_cursor)


@router.get(
    "/uploads/{file_id}",
    response_model=FileDetail,
    response_model_exclude_none=True,
    responses=ERROR_RESPONSES,
    summary="One of my files, with its status and, once PROCESSED, a short-lived download URL "
    "of the scanned version",
)
async def get_upload(
    file_id: str, user: CurrentUser, settings: SettingsDep, service: UploadServiceDep
) -> FileDetail:
    stored = await run_in_threadpool(service.get, user.sub, file_id)
    detail = FileDetail.model_validate(metadata(stored).model_dump())
    # Only a file that passed verification is handed out, and only the version the
    # malware scan cleared; until then, or when it failed, the caller gets its
    # status and no way to fetch the bytes.
    if stored.item["status"] == Status.PROCESSED:
        url = await run_in_threadpool(service.download_url, stored)
        if url is not None:
            detail.download_url = url
            detail.download_url_expires_in = settings.presigned_url_ttl_seconds
    return detail


@router.delete(
    "/uploads/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERROR_RESPONSES,
    summary="Delete one of my files (every version of its bytes), or abort a pending upload",
)
async def delete_upload(
    file_id: str,
    user: CurrentUser,
    service: UploadServiceDep,
    direct: DirectUploadServiceDep,
    pending_only: Annotated[
        bool,
        Query(
            description="Only abort a pending upload: once it has completed (it is a file), "
            "404 and the file is left as it is. What a client that cancels sends, so that a "
            "complete whose answer it never saw is not undone."
        ),
    ] = False,
) -> None:
    if await run_in_threadpool(direct.abort, user.sub, file_id):
        return
    if pending_only:
        raise NotFoundError("not_found", "no pending upload with this id")
    await run_in_threadpool(service.delete, user.sub, file_id)


def body_limit(max_upload_bytes: int) -> int:
    """The largest body that can hold a valid upload: wrapped Base64 plus the JSON around it."""
    encoded = encoded_length(max_upload_bytes)
    line_breaks = -(-encoded // min(WRAP_WIDTHS)) * MAX_LINE_BREAK_BYTES
    return encoded + line_breaks + _JSON_ENVELOPE_BYTES


def parse_upload_request(body: bytes) -> UploadRequest:
    """The request, from strict JSON or from JSON whose strings hold raw line breaks.

    `curl -d '{..."file_data": "'"$(base64 file)"'"}'` puts base64's line breaks
    into the JSON string unescaped. Only file_data may carry them (and only as
    Base64 line wrapping, checked later); any other raw control character is
    refused with the field it is in.
    """
    try:
        return UploadRequest.model_validate_json(body)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        if not any(problem["type"] == "json_invalid" for problem in problems):
            raise _invalid_body(problems) from error
    try:
        document = json.loads(body, strict=False)
    except (ValueError, RecursionError) as error:
        raise _invalid_body(problems) from error
    if isinstance(document, dict):
        for field, value in document.items():
            if field == "file_data" or not isinstance(value, str):
                continue
            control = next((c for c in value if ord(c) < 0x20 or c == "\x7f"), None)
            if control is not None:
                raise ApiError(
                    400,
                    "invalid_json",
                    f"{field} contains the raw control character U+{ord(control):04X}; "
                    "JSON strings must escape control characters",
                )
    try:
        return UploadRequest.model_validate(document)
    except ValidationError as error:
        raise _invalid_body(error.errors(include_url=False, include_input=False)) from error


def _invalid_body(problems: Sequence[Mapping[str, Any]]) -> ApiError:
    if any(problem["type"] == "json_invalid" for problem in problems):
        return ApiError(400, "invalid_json", "request body is not valid JSON")
    return ApiError(
        422,
        "validation_error",
        "request body does not match the schema",
        details=validation_details(problems),
    )
