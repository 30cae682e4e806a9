"""Pure helpers for the uploaded bytes and their names: no AWS, no web framework."""

import base64
import binascii
import mimetypes
import re
import unicodedata

import filetype

from upload_api.core.errors import ApiError

# Keys are uploads/<sub>/<file_id>/<name>: 200 bytes of name keeps the whole key
# far below S3's 1,024-byte limit whatever the sub.
MAX_NAME_BYTES = 200
_ALLOWED_PUNCTUATION = frozenset("-_.+=@,() ")
_DOT_RUNS = re.compile(r"\.{2,}")
_UNDERSCORE_RUNS = re.compile(r"_{2,}")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def sanitise_file_name(raw: str) -> str:
    """Reduce a client-supplied name to one safe path segment.

    Only the last path component is kept; control and format characters go,
    anything that is not a letter, mark, digit or harmless punctuation becomes
    '_', dot runs collapse (so '..' cannot survive), leading dots and blanks are
    stripped, and the result is capped to MAX_NAME_BYTES of UTF-8 with the
    extension kept. An empty result is a 400.
    """
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "C":  # control, format, surrogate, private use, unassigned
            continue
        if category[0] in "LMN" or char in _ALLOWED_PUNCTUATION:
            kept.append(char)
        else:
            kept.append("_")
    name = _UNDERSCORE_RUNS.sub("_", _DOT_RUNS.sub(".", "".join(kept)))
    name = name.lstrip(". ").rstrip(". ")
    name = _truncate_utf8(name, MAX_NAME_BYTES)
    if not name.strip("._ "):
        raise ApiError(400, "invalid_file_name", "file_name has no usable characters")
    return name


def _truncate_utf8(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    budget = limit - len(suffix.encode())
    encoded = stem.encode()[:budget]
    # Drop a multi-byte character cut in half by the byte slice.
    stem = encoded.decode(errors="ignore").rstrip(". ")
    return f"{stem}{suffix}"


def encoded_length(decoded_size: int) -> int:
    """Length of the padded Base64 text for `decoded_size` bytes."""
    return 4 * ((decoded_size + 2) // 3)


def decode_base64_strict(raw: bytes, max_bytes: int) -> bytes:
    """Decode canonical, padded standard Base64 or raise a 4xx ApiError.

    Takes bytes (non-ASCII characters already replaced by '?', which fails the
    alphabet check) so the caller can drop its text copy before decoding.
    """
    if len(raw) > encoded_length(max_bytes):
        raise ApiError(
            413,
            "file_too_large",
            f"file_data decodes to more than the {max_bytes}-byte limit",
        )
    if len(raw) % 4:
        raise ApiError(400, "invalid_base64", "file_data is not valid padded Base64")
    try:
        # validate=True refuses anything outside the standard alphabet, whitespace
        # included, and '=' anywhere but at the end.
        data = base64.b64decode(raw, validate=True)
    except binascii.Error as error:
        raise ApiError(400, "invalid_base64", "file_data is not valid padded Base64") from error
    # Only the last quantum can carry stray bits next to the padding; re-encoding
    # it rejects non-canonical forms, so one file has exactly one accepted encoding.
    tail = len(data) % 3 or 3
    if data and base64.b64encode(data[-tail:]) != raw[-4:]:
        raise ApiError(400, "invalid_base64", "file_data is not canonical Base64")
    if not data:
        raise ApiError(400, "empty_file", "file_data decodes to an empty file")
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "file_too_large",
            f"file is {len(data)} bytes; the limit is {max_bytes} bytes",
        )
    return data


def detect_content_type(data: bytes, file_name: str) -> str:
    """The type the bytes say (magic numbers), else the extension's, else octet-stream."""
    sniffed = filetype.guess_mime(data[:8192])
    if sniffed:
        return str(sniffed)
    guessed, _ = mimetypes.guess_type(file_name, strict=True)
    return guessed or DEFAULT_CONTENT_TYPE
