"""The emulator takes a multipart upload's full-object checksum part by part: the same
value moto's own builder gives from a copy of the whole object."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.s3.models import MultipartChecksumBuilder

from tests.devstack import emulator

PARTS = st.lists(st.binary(max_size=300), min_size=1, max_size=6)


def _checksum(parts: list[bytes], algorithm: str | None, kind: str | None) -> object:
    builder = MultipartChecksumBuilder(algorithm, kind)
    for part in parts:
        builder.addPart(part)
    return builder.build()


@pytest.mark.parametrize(("algorithm", "kind"), [(None, None), ("CRC32", "FULL_OBJECT")])
@settings(max_examples=40)
@given(parts=PARTS)
def test_the_streamed_checksum_is_moto_s(
    algorithm: str | None, kind: str | None, parts: list[bytes]
) -> None:
    streamed = _checksum(parts, algorithm, kind)
    MultipartChecksumBuilder.addPart = emulator._original_add_part  # type: ignore[method-assign]
    MultipartChecksumBuilder.build = emulator._original_build  # type: ignore[method-assign]
    try:
        assert _checksum(parts, algorithm, kind) == streamed
    finally:
        emulator.install_extensions()


def test_it_is_installed_and_keeps_no_copy_of_the_object() -> None:
    emulator.install_extensions()
    builder = MultipartChecksumBuilder(None, None)
    builder.addPart(b"a" * 1000)
    builder.addPart(b"b" * 10)
    assert len(builder.complete_object) == 0
    crc = binascii.crc32(b"a" * 1000 + b"b" * 10).to_bytes(4, "big")
    assert builder.build() == ("FULL_OBJECT", base64.b64encode(crc).decode(), 1)


def test_composite_checksums_keep_moto_s_way() -> None:
    emulator.install_extensions()
    builder = MultipartChecksumBuilder("SHA256", "COMPOSITE")
    builder.addPart(b"part one")
    assert builder.build() == emulator._original_build(builder)
