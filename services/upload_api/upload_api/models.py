"""Request and response bodies (the OpenAPI schema is generated from these)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

MAX_COMMENT_CHARS = 1000
MAX_FILE_NAME_CHARS = 1024


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    file_name: str = Field(
        min_length=1, max_length=MAX_FILE_NAME_CHARS, description="Original file name."
    )
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    file_data: str = Field(
        description="The file, standard padded Base64; may be wrapped at 64 or 76 characters "
        "with LF or CRLF line breaks, as `base64` and `openssl base64` print it."
    )


class UploadResponse(BaseModel):
    message: str = "File uploaded successfully."
    s3_path: str
    file_id: str
    size_bytes: int
    sha256: str
    content_type: str


class FileMetadata(BaseModel):
    file_id: str
    file_name: str
    s3_path: str
    size_bytes: int
    sha256: str
    content_type: str
    comment: str
    status: str
    created_at: str
    updated_at: str
    processed_at: str | None = None
    detected_content_type: str | None = None
    failure_reason: str | None = None


class FileDetail(FileMetadata):
    download_url: str | None = Field(
        default=None,
        description="Only for a PROCESSED file, and pinned to the object version the "
        "malware scan cleared: a file that has not passed verification is never handed out.",
    )
    download_url_expires_in: int | None = None


class FileList(BaseModel):
    items: list[FileMetadata]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last."
    )


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code.")
    message: str
    request_id: str | None = None
    details: list[dict[str, str]] | None = None


class DirectUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(
        min_length=1, max_length=MAX_FILE_NAME_CHARS, description="Original file name."
    )
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    size_bytes: StrictInt = Field(ge=0, description="The file's exact size.")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the whole file, hex.")


class PartUrl(BaseModel):
    part_number: int
    url: str


class UploadInstructions(BaseModel):
    method: Literal["PUT", "MULTIPART"]
    url: str | None = Field(default=None, description="PUT: where the bytes go.")
    headers: dict[str, str] | None = Field(
        default=None, description="PUT: every header to send, exactly; the URL signs them."
    )
    part_size: int | None = Field(
        default=None, description="MULTIPART: bytes per part; the last part holds the rest."
    )
    parts: list[PartUrl] | None = Field(
        default=None, description="MULTIPART: one PUT URL per part still to send."
    )


class DirectUploadResponse(BaseModel):
    file_id: str
    status: str
    s3_path: str
    upload: UploadInstructions
    expires_at: str = Field(
        description="When the URLs expire (minutes from now); GET .../parts signs fresh part "
        "URLs. A single PUT not sent by then is aborted (DELETE) and started again."
    )


class ReceivedPart(BaseModel):
    part_number: int
    etag: str
    size_bytes: int


class PartsResponse(BaseModel):
    file_id: str
    part_size: int
    parts_received: list[ReceivedPart]
    upload: UploadInstructions
    expires_at: str


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: StrictInt = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=128)


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] | None = Field(
        default=None,
        max_length=10_000,
        description="Multipart: every part with the ETag S3 returned. Omit for a single PUT.",
    )
