"""Request and response bodies (the OpenAPI schema is generated from these)."""

from pydantic import BaseModel, ConfigDict, Field

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
    download_url: str
    download_url_expires_in: int


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
