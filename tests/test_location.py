"""Tests for sim.location: OR-Library p-median optima, brute force on small cases, errors."""

from __future__ import annotations

import itertools
import math
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from sim.location import LocationSolution, k_best, lscp, mclp, p_center, p_median, read_pmed

PMED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmed"


def _pmed_optima() -> dict[str, float]:
    out = {}
    for line in (PMED_DIR / "pmedopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed"):
            out[parts[0]] = float(parts[1])
    return out


# --------------------------------------------------------------------------- OR-Library


@pytest.mark.skipif(
    not (PMED_DIR / "pmedopt.txt").exists(),
    reason=f"OR-Library pmed data not found at {PMED_DIR} (../shared absent)",
)
@pytest.mark.parametrize("k", range(1, 11))
def test_pmed_optimum_reproduced(k: int) -> None:
    cost, p = read_pmed(PMED_DIR / f"pmed{k}.txt")
    n = cost.shape[0]
    assert cost.shape == (n, n)
    sol = p_median(cost, np.ones(n), p, time_limit_s=120)
    assert sol.status == "optimal"
    assert sol.gap == 0.0
    assert len(sol.open_sites) == p
    assert sol.objective == _pmed_optima()[f"pmed{k}"]


@pytest.mark.skipif(not (PMED_DIR / "pmed6.txt").exists(), reason=f"pmed6 not found in {PMED_DIR}")
def test_time_limit_reports_status_and_gap() -> None:
    cost, p = read_pmed(PMED_DIR / "pmed6.txt")
    sol = p_median(cost, np.ones(cost.shape[1]), p, time_limit_s=0.3, formulation="standard")
    assert sol.status == "time_limit"
    assert sol.gap > 0
    assert len(sol.open_sites) == p and sol.objective >= 7824


def test_read_pmed_last_duplicate_wins(tmp_path: Path) -> None:
    f = tmp_path / "tiny.txt"
    # edge {1,2} appears twice (second time reversed): the last cost (2) counts, not 5 or min
    f.write_text(" 4 4 2 \n 1 2 5 \n 2 3 1 \n 2 1 2 \n 3 4 7 \n")
    d, p = read_pmed(f)
    assert p == 2
    expected = np.array([[0, 2, 3, 10], [2, 0, 1, 8], [3, 1, 0, 7], [10, 8, 7, 0]], float)
    np.testing.assert_array_equal(d, expected)
    f.write_text("3 3 1\n1 2 1\n2 3 1\n1 2 9\n")
    d, _ = read_pmed(f)
    assert d[0, 1] == 9 and d[0, 2] == 10


# --------------------------------------------------------------------------- brute force


def _instance(seed: int, n: int = 7, m: int = 10, inf_frac: float = 0.15):
    rng = np.random.default_rng(seed)
    c = rng.integers(1, 40, size=(n, m)).astype(float)
    c[rng.random((n, m)) < inf_frac] = np.inf
    c[rng.integers(0, n, size=m), np.arange(m)] = rng.integers(1, 40, size=m)  # reachable
    w = rng.integers(0, 9, size=m).astype(float)
    return c, w


def _dist(c: np.ndarray, sites) -> np.ndarray:
    return c[list(sites)].min(axis=0, initial=math.inf)


def _median(c, w, s):
    d = _dist(c, s)[w > 0]
    return float(np.sum(w[w > 0] * d)) if np.isfinite(d).all() else math.inf


def _center(c, w, s):
    d = _dist(c, s)[w > 0]
    return float(d.max()) if d.size else 0.0


def _covered(c, w, s, r):
    return float(np.sum(w[_dist(c, s) <= r]))


def _combos(n, p, fixed=()):
    return [s for s in itertools.combinations(range(n), p) if set(fixed) <= set(s)]


def _check_solution(sol: LocationSolution, c: np.ndarray) -> None:
    assert sol.status == "optimal"
    assert list(sol.open_sites) == sorted(set(sol.open_sites))
    d = _dist(c, sol.open_sites)
    for j, a in enumerate(sol.assignment):
        if np.isfinite(d[j]):
            assert a in sol.open_sites and c[a, j] == d[j]
        else:
            assert a == -1


SEEDS = range(8)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("formulation", ["auto", "radius", "standard"])
@pytest.mark.parametrize("fixed", [(), (2,), (0, 5)])
def test_p_median_brute_force(seed: int, formulation: str, fixed: tuple[int, ...]) -> None:
    c, w = _instance(seed)
    p = 3
    best = min(_median(c, w, s) for s in _combos(7, p, fixed))
    sol = p_median(c, w, p, fixed_open=fixed, formulation=formulation)  # type: ignore[arg-type]
    _check_solution(sol, c)
    assert set(fixed) <= set(sol.open_sites) and len(sol.open_sites) == p
    assert sol.objective == best == _median(c, w, sol.open_sites)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed", [(), (4,)])
def test_mclp_brute_force(seed: int, fixed: tuple[int, ...]) -> None:
    c, w = _instance(seed)
    for p, r in [(1, 15.0), (2, 12.0), (3, 20.0)]:
        best = max(_covered(c, w, s, r) for s in _combos(7, p, fixed))
        sol = mclp(c, w, p, r, fixed_open=fixed)
        _check_solution(sol, c)
        assert set(fixed) <= set(sol.open_sites) and len(sol.open_sites) == p
        assert sol.objective == sol.covered_weight == best


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed", [(), (1, 3)])
def test_lscp_brute_force(seed: int, fixed: tuple[int, ...]) -> None:
    c, w = _instance(seed)
    r = 15.0
    need = (w > 0) & (c <= r).any(axis=0)
    best = min(
        len(s) for q in range(8) for s in _combos(7, q, fixed) if ((_dist(c, s) <= r) | ~need).all()
    )
    sol = lscp(c, w, r, fixed_open=fixed)
    _check_solution(sol, c)
    assert set(fixed) <= set(sol.open_sites)
    assert sol.objective == len(sol.open_sites) == best
    assert sol.uncoverable == tuple(np.flatnonzero((w > 0) & ~(c <= r).any(axis=0)))
    assert ((_dist(c, sol.open_sites) <= r) | ~need).all()


def test_lscp_reports_uncoverable() -> None:
    c = np.array([[1.0, 9.0, 50.0], [9.0, 1.0, np.inf]])
    sol = lscp(c, np.array([1.0, 1.0, 3.0]), 5.0)
    assert sol.uncoverable == (2,)
    assert sol.open_sites == (0, 1)
    assert sol.covered_weight == 2.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fixed", [(), (6,)])
def test_p_center_brute_force(seed: int, fixed: tuple[int, ...]) -> None:
    c, w = _instance(seed)
    for p in (1, 2, 3):
        feas = [s for s in _combos(7, p, fixed) if np.isfinite(_center(c, w, s))]
        if not feas:
            with pytest.raises(ValueError, match="no feasible"):
                p_center(c, w, p, fixed_open=fixed)
            continue
        sol = p_center(c, w, p, fixed_open=fixed)
        _check_solution(sol, c)
        assert set(fixed) <= set(sol.open_sites) and len(sol.open_sites) == p
        assert sol.objective == min(_center(c, w, s) for s in feas)


def test_p_center_ignores_weights_except_zero() -> None:
    c = np.array([[0.0, 10.0, 1.0], [10.0, 0.0, 100.0]])
    # weighted point 0 is heavy but p-center is unweighted: site 0 gives max 10, site 1 gives 100
    assert p_center(c, np.array([100.0, 1.0, 1.0]), 1).open_sites == (0,)
    # point 1 with zero weight is ignored: site 0 gives max 1
    assert p_center(c, np.array([1.0, 0.0, 1.0]), 1).objective == 1.0


# --------------------------------------------------------------------------- k best


def _assert_k_best(sols, ranked_values, k) -> None:
    assert [s.objective for s in sols] == ranked_values[:k]
    assert len({s.open_sites for s in sols}) == len(sols)


@pytest.mark.parametrize("seed", range(4))
def test_k_best_p_median(seed: int) -> None:
    c, w = _instance(seed)
    vals = sorted(v for v in (_median(c, w, s) for s in _combos(7, 3, (1,))) if np.isfinite(v))
    sols = k_best(p_median, 6, c, w, 3, fixed_open=(1,))
    _assert_k_best(sols, vals, 6)
    for s in sols:
        assert 1 in s.open_sites and s.objective == _median(c, w, s.open_sites)


@pytest.mark.parametrize("seed", range(4))
def test_k_best_mclp_and_p_center(seed: int) -> None:
    c, w = _instance(seed)
    vals = sorted((_covered(c, w, s, 15.0) for s in _combos(7, 2)), reverse=True)
    _assert_k_best(k_best(mclp, 5, c, w, 2, 15.0), vals, 5)
    vals = sorted(v for v in (_center(c, w, s) for s in _combos(7, 2)) if np.isfinite(v))
    _assert_k_best(k_best(p_center, 5, c, w, 2), vals, 5)


@pytest.mark.parametrize("seed", range(4))
def test_k_best_lscp(seed: int) -> None:
    c, w = _instance(seed)
    need = (w > 0) & (c <= 15.0).any(axis=0)
    vals = sorted(
        len(s) for q in range(1, 8) for s in _combos(7, q) if ((_dist(c, s) <= 15.0) | ~need).all()
    )
    _assert_k_best(k_best(lscp, 5, c, w, 15.0), [float(v) for v in vals], 5)


def test_k_best_exhausts() -> None:
    c = np.arange(12, dtype=float).reshape(3, 4)
    sols = k_best(p_median, 10, c, np.ones(4), 2)
    assert len(sols) == 3  # only C(3, 2) = 3 distinct solutions exist
    assert [s.objective for s in sols] == sorted(s.objective for s in sols)


# --------------------------------------------------------------------------- API / errors


def test_solution_is_frozen() -> None:
    c, w = _instance(0)
    sol = p_median(c, w, 2)
    with pytest.raises(FrozenInstanceError):
        sol.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        sol.assignment[0] = 3
    assert sol.model == "p_median" and sol.solve_time_s >= 0


C3 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
W2 = np.ones(2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: p_median(C3, W2, 0), "p=0"),
        (lambda: p_median(C3, W2, 4), "p=4"),
        (lambda: p_median(C3, W2, 1, fixed_open=(0, 1)), "fixed_open"),
        (lambda: p_median(C3, W2, 2, fixed_open=(0, 0)), "duplicate"),
        (lambda: p_median(C3, W2, 2, fixed_open=(3,)), "fixed_open"),
        (lambda: p_median(C3, np.array([1.0, -1.0]), 1), "non-negative"),
        (lambda: p_median(C3, np.ones(3), 1), "one entry per demand"),
        (lambda: p_median(np.array([[1.0, np.nan]]), W2, 1), "NaN"),
        (lambda: p_median(np.array([[1.0, -2.0]]), W2, 1), "non-negative"),
        (lambda: p_median(np.ones(3), W2, 1), "2-D"),
        (lambda: p_median(C3, np.array([1.0, np.nan]), 1), "finite"),
        (lambda: p_median(C3, W2, 1, mip_gap=-0.1), "mip_gap"),
        (lambda: p_median(C3, W2, 1, time_limit_s=0), "time_limit_s"),
        (lambda: p_median(C3, W2, 1, formulation="bogus"), "formulation"),  # type: ignore[arg-type]
        (lambda: p_median(np.array([[1.0, np.inf]]), W2, 1), "unreachable"),
        (lambda: p_center(np.array([[1.0, np.inf]]), W2, 1), "unreachable"),
        (lambda: p_median(np.array([[1.0, np.inf], [np.inf, 1.0]]), W2, 1), "no feasible"),
        (lambda: mclp(C3, W2, 1, -1.0), "standard"),
        (lambda: mclp(C3, W2, 5, 1.0), "p=5"),
        (lambda: lscp(C3, W2, float("nan")), "standard"),
        (lambda: k_best(p_median, 0, C3, W2, 1), "k must"),
        (lambda: k_best(sorted, 2, C3, W2, 1), "model_fn"),
    ],
)
def test_value_errors(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
