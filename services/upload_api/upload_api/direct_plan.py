"""How a direct upload's bytes travel to S3: one PUT, or parts, and the arithmetic of the parts.

Pure: no AWS call, no clock. direct_uploads.py does the I/O with what this plans.
"""

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from upload_api.core.domain import FileTooLargeError

MIB = 1024 * 1024
GIB = 1024 * MIB
# S3's own limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most
# 10,000 of them, and at most 5 GiB in one PUT.
S3_MIN_PART_BYTES = 5 * MIB
S3_MAX_PARTS = 10_000
S3_MAX_PUT_BYTES = 5 * GIB
SINGLE = "PUT"
MULTIPART = "MULTIPART"


@dataclass(frozen=True)
class UploadPlan:
    """How a file of `size_bytes` travels: one PUT, or parts of `part_size` (the last smaller)."""

    method: str
    size_bytes: int
    part_size: int

    @property
    def part_count(self) -> int:
        return max(1, math.ceil(self.size_bytes / self.part_size))

    @property
    def part_numbers(self) -> range:
        """Every part's number, 1 to part_count, as S3 numbers them."""
        return range(1, self.part_count + 1)

    def part_bytes(self, part_number: int) -> int:
        """Size of part `part_number` (1-based): every part is part_size, but the last."""
        return min(self.part_size, self.size_bytes - (part_number - 1) * self.part_size)

    def missing_parts(self, received: Collection[int]) -> list[int]:
        """The numbers of the parts not among `received`, in order."""
        return [number for number in self.part_numbers if number not in received]


def plan_upload(
    size_bytes: int, *, single_put_max_bytes: int, part_bytes: int, max_bytes: int
) -> UploadPlan:
    """One PUT up to the threshold, else the smallest whole-MiB part size from `part_bytes` up
    that keeps the file within S3's 10,000 parts."""
    if size_bytes > max_bytes:
        raise FileTooLargeError(
            "file_too_large", f"size_bytes {size_bytes} exceeds the limit of {max_bytes} bytes"
        )
    if size_bytes <= single_put_max_bytes:
        return UploadPlan(SINGLE, size_bytes, max(size_bytes, 1))
    needed = math.ceil(size_bytes / S3_MAX_PARTS)
    part_size = max(part_bytes, math.ceil(needed / MIB) * MIB)
    return UploadPlan(MULTIPART, size_bytes, part_size)


def parts_match(claimed: Sequence[tuple[int, str]], received_etags: Mapping[int, str]) -> bool:
    """Whether the client's list names every part S3 received exactly once, each with the
    ETag S3 returned for it (its quotes aside)."""
    numbers = [number for number, _ in claimed]
    return len(set(numbers)) == len(numbers) and {
        number: etag.strip('"') for number, etag in claimed
    } == {number: etag.strip('"') for number, etag in received_etags.items()}
