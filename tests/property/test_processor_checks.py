"""Properties of the processor's pure checks and content-type rules."""

from __future__ import annotations

import codecs
import hashlib
from datetime import UTC, datetime, timedelta

import filetype
from hypothesis import assume, example, given
from hypothesis import strategies as st

from processor.rules import (
    DEFAULT_CHECKS,
    SNIFF_BYTES,
    ObjectFacts,
    UploadedFile,
    check_content_type,
    check_sha256,
    check_size,
    content_types_agree,
    detect_content_type,
    looks_like_text,
)
from tests.support.strategies import encoded_texts
from upload_contract import timestamp

TEXT_TYPES = st.sampled_from(
    ["text/plain", "text/csv", "text/markdown", "application/json", "image/svg+xml"]
)


def facts_for(data: bytes, declared: str) -> tuple[UploadedFile, ObjectFacts]:
    head = data[:8192]
    detected = detect_content_type(head, declared, truncated=len(data) > len(head))
    file = UploadedFile(
        "id", "bucket", "key", len(data), hashlib.sha256(data).hexdigest(), declared
    )
    return file, ObjectFacts(len(data), hashlib.sha256(data).hexdigest(), head, detected)


@given(st.binary(max_size=20_000))
def test_an_untouched_octet_stream_passes_every_check(data: bytes) -> None:
    file, facts = facts_for(data, "application/octet-stream")
    assert [check(file, facts) for check in DEFAULT_CHECKS] == [None, None, None]


@given(st.binary(max_size=2_000), st.integers(min_value=1, max_value=10**9))
def test_any_size_difference_fails(data: bytes, delta: int) -> None:
    file, facts = facts_for(data, "application/octet-stream")
    claimed = UploadedFile(**{**file.__dict__, "size_bytes": file.size_bytes + delta})
    assert check_size(claimed, facts) is not None


@given(st.binary(max_size=2_000), st.binary(min_size=1, max_size=64))
def test_any_other_content_fails_the_hash(data: bytes, extra: bytes) -> None:
    file, _ = facts_for(data, "application/octet-stream")
    _, other = facts_for(data + extra, "application/octet-stream")
    assert check_sha256(file, other) is not None


@given(st.text(max_size=5_000).filter(lambda t: "\x00" not in t), TEXT_TYPES)
def test_text_under_a_text_type_is_confirmed(text: str, declared: str) -> None:
    data = text.encode()
    assume(filetype.guess_mime(data[:8192]) is None)
    _file, facts = facts_for(data, declared)
    assert content_types_agree(declared, facts.detected_content_type)


@given(st.text(min_size=1, max_size=3_000).filter(lambda t: "\x00" not in t), st.data())
def test_text_cut_anywhere_in_a_truncated_window_still_looks_like_text(
    text: str, data: st.DataObject
) -> None:
    encoded = text.encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded)))
    assert looks_like_text(encoded[:cut], truncated=True)


@given(encoded_texts, st.sampled_from(["text/plain", "text/csv", "text/markdown"]))
@example(("latin-1", "caf\xe9".encode("latin-1")), "text/plain")
@example(("utf-16", "a,b\n".encode("utf-16")), "text/csv")
@example(("utf-16", ("\U0001f600" * 2048).encode("utf-16")), "text/plain")  # window cuts a pair
@example(("latin-1", "\xff\xfeabc".encode("latin-1")), "text/plain")  # "ÿþ": a UTF-16 BOM
def test_text_in_the_encodings_editors_save_is_text(
    sample: tuple[str, bytes], declared: str
) -> None:
    encoding, data = sample
    head = data[:SNIFF_BYTES]
    assert looks_like_text(data, truncated=False), encoding
    assert looks_like_text(head, truncated=len(data) > len(head)), encoding
    assume(filetype.guess_mime(head) is None)  # e.g. text that starts "BM" reads as a bitmap
    file, facts = facts_for(data, declared)
    assert facts.detected_content_type == declared
    assert check_content_type(file, facts) is None


@given(st.binary(max_size=2_000), st.binary(max_size=2_000))
def test_nul_bytes_without_a_utf16_or_utf32_bom_are_never_text(before: bytes, after: bytes) -> None:
    data = before + b"\x00" + after
    # The UTF-32 marks start with FF FE or hold NULs themselves.
    assume(not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)))
    assert not looks_like_text(data, truncated=False)
    assert not looks_like_text(data, truncated=True)


@given(st.binary(max_size=2_000), TEXT_TYPES)
def test_a_png_is_never_confirmed_as_text(rest: bytes, declared: str) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rest
    file, facts = facts_for(data, declared)
    assert facts.detected_content_type == "image/png"
    assert check_content_type(file, facts) is not None


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1)),
    st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3650)),
)
def test_timestamps_sort_like_time(moment: datetime, step: timedelta) -> None:
    earlier = moment.replace(tzinfo=UTC)
    assert timestamp(earlier) < timestamp(earlier + step)
    assert timestamp(earlier).endswith("Z")
