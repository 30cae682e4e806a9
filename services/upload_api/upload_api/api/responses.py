"""What the routes answer with besides their own bodies: the error shapes and a file's metadata."""

from typing import Any

from upload_api.models import ErrorBody, FileMetadata
from upload_api.storage import StoredFile

# The error shape as a ready schema rather than `"model": ErrorBody`: FastAPI would
# build a validator for every route and status code of it at import, most of the
# app's own import time, to document a body it never validates.
_ERROR_CONTENT = {"application/json": {"schema": ErrorBody.model_json_schema()}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"content": _ERROR_CONTENT} for code in (400, 401, 404, 413, 415, 422)
}
ERROR_RESPONSES[503] = {
    "description": "AWS is throttling (`throttled`) or failing (`service_unavailable`) "
    "this service's calls. Safe to retry after Retry-After seconds: a failed upload "
    "leaves nothing written, a retried DELETE finishes the first.",
    "content": _ERROR_CONTENT,
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def metadata(stored: StoredFile) -> FileMetadata:
    fields = {name: stored.item.get(name) for name in FileMetadata.model_fields}
    return FileMetadata.model_validate({**fields, "s3_path": stored.s3_path})
