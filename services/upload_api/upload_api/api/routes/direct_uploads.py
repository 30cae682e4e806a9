"""Direct-to-S3 uploads for files of any size up to MAX_DIRECT_UPLOAD_BYTES.

POST /uploads, GET /uploads/{file_id}/parts and POST /uploads/{file_id}/complete
(DELETE /uploads/{file_id}, in uploads.py, also aborts a pending one): every
route acts for the caller only; another user's upload is not found.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from starlette.concurrency import run_in_threadpool

from upload_api.api.deps import CurrentUser, DirectUploadServiceDep
from upload_api.api.responses import ERROR_RESPONSES, metadata
from upload_api.direct_uploads import PendingUpload
from upload_api.models import (
    CompleteRequest,
    DirectUploadRequest,
    DirectUploadResponse,
    FileMetadata,
    PartsResponse,
    ReceivedPart,
    UploadInstructions,
)
from upload_contract import Status

router = APIRouter(tags=["direct uploads"])
_RESPONSES = {**ERROR_RESPONSES, 409: ERROR_RESPONSES[400]}


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=DirectUploadResponse,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="Start a direct upload: URLs for the bytes (one PUT, or one per part)",
)
async def start_upload(
    request: DirectUploadRequest, user: CurrentUser, service: DirectUploadServiceDep
) -> DirectUploadResponse:
    pending = await run_in_threadpool(
        service.start,
        user.sub,
        request.file_name,
        request.comment,
        request.size_bytes,
        request.sha256.lower(),
    )
    return _response(pending)


@router.get(
    "/uploads/{file_id}/parts",
    response_model=PartsResponse,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="The parts S3 has received, and fresh URLs for the rest (to resume)",
)
async def list_parts(
    file_id: str, user: CurrentUser, service: DirectUploadServiceDep
) -> PartsResponse:
    parts = await run_in_threadpool(service.parts, user.sub, file_id)
    return PartsResponse(
        file_id=file_id,
        part_size=parts.part_size,
        parts_received=[ReceivedPart(**part) for part in parts.received],
        upload=UploadInstructions(**parts.pending.upload),
        expires_at=parts.pending.expires_at,
    )


@router.post(
    "/uploads/{file_id}/complete",
    response_model=FileMetadata,
    responses=_RESPONSES,
    summary="Complete a direct upload (idempotent): the file is then UPLOADED",
)
async def complete_upload(
    file_id: str,
    user: CurrentUser,
    service: DirectUploadServiceDep,
    request: Annotated[CompleteRequest | None, Body()] = None,
) -> FileMetadata:
    parts = None
    if request is not None and request.parts is not None:
        parts = [(part.part_number, part.etag) for part in request.parts]
    stored = await run_in_threadpool(service.complete, user.sub, file_id, parts)
    return metadata(stored)


def _response(pending: PendingUpload) -> DirectUploadResponse:
    upload: dict[str, Any] = pending.upload
    return DirectUploadResponse(
        file_id=pending.record["file_id"],
        status=Status.PENDING_UPLOAD.value,
        s3_path=pending.s3_path,
        upload=UploadInstructions(**upload),
        expires_at=pending.expires_at,
    )
