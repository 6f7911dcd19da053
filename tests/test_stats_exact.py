"""Statistics over replications against hand values: t intervals, bootstrap, pairing, P(best)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sim.stats import bootstrap_ci, p_best, paired_difference, t_ci

T_975_DF2 = 4.302652729749464  # Student t quantile t_{0.975, 2} (printed tables: 4.303)
T_950_DF2 = 2.919985580353724  # t_{0.95, 2} (tables: 2.920)


# -- t_ci -------------------------------------------------------------------------------------


def test_t_interval_of_one_two_three_by_hand() -> None:
    ci = t_ci(np.array([1.0, 2.0, 3.0]))
    # mean 2, sample sd 1 (ddof 1), half-width t_{0.975,2} · 1/√3 = 2.48413…
    half = T_975_DF2 / math.sqrt(3)
    assert ci.n == 3 and ci.mean == 2.0
    assert ci.half_width == pytest.approx(2.4841377118, rel=1e-9)
    assert (ci.low, ci.high) == pytest.approx((2 - half, 2 + half), rel=1e-12)
    # a 90 % interval uses t_{0.95,2}, not t_{0.90,2} nor z
    assert t_ci(np.array([1.0, 2.0, 3.0]), level=0.9).half_width == pytest.approx(
        T_950_DF2 / math.sqrt(3), rel=1e-12)
    # shifting and scaling the data shifts and scales the interval exactly
    scaled = t_ci(np.array([10.0, 30.0, 50.0]))
    assert (scaled.mean, scaled.half_width) == pytest.approx((30.0, 20 * half), rel=1e-12)


def test_t_interval_undefined_cases() -> None:
    empty = t_ci(np.array([]))
    assert empty.n == 0 and all(math.isnan(v) for v in (empty.mean, empty.low, empty.high))
    one = t_ci(np.array([4.5]))
    assert one.n == 1 and one.mean == 4.5 and math.isnan(one.low) and math.isnan(one.high)
    assert math.isnan(one.half_width)
    censored = t_ci(np.array([1.0, math.inf, 3.0]))
    assert censored.n == 3 and censored.mean == math.inf
    assert math.isnan(censored.low) and math.isnan(censored.high)
    missing = t_ci(np.array([1.0, math.nan]))
    assert math.isnan(missing.mean) and math.isnan(missing.low)
    constant = t_ci(np.array([2.0, 2.0, 2.0, 2.0]))
    assert (constant.low, constant.mean, constant.high) == (2.0, 2.0, 2.0)


def test_t_interval_coverage_tells_t_from_z_at_n5() -> None:
    """10 000 normal samples of n = 5. A t interval covers the mean 95 % of the time; one
    built with z = 1.96 covers P(|T_4| < 1.96) = 87.8 %, and one with t on n (not n − 1)
    degrees of freedom 93.8 %.

    Coverage count ~ Binomial(10 000, 0.95): sd = √(0.95·0.05/10 000) = 0.22 %. The band
    [94.3 %, 95.7 %] is ±3.2 sd, so a correct t interval fails it with probability ≈ 0.14 %
    over seeds (here the seed is fixed); z (87.8 %) is 30 sd below it, and the df slip (93.8 %)
    lies 2.3 sd below the lower edge (caught ≈ 99 % of seeds)."""
    rng = np.random.default_rng(20260514)
    samples = rng.normal(3.0, 2.0, size=(10_000, 5))
    hits = 0
    for x in samples:
        ci = t_ci(x)
        hits += ci.low <= 3.0 <= ci.high
    assert 0.943 <= hits / len(samples) <= 0.957


# -- bootstrap_ci -----------------------------------------------------------------------------


def test_bootstrap_percentiles_on_a_skewed_sample() -> None:
    """x = [0, 0, 0, 0, 10]: a resampled mean is 2·K with K ~ Binomial(5, 0.2) tens drawn.
    P(K = 0) = 0.328 > 2.5 %, and P(K ≤ 2) = 0.942 < 97.5 % < P(K ≤ 3) = 0.993, so the
    percentile interval is exactly [0, 6] (4000 resamples put both order statistics well inside
    those blocks). A 'basic' bootstrap (2·mean − quantiles) would give [−2, 4]."""
    x = np.array([0.0, 0.0, 0.0, 0.0, 10.0])
    ci = bootstrap_ci(x)
    assert (ci.mean, ci.low, ci.high, ci.n) == (2.0, 0.0, 6.0, 5)
    # 60 %: quantiles 20 % → K = 0, 80 % → K = 2 (P(K ≤ 1) = 0.737, P(K ≤ 2) = 0.942);
    # 20 %: quantiles 40 % and 60 % both → K = 1. (Tails of 1 − level instead of (1 − level)/2
    # would give [2, 2] and an inverted [4, 0].)
    ci60 = bootstrap_ci(x, level=0.6)
    assert (ci60.low, ci60.high) == (0.0, 4.0)
    ci20 = bootstrap_ci(x, level=0.2)
    assert (ci20.low, ci20.high) == (2.0, 2.0)
    # the statistic can be a quantile: the median of x is 0
    assert bootstrap_ci(x, statistic="quantile:0.5").mean == 0.0
    with pytest.raises(ValueError, match="unknown bootstrap statistic"):
        bootstrap_ci(x, statistic="median")


def test_bootstrap_is_deterministic_and_degenerate_on_constant_data() -> None:
    x = np.random.default_rng(4).normal(size=12)
    assert bootstrap_ci(x) == bootstrap_ci(x.copy())
    assert bootstrap_ci(x, resamples=500) == bootstrap_ci(x.copy(), resamples=500)
    constant = bootstrap_ci(np.full(7, 0.625))
    assert (constant.low, constant.mean, constant.high) == (0.625, 0.625, 0.625)
    one = bootstrap_ci(np.array([0.4]))
    assert one.mean == 0.4 and one.n == 1 and math.isnan(one.low) and math.isnan(one.high)
    empty = bootstrap_ci(np.array([]))
    assert empty.n == 0 and math.isnan(empty.mean)


# -- paired_difference ------------------------------------------------------------------------


def test_paired_difference_is_values_minus_baseline_per_replication() -> None:
    values, baseline = np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 3.0])
    diff = paired_difference(values, baseline)  # per replication: 2, 3, 4
    half = T_975_DF2 / math.sqrt(3)
    assert diff.mean == 3.0 and diff.n == 3
    assert (diff.low, diff.high) == pytest.approx((3 - half, 3 + half), rel=1e-12)
    assert paired_difference(baseline, values).mean == -3.0
    # pairing removes the shared noise: the unpaired spread (sd 2 vs 1) is not used
    noisy = np.array([100.0, -50.0, 20.0])
    paired = paired_difference(noisy + 0.5, noisy)
    assert (paired.mean, paired.low, paired.high) == (0.5, 0.5, 0.5)


def test_paired_difference_refuses_unpaired_samples() -> None:
    with pytest.raises(ValueError, match="same replications"):
        paired_difference(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="same replications"):
        paired_difference(np.ones(4), np.ones(3))
    inf = paired_difference(np.array([math.inf, 1.0]), np.array([math.inf, 0.0]))
    assert math.isnan(inf.mean) and math.isnan(inf.low)  # inf − inf: undefined, no warning


# -- p_best -----------------------------------------------------------------------------------


def test_p_best_clear_winner_both_directions() -> None:
    values = {"low": np.array([1.0, 2.0, 3.0]), "high": np.array([11.0, 12.0, 13.0])}
    assert p_best(values, lower_is_better=True) == {"low": 1.0, "high": 0.0}
    assert p_best(values, lower_is_better=False) == {"low": 0.0, "high": 1.0}


def test_p_best_ties_split_the_win_equally() -> None:
    x = np.array([0.7, 0.9, 0.8, 0.95])
    assert p_best({"a": x, "b": x.copy()}, lower_is_better=True) == {"a": 0.5, "b": 0.5}
    assert p_best({"a": x, "b": x.copy(), "c": x + 1}, lower_is_better=True) == {
        "a": 0.5, "b": 0.5, "c": 0.0}
    assert p_best({"a": x, "b": x.copy(), "c": x + 1}, lower_is_better=False) == {
        "a": 0.0, "b": 0.0, "c": 1.0}


def test_p_best_resamples_replications_jointly() -> None:
    """b is a + 0.1 in every replication (common random numbers) under noise of sd 10:
    resampled jointly, a wins every resample; resampled independently it would win only about
    half of them."""
    a = np.random.default_rng(7).normal(50, 10, size=20)
    got = p_best({"a": a, "b": a + 0.1}, lower_is_better=True)
    assert got == {"a": 1.0, "b": 0.0}


def test_p_best_splits_between_close_options_and_sums_to_one() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(0, 1, size=30), rng.normal(0, 1, size=30)
    got = p_best({"a": a, "b": b}, lower_is_better=True)
    assert got["a"] + got["b"] == pytest.approx(1.0, abs=1e-12)
    assert 0.05 < got["a"] < 0.95  # overlapping options: neither is certain
    flipped = p_best({"a": a, "b": b}, lower_is_better=False)
    assert flipped["a"] == pytest.approx(got["b"], abs=1e-12)  # no ties: exact mirror
    assert p_best({}, lower_is_better=True) == {}
    empty = p_best({"a": np.array([]), "b": np.array([])}, lower_is_better=True)
    assert list(empty) == ["a", "b"] and all(math.isnan(v) for v in empty.values())


# -- edge cases found by mutation testing -----------------------------------------------------


def test_undefined_t_intervals_are_quiet() -> None:
    """One value, or an infinite one, gives NaN bounds without computing a spread: no numpy
    'degrees of freedom' or 'invalid value' warnings reach the caller."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = t_ci(np.array([4.5]))
        censored = t_ci(np.array([1.0, math.inf, 3.0]))
    assert math.isnan(one.low) and math.isnan(censored.high)


def test_unsigned_counts_are_treated_as_numbers() -> None:
    """Values arrive as any numeric dtype; unsigned counts are not differenced modulo 256."""
    values = np.array([1, 2, 3], dtype=np.uint8)
    baseline = np.array([3, 5, 7], dtype=np.uint8)
    diff = paired_difference(values, baseline)  # per replication: −2, −3, −4
    half = T_975_DF2 / math.sqrt(3)
    assert diff.mean == -3.0
    assert (diff.low, diff.high) == pytest.approx((-3 - half, -3 + half), rel=1e-12)


def test_bootstrap_of_two_values_and_empty_bounds() -> None:
    """x = [10, 0]: a resample of 2 holds K tens, K ~ Binomial(2, 1/2), so the resampled mean
    is 0, 5 or 10 with probabilities 1/4, 1/2, 1/4. The 2.5 % and 97.5 % quantiles fall in the
    outer blocks: the 95 % interval is [0, 10] (n = 2 is enough for an interval, and both
    replications are drawn)."""
    ci = bootstrap_ci(np.array([10.0, 0.0]))
    assert (ci.mean, ci.low, ci.high, ci.n) == (5.0, 0.0, 10.0, 2)
    empty = bootstrap_ci(np.array([]))
    assert math.isnan(empty.low) and math.isnan(empty.high)


def test_default_resamples_are_4000() -> None:
    """Stored results were computed with 4000 resamples; the default must reproduce them."""
    x = np.random.default_rng(11).normal(size=9)
    assert bootstrap_ci(x) == bootstrap_ci(x, resamples=4000)
    assert bootstrap_ci(x) != bootstrap_ci(x, resamples=4001)  # the count matters here
    a, b = np.random.default_rng(12).normal(0, 1, size=(2, 9))
    values = {"a": a, "b": b}
    got = p_best(values, lower_is_better=True)
    assert got == p_best(values, lower_is_better=True, resamples=4000)
    assert got != p_best(values, lower_is_better=True, resamples=4001)


def test_malformed_quantile_statistic_is_refused() -> None:
    x = np.array([0.0, 1.0, 2.0])
    assert bootstrap_ci(x, statistic="quantile:0.5").mean == 1.0
    for name in ("quantile:0.5:0.9", "quantile::0.5"):
        with pytest.raises(ValueError):
            bootstrap_ci(x, statistic=name)


def test_paired_difference_level_and_exact_message_and_quiet_inf() -> None:
    diff = paired_difference(np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 3.0]), level=0.9)
    assert diff.half_width == pytest.approx(T_950_DF2 / math.sqrt(3), rel=1e-12)
    with pytest.raises(ValueError, match=r"^paired samples must have the same replications$"):
        paired_difference(np.ones(3), np.ones(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf − inf is undefined, reported as NaN, not a warning
        inf = paired_difference(np.array([math.inf, 1.0]), np.array([math.inf, 0.0]))
    assert math.isnan(inf.mean)


def test_p_best_with_one_replication() -> None:
    """One replication: every resample is that replication, so its order is certain."""
    got = p_best({"a": np.array([1.0]), "b": np.array([2.0])}, lower_is_better=True)
    assert got == {"a": 1.0, "b": 0.0}


def test_p_best_of_two_replications_draws_both() -> None:
    """a = [0, 10] against b = [5, 5]: a resampled mean of a is 0, 5 or 10 with probabilities
    1/4, 1/2, 1/4 (b is always 5). Lower is better: a wins at 0, ties at 5 (half a win), loses
    at 10, so P(a best) = 1/4 + 1/2 · 1/2 = 1/2. The per-resample share has variance 1/8, so
    over 4000 resamples its mean has sd √(1/32000) = 0.0056; ±0.03 is over 5 sd."""
    got = p_best({"a": np.array([0.0, 10.0]), "b": np.array([5.0, 5.0])}, lower_is_better=True)
    assert got["a"] == pytest.approx(0.5, abs=0.03)
    assert got["a"] + got["b"] == pytest.approx(1.0, abs=1e-12)


def test_p_best_tie_tolerance_is_absolute_and_tiny() -> None:
    """Only rounding-level differences (≤ 1e-12) tie: 10⁶ against 10⁶ + 1 is a clear win
    (a relative tolerance would call it a tie), and so is a gap of 1e-10."""
    big = {"a": np.full(3, 1e6), "b": np.full(3, 1e6 + 1)}
    assert p_best(big, lower_is_better=True) == {"a": 1.0, "b": 0.0}
    small = {"a": np.full(4, 0.5), "b": np.full(4, 0.5 + 1e-10)}
    assert p_best(small, lower_is_better=True) == {"a": 1.0, "b": 0.0}


@pytest.mark.parametrize("n", [2, 13, 1000])
def test_resampling_in_blocks_gives_the_values_of_all_at_once(
        n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bootstrap and P(best) resample in blocks to bound memory (8 options × 1,000
    replications × 4,000 resamples would take 256 MB at once): any block size, one that
    does not divide the 4,000 resamples included, gives exactly the values of one block."""
    import sim.stats

    rng = np.random.default_rng(n)
    options = {f"o{i}": rng.normal(size=n) for i in range(8)}
    x = rng.exponential(size=n)

    def everything() -> tuple:
        return (p_best(options, lower_is_better=True), p_best(options, lower_is_better=False),
                bootstrap_ci(x), bootstrap_ci(x, statistic="quantile:0.9"))

    monkeypatch.setattr(sim.stats, "BLOCK", 10**9)
    at_once = everything()
    for block in (1, 7, 250):
        monkeypatch.setattr(sim.stats, "BLOCK", block)
        assert everything() == at_once
