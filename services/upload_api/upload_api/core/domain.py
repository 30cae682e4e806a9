"""Errors of the upload domain: what went wrong, in the domain's words, with no HTTP in it.

The web edge (upload_api.main) maps each kind to its HTTP status; the domain
code (core/files.py, service.py) raises these and knows nothing of HTTP.
"""


class UploadError(Exception):
    """A refusal the caller can act on: a stable machine code and a human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidUploadError(UploadError):
    """The request names or carries something this service cannot accept."""


class FileTooLargeError(UploadError):
    """The decoded file is over the limit."""


class NotFoundError(UploadError):
    """No such file for this caller (another user's file is not found either)."""


class QuotaExceededError(UploadError):
    """The caller's files would exceed their quota of bytes or files."""


class ConflictError(UploadError):
    """The request does not fit the upload's current state (not all bytes yet, already done)."""


class StorageUnavailableError(UploadError):
    """S3 or DynamoDB failed; nothing was half-written. Retry later."""
