"""The processor's rules: pure functions over the file's metadata and its bytes.

No AWS, no logging, no Lambda: service.py reads the object and writes the
outcome (the I/O edge) and calls these, so every rule can be property-tested
without moto. Adding a check is adding a function to `DEFAULT_CHECKS`.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import filetype

OCTET_STREAM: Final = "application/octet-stream"

# filetype looks at most at the first 8 KiB (its own signature window).
SNIFF_BYTES: Final = 8192

# Types the bytes cannot prove; a UTF-8 body is the best confirmation there is.
_TEXT_LIKE_TYPES: Final = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/x-yaml",
        "application/yaml",
        "application/csv",
        "application/sql",
        "application/x-ndjson",
        "application/rtf",
        "application/toml",
        "application/x-tex",
        "application/x-latex",
    }
)

# Byte order marks, longest first: UTF-32-LE's starts with UTF-16-LE's.
_BYTE_ORDER_MARKS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# What single-byte legacy text (Latin-1 / Windows-1252) is made of: printable
# ASCII, the layout controls tab, line feed, form feed and carriage return, and
# every high byte Windows-1252 assigns a character (not 81, 8D, 8F, 90, 9D).
# No other control byte and no NUL: binary data has them within a few bytes.
_LEGACY_TEXT_BYTES: Final = frozenset(
    {0x09, 0x0A, 0x0C, 0x0D}
    | set(range(0x20, 0x7F))
    | (set(range(0x80, 0x100)) - {0x81, 0x8D, 0x8F, 0x90, 0x9D})
)

# Spellings that name the same format.
_ALIASES: Final = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-gzip": "application/gzip",
    "application/x-zip-compressed": "application/zip",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
}


@dataclass(frozen=True)
class UploadedFile:
    """The fields of the metadata item the processor needs (from the stream's NewImage)."""

    file_id: str
    bucket: str
    s3_key: str
    size_bytes: int
    sha256: str
    content_type: str
    # What the object's key derives from; bucket and s3_key above are only compared
    # with it. Empty ones derive no key, so the service refuses the file unread.
    owner: str = ""
    file_name: str = ""


@dataclass(frozen=True)
class ObjectFacts:
    """What S3 says about the stored object, gathered once for all checks."""

    size_bytes: int
    sha256: str
    head: bytes
    detected_content_type: str


# A check returns None when the file passes, else a human-readable failure reason.
Check = Callable[[UploadedFile, ObjectFacts], str | None]


def check_size(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if facts.size_bytes != file.size_bytes:
        return f"size mismatch: item says {file.size_bytes} bytes, object has {facts.size_bytes}"
    return None


def check_sha256(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if facts.sha256 != file.sha256.lower():
        return f"sha256 mismatch: item says {file.sha256}, object hashes to {facts.sha256}"
    return None


def check_content_type(file: UploadedFile, facts: ObjectFacts) -> str | None:
    if not content_types_agree(file.content_type, facts.detected_content_type):
        return (
            f"content type mismatch: declared {file.content_type}, "
            f"bytes say {facts.detected_content_type}"
        )
    return None


DEFAULT_CHECKS: Final[tuple[Check, ...]] = (check_size, check_sha256, check_content_type)


def normalise_type(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def is_text_like(content_type: str) -> bool:
    base = normalise_type(content_type)
    return (
        base.startswith("text/")
        or base in _TEXT_LIKE_TYPES
        or base.endswith("+json")
        or base.endswith("+xml")
    )


def text_encoding(head: bytes, *, truncated: bool) -> str | None:
    """The encoding `head` reads as text in, or None when it is not text.

    In order: UTF-32 / UTF-16 / UTF-8 announced by a byte order mark; UTF-8
    without one; single-byte legacy text (Latin-1 / Windows-1252). Text never
    holds U+0000, so NUL bytes pass only as part of UTF-16/32 code units after
    their BOM. A character cut at the end of a truncated window is allowed.
    """
    for bom, encoding in _BYTE_ORDER_MARKS:
        # FF FE 00 00 is UTF-32-LE's mark or UTF-16-LE's followed by U+0000: try both.
        if head.startswith(bom) and _decodes(head[len(bom) :], encoding, truncated=truncated):
            return encoding
    if _decodes(head, "utf-8", truncated=truncated):
        return "utf-8"
    if _LEGACY_TEXT_BYTES.issuperset(head):
        return "windows-1252"
    return None


def looks_like_text(head: bytes, *, truncated: bool) -> bool:
    """Unicode text (UTF-8, or UTF-8/16/32 with a BOM) without U+0000, or legacy 8-bit text."""
    return text_encoding(head, truncated=truncated) is not None


def _decodes(data: bytes, encoding: str, *, truncated: bool) -> bool:
    # The incremental decoder keeps an incomplete sequence at the end for more
    # input instead of failing, which is what a truncated window needs.
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(data, final=not truncated)
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def detect_content_type(head: bytes, declared: str, *, truncated: bool) -> str:
    """Magic numbers first; for formats without them, confirm text-like types from the bytes."""
    sniffed = filetype.guess_mime(head) if head else None
    if sniffed:
        return str(sniffed)
    if looks_like_text(head, truncated=truncated):
        return normalise_type(declared) if is_text_like(declared) else "text/plain"
    return OCTET_STREAM


def content_types_agree(declared: str, detected: str) -> bool:
    declared_n, detected_n = normalise_type(declared), normalise_type(detected)
    if declared_n == detected_n:
        return True
    if detected_n == OCTET_STREAM:
        # Unknown binary: the bytes cannot contradict a binary type, only a text one.
        return not is_text_like(declared_n)
    if detected_n == "text/plain":
        # Text under a generic binary label is harmless; under an image label it is not.
        return declared_n == OCTET_STREAM
    # Magic numbers found: they must match (octet-stream claims nothing).
    return declared_n == OCTET_STREAM
