"""The direct upload's part arithmetic, without S3: which parts are missing, and whether a
client's list of parts names exactly those S3 received."""

from upload_api.direct_plan import MIB, MULTIPART, UploadPlan, parts_match

PLAN = UploadPlan(MULTIPART, 11 * MIB, 5 * MIB)  # parts of 5, 5 and 1 MiB


def test_parts_are_numbered_from_one_and_the_last_holds_the_rest() -> None:
    assert list(PLAN.part_numbers) == [1, 2, 3]
    assert [PLAN.part_bytes(n) for n in PLAN.part_numbers] == [5 * MIB, 5 * MIB, MIB]


def test_missing_parts_are_the_plan_s_parts_not_received_in_order() -> None:
    assert PLAN.missing_parts({}) == [1, 2, 3]
    assert PLAN.missing_parts({3: "c", 1: "a"}) == [2]
    # A part number S3 holds beyond the plan is no part of it.
    assert PLAN.missing_parts({1: "a", 2: "b", 3: "c", 4: "d"}) == []


def test_the_claimed_parts_must_be_exactly_the_received_ones() -> None:
    received = {1: '"a"', 2: '"b"'}

    assert parts_match([(1, "a"), (2, "b")], received)
    assert parts_match([(2, '"b"'), (1, '"a"')], received)  # any order, quoted or not
    assert not parts_match([(1, "a")], received)  # one left out
    assert not parts_match([(1, "a"), (2, "x")], received)  # a wrong ETag
    assert not parts_match([(1, "a"), (2, "b"), (3, "c")], received)  # one S3 never got
    assert not parts_match([(1, "a"), (2, "b"), (2, "b")], received)  # one named twice
