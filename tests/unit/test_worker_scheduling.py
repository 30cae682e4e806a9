"""The end-to-end tests share one stack, so xdist must send all of them to one worker."""

from tests.conftest import EndToEndInOneWorker


def test_every_end_to_end_test_is_one_scope_and_every_other_test_its_own() -> None:
    scope = EndToEndInOneWorker._split_scope
    e2e = ["tests/e2e/test_flow.py::test_a", "tests/e2e/test_restart.py::test_b[x@y]"]
    assert {scope(nodeid) for nodeid in e2e} == {"e2e"}
    others = ["tests/unit/test_a.py::test_a", "tests/property/test_b.py::test_b"]
    assert [scope(nodeid) for nodeid in others] == others
