"""plan_upload around its thresholds: one PUT or parts that S3 accepts and that add up."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from upload_api.core.domain import FileTooLargeError
from upload_api.direct_plan import (
    GIB,
    MIB,
    MULTIPART,
    S3_MAX_PARTS,
    S3_MAX_PUT_BYTES,
    S3_MIN_PART_BYTES,
    SINGLE,
    plan_upload,
)

SINGLE_MAX = 64 * MIB
PART = 16 * MIB
MAX = 5 * GIB
# S3's own ceiling for one object, to check the part rules past our default limit.
S3_MAX_OBJECT = 5 * 1024 * GIB

sizes = st.one_of(
    st.integers(0, MAX),
    # Densely around every threshold, where off-by-one errors live.
    st.sampled_from([SINGLE_MAX, PART, MAX]).flatmap(
        lambda edge: st.integers(max(0, edge - 2), edge + 2)
    ),
)


@given(size=sizes)
@example(size=0)
@example(size=SINGLE_MAX)
@example(size=SINGLE_MAX + 1)
@example(size=MAX)
def test_a_plan_covers_the_file_exactly_within_s3s_limits(size: int) -> None:
    if size > MAX:
        with pytest.raises(FileTooLargeError):
            plan_upload(size, single_put_max_bytes=SINGLE_MAX, part_bytes=PART, max_bytes=MAX)
        return
    plan = plan_upload(size, single_put_max_bytes=SINGLE_MAX, part_bytes=PART, max_bytes=MAX)

    assert plan.method == (SINGLE if size <= SINGLE_MAX else MULTIPART)
    if plan.method == SINGLE:
        assert size <= S3_MAX_PUT_BYTES
        assert plan.part_count == 1
        return
    parts = [plan.part_bytes(n) for n in range(1, plan.part_count + 1)]
    assert sum(parts) == size
    assert plan.part_count <= S3_MAX_PARTS
    assert all(p == plan.part_size for p in parts[:-1])
    assert 0 < parts[-1] <= plan.part_size
    assert S3_MIN_PART_BYTES <= plan.part_size <= S3_MAX_PUT_BYTES


@given(size=st.integers(SINGLE_MAX + 1, S3_MAX_OBJECT))
@example(size=S3_MAX_OBJECT)
@example(size=PART * S3_MAX_PARTS + 1)
def test_large_files_grow_the_part_size_instead_of_the_part_count(size: int) -> None:
    plan = plan_upload(
        size, single_put_max_bytes=SINGLE_MAX, part_bytes=PART, max_bytes=S3_MAX_OBJECT
    )

    assert plan.part_count <= S3_MAX_PARTS
    assert plan.part_size % MIB == 0
    assert plan.part_size <= S3_MAX_PUT_BYTES
    # The smallest whole-MiB size that fits: one MiB less would need too many parts.
    if plan.part_size > PART:
        assert -(-size // (plan.part_size - MIB)) > S3_MAX_PARTS


@given(size=st.integers(MAX + 1, 2 * MAX))
def test_a_file_over_the_limit_is_refused(size: int) -> None:
    with pytest.raises(FileTooLargeError) as refused:
        plan_upload(size, single_put_max_bytes=SINGLE_MAX, part_bytes=PART, max_bytes=MAX)
    assert refused.value.code == "file_too_large"
