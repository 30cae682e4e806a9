"""tests/README.md's upload breakdown runs the app's own steps on a real body."""

from tests.perf.upload_breakdown import breakdown


def test_each_step_of_a_json_upload_is_timed() -> None:
    steps = breakdown(64 * 1024, rounds=2)

    assert list(steps) == [
        "read the body",
        "JSON and the request model",
        "strict Base64 decode",
        "SHA-256",
        "total",
    ]
    assert all(ms > 0 for ms in steps.values())
    assert steps["total"] == round(sum(ms for step, ms in steps.items() if step != "total"), 2)
