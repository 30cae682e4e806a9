"""A figure from repeated samples: its n, min, median and max, and whether it is steady
enough to judge a target on.

A figure is a statistic (the median, or the p95) of samples taken in one run. How far
it would move in a rerun is estimated by resampling the samples (a seeded bootstrap):
the figure is **stable** when 90 % of the resampled figures lie within SPREAD_BOUND
of it. A target is judged only on a stable figure.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

# Stable: the 90 % bootstrap interval lies within +-5 % of the figure, so two stable
# runs of the same code on alike machines agree within about 10 %.
SPREAD_BOUND = 0.05
MIN_SAMPLES = 3
RESAMPLES = 2000
SEED = 20261207

T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


def figure(
    samples: Sequence[T],
    statistic: Callable[[Sequence[T]], float] = statistics.median,  # type: ignore[assignment]
    digits: int = 3,
) -> dict[str, Any]:
    """The statistic of `samples`, with their n, the min, median and max of the statistic
    of each sample alone, the 90 % bootstrap interval and its spread (the interval's
    farther end from the figure, relative to it).

    A sample is one measurement (a float) or one round of several (the scaling curve's
    sizes), whatever `statistic` reads."""
    if not samples:
        raise ValueError("a figure needs at least one sample")
    value = statistic(samples)
    each = [statistic([sample]) for sample in samples]
    rng = random.Random(SEED)  # noqa: S311  # nosec B311 - resampling, not a secret
    resampled = sorted(statistic(rng.choices(samples, k=len(samples))) for _ in range(RESAMPLES))
    low, high = percentile(resampled, 0.05), percentile(resampled, 0.95)
    spread = max(value - low, high - value) / abs(value) if value else float("inf")
    return {
        "value": round(value, digits),
        "n": len(samples),
        "min": round(min(each), digits),
        "median": round(statistics.median(each), digits),
        "max": round(max(each), digits),
        "interval_90": [round(low, digits), round(high, digits)],
        "spread": round(spread, 3),
        "stable": len(samples) >= MIN_SAMPLES and spread <= SPREAD_BOUND,
    }


# The share of rounds left out at each end of a trimmed mean: Wilcox's 20 %, robust to a
# stall of the machine (one 4 MiB round of 30 took 890 ms, not 70) and nearly as
# efficient as the plain mean when there is none.
TRIM = 0.2


def trimmed_geometric_mean(values: Iterable[float]) -> float:
    """The geometric mean of the values but the TRIM lowest and the TRIM highest."""
    logs = sorted(math.log(v) for v in values)
    cut = int(len(logs) * TRIM)
    return math.exp(statistics.fmean(logs[cut : len(logs) - cut]))


def ratio_of_rounds(numerators: Sequence[float], denominators: Sequence[float]) -> dict[str, Any]:
    """The trimmed geometric mean of the rounds' own ratios, the two sides of a round
    measured back to back, so a busy spell of the machine lands on both sides of its
    round. It rests on the middle 60 % of the rounds, where a median of 13 rests on one
    or two (medians moved by up to 15 % between quiet runs of the same code), and a
    stall of the machine in one round does not move it. Resampled by round. n, min,
    median and max are those of the rounds' own ratios."""
    pairs = list(zip(numerators, denominators, strict=True))
    return figure(pairs, lambda chosen: trimmed_geometric_mean(a / b for a, b in chosen))
