"""Statistics over replications: t and bootstrap intervals, paired differences, P(best).

Replication values are independent across replications and paired across placements (common
random numbers), so differences are taken per replication before summarising.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "bootstrap_ci", "p_best", "paired_difference", "t_ci"]

BOOTSTRAP_SEED = 20211231
"""Fixed seed: the same replications always give the same bootstrap interval."""
BLOCK = 250
"""Resamples drawn and taken at a time (the same values as all at once, in bounded memory:
4,000 resamples of 8 options × 1,000 replications at once would hold 256 MB)."""


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def _clean(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)


def t_ci(values: np.ndarray, level: float = 0.95) -> Interval:
    """Student-t interval for the mean; NaN bounds when undefined (n < 2 or non-finite)."""
    x = _clean(values)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2 or not np.isfinite(x).all():
        return Interval(mean, math.nan, math.nan, n)
    from scipy import stats as sps  # slow to import: only where an interval is wanted

    half = float(sps.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def bootstrap_ci(values: np.ndarray, level: float = 0.95, *, statistic: str = "mean",
                 resamples: int = 4000) -> Interval:
    """Percentile bootstrap interval of the mean (or ``quantile:q``) over replications."""
    x = _clean(values)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    fn = _statistic(statistic)
    point = float(fn(x[None, :])[0])
    if n < 2:
        return Interval(point, math.nan, math.nan, n)
    boot = np.concatenate([fn(x[idx]) for idx in _resamples(n, resamples)])
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Interval(point, float(low), float(high), n)


def _resamples(n: int, resamples: int) -> Iterator[np.ndarray]:
    """The bootstrap's replication indices, ``BLOCK`` resamples at a time (drawn in turn
    from one seeded generator: the same indices as drawn all at once)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    for start in range(0, resamples, BLOCK):
        yield rng.integers(0, n, size=(min(BLOCK, resamples - start), n))


def _statistic(name: str):  # type: ignore[no-untyped-def]
    if name == "mean":
        return lambda a: a.mean(axis=1)
    if name.startswith("quantile:"):
        q = float(name.split(":", 1)[1])
        return lambda a: np.quantile(a, q, axis=1)
    raise ValueError(f"unknown bootstrap statistic {name!r}")


def paired_difference(values: np.ndarray, baseline: np.ndarray, level: float = 0.95) -> Interval:
    """t interval of the per-replication difference ``values - baseline`` (CRN pairs)."""
    a, b = _clean(values), _clean(baseline)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same replications")
    with np.errstate(invalid="ignore"):
        return t_ci(a - b, level)


def p_best(values: Mapping[str, np.ndarray], *, lower_is_better: bool,
           resamples: int = 4000) -> dict[str, float]:
    """Probability each option is best, by a paired bootstrap over replications.

    Replication indices are resampled jointly for all options (they share random numbers);
    ties split the win equally.
    """
    names = list(values)
    if not names:
        return {}
    matrix = np.vstack([_clean(values[k]) for k in names])  # options × replications
    n = matrix.shape[1]
    if n == 0:
        return dict.fromkeys(names, math.nan)
    means = np.concatenate([matrix[:, idx].mean(axis=2)  # options × resamples
                            for idx in _resamples(n, resamples)], axis=1)
    if not lower_is_better:
        means = -means
    best = means.min(axis=0)
    winners = np.isclose(means, best[None, :], rtol=0, atol=1e-12)
    share = winners / winners.sum(axis=0, keepdims=True)
    return {k: float(share[i].mean()) for i, k in enumerate(names)}
