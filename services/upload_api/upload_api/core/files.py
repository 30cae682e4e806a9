"""Pure helpers for the uploaded bytes and their names: no AWS, no web framework."""

import base64
import binascii
import mimetypes
import re
import string
import unicodedata

import filetype
import pybase64

from upload_api.core.domain import FileTooLargeError, InvalidUploadError

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
    extension kept, in NFC. An empty result is a 400.

    The result sanitises to itself: the services derive an object's key from
    the stored name and refuse an item whose name is not such a fixed point.
    One step can undo another (a format character removed from between a
    letter and its combining mark leaves a string that is no longer NFC), so
    the steps repeat until nothing changes; each pass only shortens or keeps
    the name, and a few always suffice.
    """
    name = raw
    for _ in range(_MAX_PASSES):
        again = _sanitise_once(name)
        if again == name:
            return name
        name = again
    raise InvalidUploadError("invalid_file_name", "file_name has no stable safe form")


_MAX_PASSES = 8


def _sanitise_once(raw: str) -> str:
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "C":  # control, format, surrogate, private use, unassigned
            continue
        if category[0] in "LMN" or char in _ALLOWED_PUNCTUATION:
            kept.append(char)
        else:
            kept.append("_")
    name = _UNDERSCORE_RUNS.sub(
        "_", _DOT_RUNS.sub(".", unicodedata.normalize("NFC", "".join(kept)))
    )
    name = name.lstrip(". ").rstrip(". ")
    name = _truncate_utf8(name, MAX_NAME_BYTES)
    if not name.strip("._ "):
        raise InvalidUploadError("invalid_file_name", "file_name has no usable characters")
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


# Line lengths of the wrapped Base64 people paste: `openssl base64` and PEM (64),
# GNU `base64` and MIME (76). Any other wrapping is refused.
WRAP_WIDTHS = (64, 76)
MAX_LINE_BREAK_BYTES = 4  # "\r\n" as a JSON escape
_STANDARD_ALPHABET = frozenset((string.ascii_letters + string.digits + "+/=").encode())
_DATA_URL = re.compile(rb"^data:[^,]{0,200};base64,")
_NAMED_BYTES = {0x20: "a space", 0x09: "a tab", 0x0A: "a line break", 0x0D: "a carriage return"}


def unwrap_base64(text: str) -> str:
    """Base64 without its line wrapping, if it is wrapped the way base64 tools wrap it.

    Accepted: lines of 64 or 76 characters (every line but the last exactly
    that long) separated by one kind of line break, LF or CRLF, with at most
    one trailing break, as `base64` and `openssl base64` print them. Anything
    else with a line break is a 400 that says what is wrong.
    """
    if "\n" not in text and "\r" not in text:
        return text
    separator = "\r\n" if "\r\n" in text else "\n"
    body = text.removesuffix(separator)
    lines = body.split(separator)
    # One line (a short file, printed with base64's final line break) has no width yet.
    width = len(lines[0]) if len(lines) > 1 else max(WRAP_WIDTHS)
    wrapped = (
        width in WRAP_WIDTHS
        and all(len(line) == width for line in lines[:-1])
        and 0 < len(lines[-1]) <= width
        and not any("\r" in line or "\n" in line for line in lines)
    )
    if not wrapped:
        raise InvalidUploadError(
            "invalid_base64",
            "file_data has line breaks that are not Base64 line wrapping: lines must all be "
            f"{' or '.join(map(str, WRAP_WIDTHS))} characters (the last may be shorter), "
            "separated by LF or CRLF",
        )
    return "".join(lines)


def _base64_problem(raw: bytes) -> str:
    """Why `raw` is not canonical padded standard Base64, in words a person can act on."""
    if _DATA_URL.match(raw):
        return (
            "file_data starts with a data URL prefix (data:...;base64,): "
            "send only the Base64 text after the comma"
        )
    for position, byte in enumerate(raw):
        if byte not in _STANDARD_ALPHABET:
            shown = _NAMED_BYTES.get(byte) or (
                repr(chr(byte)) if 0x21 <= byte < 0x7F else f"byte 0x{byte:02x}"
            )
            hint = "; URL-safe Base64 ('-', '_') is not accepted" if byte in b"-_" else ""
            return (
                f"file_data has {shown} at position {position}, outside the standard "
                f"Base64 alphabet (A-Z a-z 0-9 + / and = padding){hint}"
            )
    stripped = raw.rstrip(b"=")
    if b"=" in stripped:
        return "file_data has '=' before its end: padding goes only at the end"
    if len(raw) % 4:
        return (
            f"file_data is {len(raw)} characters, not a multiple of 4: "
            "Base64 must be padded with '='"
        )
    return "file_data is not valid padded Base64"


def decode_base64_strict(raw: str | bytes, max_bytes: int) -> bytes:
    """Decode canonical, padded standard Base64 or raise InvalidUploadError / FileTooLargeError.

    Takes the text as it came (no ASCII copy of a multi-MB string first); in bytes,
    non-ASCII characters are expected already replaced by '?', which fails the
    alphabet check.
    """
    if len(raw) > encoded_length(max_bytes):
        raise FileTooLargeError(
            "file_too_large",
            f"file_data decodes to more than the {max_bytes}-byte limit",
        )
    if len(raw) % 4:
        raise InvalidUploadError("invalid_base64", _base64_problem(_ascii(raw)))
    try:
        # validate=True refuses anything outside the standard alphabet, whitespace
        # included, and '=' anywhere but at the end; pybase64 is the stdlib's
        # decoder in SIMD (ValueError: a str with non-ASCII characters).
        data = pybase64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidUploadError("invalid_base64", _base64_problem(_ascii(raw))) from error
    # Only the last quantum can carry stray bits next to the padding; re-encoding
    # it rejects non-canonical forms, so one file has exactly one accepted encoding.
    tail = len(data) % 3 or 3
    if data and base64.b64encode(data[-tail:]) != _ascii(raw[-4:]):
        raise InvalidUploadError("invalid_base64", "file_data is not canonical Base64")
    if not data:
        raise InvalidUploadError("empty_file", "file_data decodes to an empty file")
    if len(data) > max_bytes:
        raise FileTooLargeError(
            "file_too_large",
            f"file is {len(data)} bytes; the limit is {max_bytes} bytes",
        )
    return data


def _ascii(raw: str | bytes) -> bytes:
    return raw.encode("ascii", errors="replace") if isinstance(raw, str) else raw


def detect_content_type(data: bytes, file_name: str) -> str:
    """The type the bytes say (magic numbers), else the extension's, else octet-stream."""
    sniffed = filetype.guess_mime(data[:8192])
    if sniffed:
        return str(sniffed)
    return guess_content_type(file_name)


def guess_content_type(file_name: str) -> str:
    """The type the name's extension says, else octet-stream: for when there are no bytes yet."""
    guessed, _ = mimetypes.guess_type(file_name, strict=True)
    return guessed or DEFAULT_CONTENT_TYPE
