"""A bench figure carries its n, min, median and max, and is judged only when stable."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.perf.bench import report
from tests.perf.bench.figures import (
    SPREAD_BOUND,
    figure,
    p95,
    ratio_of_rounds,
    trimmed_geometric_mean,
)


def test_a_figure_of_close_samples_is_stable_and_describes_them() -> None:
    result = figure([1.00, 1.01, 0.99, 1.02, 1.00, 0.98, 1.01])
    assert result["value"] == 1.0
    assert (result["n"], result["min"], result["median"], result["max"]) == (7, 0.98, 1.0, 1.02)
    low, high = result["interval_90"]
    assert low <= result["value"] <= high
    assert result["spread"] <= SPREAD_BOUND
    assert result["stable"] is True


def test_a_figure_of_scattered_samples_is_unstable() -> None:
    result = figure([1.0, 1.6, 0.9, 2.1, 1.2])
    assert result["spread"] > SPREAD_BOUND
    assert result["stable"] is False


def test_too_few_samples_are_never_stable() -> None:
    assert figure([1.0, 1.0])["stable"] is False
    with pytest.raises(ValueError, match="at least one sample"):
        figure([])


def test_the_bootstrap_is_seeded_so_a_report_redraws_the_same() -> None:
    samples = [1.0, 1.3, 0.9, 1.1, 1.2, 1.05]
    assert figure(samples) == figure(samples)


def test_a_statistic_over_rounds_reports_each_round_alone() -> None:
    rounds = [(1.0, 3.0), (2.0, 4.0), (3.0, 5.0)]

    def mean_gap(chosen: Any) -> float:
        return statistics.fmean(b - a for a, b in chosen)

    result = figure(rounds, mean_gap)
    assert (result["value"], result["min"], result["max"], result["n"]) == (2.0, 2.0, 2.0, 3)
    assert result["stable"] is True


def test_p95_and_the_ratio_of_paired_rounds() -> None:
    assert p95([float(n) for n in range(1, 101)]) == 95.0
    result = ratio_of_rounds([2.0, 3.0, 16.0], [1.0, 2.0, 2.0])
    # Each round alone: 2, 1.5, 8; too few to trim, so their geometric mean 24 ** (1/3).
    assert result["value"] == round(24 ** (1 / 3), 3)
    assert (result["min"], result["median"], result["max"]) == (1.5, 2.0, 8.0)
    with pytest.raises(ValueError, match="longer"):
        ratio_of_rounds([1.0], [1.0, 2.0])


def test_a_stalled_round_does_not_move_the_ratio() -> None:
    """30 rounds of ratio 1.75, then one the machine stalled (890 ms, not 70): the trimmed
    mean leaves it out, where the plain geometric mean moves by about 8 %."""
    app, direct = [70.0] * 30, [40.0] * 30
    stalled = ratio_of_rounds([*app[:-1], 890.0], direct)
    assert stalled["value"] == ratio_of_rounds(app, direct)["value"] == 1.75
    assert stalled["max"] == round(890 / 40, 3)
    assert trimmed_geometric_mean([1.0, 2.0, 4.0, 8.0, 1000.0]) == pytest.approx(4.0)


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.01, max_value=100), st.floats(min_value=0.01, max_value=100)
        ),
        min_size=1,
        max_size=30,
    ),
    st.floats(min_value=0.1, max_value=10),
)
def test_the_ratio_does_not_depend_on_the_unit_and_scales_with_a_side(
    rounds: list[tuple[float, float]], factor: float
) -> None:
    """Seconds or milliseconds give one ratio, and a side k times slower gives k times it."""
    app, direct = [a for a, _ in rounds], [d for _, d in rounds]
    value = ratio_of_rounds(app, direct)["value"]
    in_ms = ratio_of_rounds([a * 1000 for a in app], [d * 1000 for d in direct])
    slower = ratio_of_rounds([a * factor for a in app], direct)
    assert in_ms["value"] == pytest.approx(value, rel=1e-3, abs=1e-3)
    assert slower["value"] == pytest.approx(value * factor, rel=1e-2, abs=2e-3)


@given(st.lists(st.floats(min_value=0.01, max_value=100), min_size=1, max_size=30))
def test_the_interval_brackets_the_figure_and_the_samples_bracket_the_median(
    samples: list[float],
) -> None:
    result = figure(samples, digits=6)
    low, high = result["interval_90"]
    assert low <= result["value"] <= high
    assert result["min"] <= result["median"] <= result["max"]
    assert result["stable"] == (len(samples) >= 3 and result["spread"] <= SPREAD_BOUND)


def _results(value: float, *, stable: bool) -> dict[str, Any]:
    def fig(v: float) -> dict[str, Any]:
        spread = 0.01 if stable else 0.5
        return {"value": v, "n": 9, "min": v, "median": v, "max": v,
                "interval_90": [v, v], "spread": spread, "stable": stable}  # fmt: skip

    results: dict[str, Any] = {}
    for path, _ in report.TARGETS.values():
        node = results
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = fig(value)
    return results


def test_a_target_is_met_or_missed_only_on_a_stable_figure() -> None:
    met = report.verdicts(_results(0.4, stable=True))
    assert {v["status"] for v in met} == {"met"}
    missed = report.verdicts(_results(10.0, stable=True))
    assert {v["status"] for v in missed} == {"missed"}
    assert all(v["missed_by_percent"] > 0 for v in missed)
    unstable = report.verdicts(_results(0.4, stable=False))
    assert {v["status"] for v in unstable} == {"unstable"}


def test_the_comparison_says_which_figures_two_runs_agree_on() -> None:
    first = {"started_at": "a", **_results(1.0, stable=True)}
    second = {"started_at": "b", **_results(1.0, stable=True)}
    second["memory"]["factor_of_file_size"]["value"] = 1.2
    table = report.comparison(first, second)
    assert "| memory.factor_of_file_size | 1.0 | 1.2 | 20.0 % | no |" in table
    assert "| direct_upload.ratio | 1.0 | 1.0 | 0.0 % | yes |" in table
