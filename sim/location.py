"""Static facility-location models on a cost matrix, solved exactly with HiGHS (``highspy``).

Every model takes ``cost[i, j]`` (candidate site ``i`` -> demand point ``j``; ``np.inf`` means
unreachable) and demand weights ``weights[j] >= 0``; demand points with zero weight are ignored by
the optimisation but still get an ``assignment``. ``fixed_open`` lists existing depots that stay
open. All functions are pure and return a frozen :class:`LocationSolution`.

Models: :func:`p_median`, :func:`mclp` (maximal covering), :func:`lscp` (set covering),
:func:`p_center`; :func:`k_best` returns the K best distinct solutions of any of them.
:func:`read_pmed` reads OR-Library p-median instances.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

if TYPE_CHECKING:
    import highspy

__all__ = [
    "LocationSolution",
    "k_best",
    "lscp",
    "mclp",
    "p_center",
    "p_median",
    "read_pmed",
]

_INF = math.inf


@dataclass(frozen=True, eq=False)
class LocationSolution:
    """Result of one facility-location solve.

    ``objective`` is recomputed exactly from ``open_sites`` (weighted cost for p-median, covered
    weight for MCLP, number of sites for LSCP, maximum cost for p-center). ``gap`` is the relative
    MIP gap proven by the solver (0 when optimal). ``assignment[j]`` is the nearest open site of
    demand point ``j`` (-1 if none is reachable). ``covered_weight`` is the weight served within
    ``standard`` (MCLP/LSCP) or reachable at all (p-median/p-center). ``uncoverable`` lists demand
    points with positive weight that no candidate site can serve (within ``standard``).
    """

    model: str
    open_sites: tuple[int, ...]
    objective: float
    gap: float
    status: str
    assignment: np.ndarray
    covered_weight: float
    solve_time_s: float
    uncoverable: tuple[int, ...] = field(default=())


# --------------------------------------------------------------------------- validation


def _check_inputs(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int | None,
    fixed_open: Sequence[int],
    time_limit_s: float,
    mip_gap: float,
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    c = np.asarray(cost, dtype=float)
    w = np.asarray(weights, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValueError(f"cost must be a non-empty 2-D matrix (sites x demand), got {c.shape}")
    if w.ndim != 1 or w.shape[0] != c.shape[1]:
        raise ValueError(
            f"weights must have one entry per demand point ({c.shape[1]}), got shape {w.shape}"
        )
    if np.isnan(c).any():
        raise ValueError("cost contains NaN (use np.inf for unreachable pairs)")
    if (c < 0).any():
        raise ValueError("cost must be non-negative")
    if not np.isfinite(w).all():
        raise ValueError("weights must be finite (no NaN/inf)")
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    n = c.shape[0]
    fixed: list[int] = []
    for f in fixed_open:
        if isinstance(f, bool) or int(f) != f or not 0 <= int(f) < n:
            raise ValueError(f"fixed_open index {f!r} is not a site index in [0, {n})")
        fixed.append(int(f))
    if len(set(fixed)) != len(fixed):
        raise ValueError("fixed_open contains duplicate sites")
    if p is not None:
        if isinstance(p, bool) or int(p) != p:
            raise ValueError(f"p must be an integer, got {p!r}")
        if not 1 <= p <= n:
            raise ValueError(f"p={p} must be between 1 and the number of sites ({n})")
        if p < len(fixed):
            raise ValueError(f"p={p} is smaller than the number of fixed_open sites ({len(fixed)})")
    if not time_limit_s > 0:
        raise ValueError("time_limit_s must be positive")
    if not 0 <= mip_gap < 1:
        raise ValueError("mip_gap must be in [0, 1)")
    c.setflags(write=False)
    return c, w, tuple(sorted(fixed))


def _check_standard(standard: float) -> float:
    s = float(standard)
    if math.isnan(s) or s < 0:
        raise ValueError(f"standard must be a non-negative number, got {standard!r}")
    return s


# --------------------------------------------------------------------------- MILP plumbing


class _Milp:
    """Minimisation MILP under construction; columns ``0..n_sites-1`` are the binary ``y``."""

    def __init__(self, n_sites: int, fixed: tuple[int, ...], y_cost: np.ndarray | None = None):
        lb = np.zeros(n_sites)
        lb[list(fixed)] = 1.0
        self.n_sites = n_sites
        self.cost = [np.zeros(n_sites) if y_cost is None else np.asarray(y_cost, float)]
        self.lb = [lb]
        self.ub = [np.ones(n_sites)]
        self.integer = [np.ones(n_sites, dtype=bool)]
        self.n_col = n_sites
        self.offset = 0.0
        self.rr: list[np.ndarray] = []
        self.rc: list[np.ndarray] = []
        self.rv: list[np.ndarray] = []
        self.row_lo: list[np.ndarray] = []
        self.row_hi: list[np.ndarray] = []
        self.n_row = 0

    def add_cols(self, cost: np.ndarray, lb: float = 0.0, ub: float = _INF) -> np.ndarray:
        k = len(cost)
        self.cost.append(np.asarray(cost, float))
        self.lb.append(np.full(k, lb))
        self.ub.append(np.full(k, ub))
        self.integer.append(np.zeros(k, dtype=bool))
        idx = np.arange(self.n_col, self.n_col + k)
        self.n_col += k
        return idx

    def add_rows(
        self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> None:
        """Add ``len(lo)`` rows; ``rows`` are local (0-based) row numbers of the triplets."""
        self.rr.append(np.asarray(rows, np.int64) + self.n_row)
        self.rc.append(np.asarray(cols, np.int64))
        self.rv.append(np.asarray(vals, float))
        self.row_lo.append(np.asarray(lo, float))
        self.row_hi.append(np.asarray(hi, float))
        self.n_row += len(lo)

    def add_cardinality(self, p: int) -> None:
        n = self.n_sites
        self.add_rows(np.zeros(n), np.arange(n), np.ones(n), [p], [p])

    def add_cuts(self, cuts: Sequence[tuple[int, ...]], exact_p: bool) -> None:
        """No-good cuts excluding each given set of open sites."""
        n = self.n_sites
        for s in cuts:
            if exact_p:  # sum_{i in S} y_i <= |S| - 1 suffices when sum(y) is fixed
                self.add_rows(np.zeros(len(s)), np.array(s), np.ones(len(s)), [-_INF], [len(s) - 1])
            else:
                v = -np.ones(n)
                v[list(s)] = 1.0
                self.add_rows(np.zeros(n), np.arange(n), v, [-_INF], [len(s) - 1])

    def solve(
        self,
        time_limit_s: float,
        mip_gap: float,
        cuts: Sequence[tuple[int, ...]] = (),
        exact_p: bool = True,
        start: tuple[int, ...] | None = None,
    ) -> tuple[tuple[int, ...] | None, str, float]:
        """Solve (``start``: open sites of a MIP start); return (sites or None, status, gap)."""
        saved = self.n_row, len(self.rr)
        self.add_cuts(cuts, exact_p)
        try:
            lp = self._to_highs_lp()
        finally:  # cuts are per call
            self.n_row = saved[0]
            for lst in (self.rr, self.rc, self.rv, self.row_lo, self.row_hi):
                del lst[saved[1] :]
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit_s, 1e-3)))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.passModel(lp)
        if start is not None and tuple(start) not in set(map(tuple, cuts)):
            y0 = np.zeros(self.n_sites)
            y0[list(start)] = 1.0
            h.setSolution(self.n_sites, np.arange(self.n_sites, dtype=np.int32), y0)
        h.run()
        status = _status_name(h.getModelStatus())
        info = h.getInfo()
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            return None, status, _INF
        y = np.asarray(h.getSolution().col_value[: self.n_sites])
        gap = float(info.mip_gap) if status != "optimal" else 0.0
        if not math.isfinite(gap):
            gap = _INF
        return tuple(int(i) for i in np.flatnonzero(y > 0.5)), status, max(gap, 0.0)

    def _to_highs_lp(self) -> highspy.HighsLp:
        import highspy

        a = sp.csc_array(
            (
                np.concatenate(self.rv) if self.rv else np.zeros(0),
                (
                    np.concatenate(self.rr) if self.rr else np.zeros(0, np.int64),
                    np.concatenate(self.rc) if self.rc else np.zeros(0, np.int64),
                ),
            ),
            shape=(self.n_row, self.n_col),
        )
        a.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_col
        lp.num_row_ = self.n_row
        lp.col_cost_ = np.concatenate(self.cost)
        lp.col_lower_ = np.concatenate(self.lb)
        lp.col_upper_ = np.concatenate(self.ub)
        lp.row_lower_ = np.concatenate(self.row_lo) if self.row_lo else np.zeros(0)
        lp.row_upper_ = np.concatenate(self.row_hi) if self.row_hi else np.zeros(0)
        lp.offset_ = float(self.offset)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
        integ = np.concatenate(self.integer)
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integ
        ]
        return lp


def _status_name(status: highspy.HighsModelStatus) -> str:
    import highspy

    names = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kInterrupt: "interrupted",
        highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
        highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
        highspy.HighsModelStatus.kMemoryLimit: "memory_limit",
    }
    return names.get(status, status.name.removeprefix("k").lower())


# --------------------------------------------------------------------------- evaluation


def _nearest(cost: np.ndarray, sites: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open site and its cost for every demand point (-1 / inf if unreachable)."""
    if not sites:
        m = cost.shape[1]
        return np.full(m, -1, dtype=np.int64), np.full(m, _INF)
    idx = np.asarray(sites)
    sub = cost[idx]
    k = np.argmin(sub, axis=0)
    d = sub[k, np.arange(cost.shape[1])]
    a = np.where(np.isfinite(d), idx[k], -1).astype(np.int64)
    a.setflags(write=False)
    return a, d


@dataclass
class _Problem:
    """A model instance that can be (re)solved with no-good cuts (used by :func:`k_best`)."""

    model: str
    cost: np.ndarray
    weights: np.ndarray
    exact_p: bool
    maximise: bool
    standard: float | None
    uncoverable: tuple[int, ...]
    solver: Callable[
        [Sequence[tuple[int, ...]], float, float], tuple[tuple[int, ...] | None, str, float]
    ]

    def evaluate(
        self, sites: tuple[int, ...], status: str, gap: float, t: float
    ) -> LocationSolution:
        assign, d = _nearest(self.cost, sites)
        w = self.weights
        pos = w > 0
        if self.model == "p_median":
            obj = float(np.sum(w[pos] * d[pos]))
            covered = float(np.sum(w[np.isfinite(d)]))
        elif self.model == "p_center":
            obj = float(np.max(d[pos])) if pos.any() else 0.0
            covered = float(np.sum(w[np.isfinite(d)]))
        else:
            assert self.standard is not None
            covered = float(np.sum(w[d <= self.standard]))
            obj = covered if self.model == "mclp" else float(len(sites))
        return LocationSolution(
            self.model, sites, obj, gap, status, assign, covered, t, self.uncoverable
        )

    def solve(
        self, cuts: Sequence[tuple[int, ...]], time_limit_s: float, mip_gap: float
    ) -> LocationSolution | None:
        t0 = time.perf_counter()
        sites, status, gap = self.solver(cuts, time_limit_s, mip_gap)
        if sites is None:
            if status == "infeasible":
                return None
            raise TimeoutError(
                f"{self.model}: solver stopped ({status}) without a feasible "
                "solution; increase time_limit_s"
            )
        return self.evaluate(sites, status, gap, time.perf_counter() - t0)


def _single(problem: _Problem, time_limit_s: float, mip_gap: float, what: str) -> LocationSolution:
    sol = problem.solve((), time_limit_s, mip_gap)
    if sol is None:
        raise ValueError(f"{problem.model}: no feasible solution ({what})")
    return sol


# --------------------------------------------------------------------------- p-median


def _unreachable_check(c: np.ndarray, w: np.ndarray, model: str) -> None:
    bad = np.flatnonzero((w > 0) & ~np.isfinite(c).any(axis=0))
    if bad.size:
        raise ValueError(
            f"{model}: demand points {bad[:10].tolist()} have positive weight but "
            "are unreachable from every candidate site"
        )


_AUTO_RADIUS_RATIO = 0.75


def _p_median_radius(c: np.ndarray, w: np.ndarray, p: int, fixed: tuple[int, ...]) -> _Milp:
    """Radius (Elloumi-style, chained) formulation.

    For demand j with sorted distinct costs D_1 < ... < D_K, z_jk = 1 iff j is served at cost
    > D_k; objective w_j (D_1 + sum_k (D_{k+1} - D_k) z_jk) with chained rows
    z_jk - z_j,k-1 + sum_{i: c_ij = D_k} y_i >= 0 (z_j0 = 1). Its LP bound equals that of the
    strong x_ij <= y_i formulation. Levels that can never be reached (>= n - p + 1 sites closer,
    or at/after the nearest fixed depot) are dropped.
    """
    n = c.shape[0]
    milp = _Milp(n, fixed)
    milp.add_cardinality(p)
    cap = c[list(fixed)].min(axis=0) if fixed else np.full(c.shape[1], _INF)
    for j in np.flatnonzero(w > 0):
        col = c[:, j]
        fin = np.flatnonzero(np.isfinite(col))
        levels, lvl = np.unique(col[fin], return_inverse=True)
        counts = np.cumsum(np.bincount(lvl, minlength=len(levels)))
        stop = (counts >= n - p + 1) | (levels >= cap[j])
        if stop.any():
            k_last = int(np.argmax(stop))
            guaranteed = True
        else:
            k_last = len(levels) - 1
            guaranteed = False
        nk = k_last + 1  # levels 0..k_last in use; z_0..z_{k_last-1}
        milp.offset += w[j] * levels[0]
        z = milp.add_cols(w[j] * np.diff(levels[:nk]))
        n_rows = nk if not guaranteed else nk - 1
        if n_rows == 0:
            continue
        keep = lvl < n_rows
        rows = [lvl[keep], np.arange(nk - 1), np.arange(1, nk)]
        cols = [fin[keep], z, z]
        vals = [np.ones(int(keep.sum())), np.ones(nk - 1), -np.ones(nk - 1)]
        r, cc, v = (np.concatenate(x) for x in (rows, cols, vals))
        ok = r < n_rows
        lo = np.zeros(n_rows)
        lo[0] = 1.0
        milp.add_rows(r[ok], cc[ok], v[ok], lo, np.full(n_rows, _INF))
    return milp


def _p_median_standard(c: np.ndarray, w: np.ndarray, p: int, fixed: tuple[int, ...]) -> _Milp:
    """Strong textbook formulation: sum_i x_ij = 1, x_ij <= y_i, sum_i y_i = p."""
    n = c.shape[0]
    milp = _Milp(n, fixed)
    milp.add_cardinality(p)
    dem = np.flatnonzero(w > 0)
    sub = c[:, dem]
    ii, jj = np.nonzero(np.isfinite(sub))
    x = milp.add_cols(w[dem][jj] * sub[ii, jj], 0.0, 1.0)
    k = len(x)
    milp.add_rows(jj, x, np.ones(k), np.ones(len(dem)), np.ones(len(dem)))
    milp.add_rows(
        np.r_[np.arange(k), np.arange(k)],
        np.r_[x, ii],
        np.r_[np.ones(k), -np.ones(k)],
        np.full(k, -_INF),
        np.zeros(k),
    )
    return milp


def _finite_demand(c: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted demand columns with inf replaced by a prohibitive finite cost (heuristics only)."""
    pos = w > 0
    cc, ww = c[:, pos], w[pos]
    fin = np.isfinite(cc)
    big = (float(cc[fin].max()) + 1.0) * (cc.shape[1] + 1) if fin.any() else 1.0
    return np.where(fin, cc, big), ww


def _swap_table(
    cc: np.ndarray, ww: np.ndarray, sites: Sequence[int], fixed: tuple[int, ...]
) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Objective after swapping removable site r (rows) for closed site i (columns)."""
    n, m = cc.shape
    s_arr = np.asarray(sites)
    out = np.setdiff1d(np.arange(n), s_arr)
    removable = [int(r) for r in s_arr if r not in fixed]
    if out.size == 0 or not removable or m == 0:
        return np.zeros((0, out.size)), [], out
    order = np.argsort(cc[s_arr], axis=0)
    near = s_arr[order[0]]
    d1 = cc[near, np.arange(m)]
    d2 = cc[s_arr[order[1]], np.arange(m)] if len(s_arr) > 1 else np.full(m, _INF)
    table = np.array(
        [np.minimum(cc[out], np.where(near == r, d2, d1)[None, :]) @ ww for r in removable]
    )
    return table, removable, out


def _p_median_heuristic(
    c: np.ndarray, w: np.ndarray, p: int, fixed: tuple[int, ...]
) -> tuple[int, ...]:
    """Greedy construction + best-improvement swaps (Teitz-Bart); a MIP start only."""
    cc, ww = _finite_demand(c, w)
    m = cc.shape[1]
    sites = list(fixed)
    d1 = cc[sites].min(axis=0) if sites else np.full(m, _INF)
    while len(sites) < p:
        tot = np.minimum(cc, d1[None, :]) @ ww
        tot[sites] = _INF
        i = int(np.argmin(tot))
        sites.append(i)
        d1 = np.minimum(d1, cc[i])
    for _ in range(10 * cc.shape[0]):
        table, removable, out = _swap_table(cc, ww, sites, fixed)
        current = float(cc[sites].min(axis=0) @ ww) if m else 0.0
        if table.size == 0 or table.min() >= current * (1 - 1e-12) - 1e-9:
            break
        r, k = np.unravel_index(int(np.argmin(table)), table.shape)
        sites[sites.index(removable[r])] = int(out[k])
    return tuple(sorted(sites))


def _best_new_neighbour(
    c: np.ndarray, w: np.ndarray, fixed: tuple[int, ...], found: Sequence[tuple[int, ...]]
) -> tuple[int, ...] | None:
    """Best single-swap neighbour of any found solution that is not itself found (K-best start)."""
    cc, ww = _finite_demand(c, w)
    seen = set(found)
    best: tuple[float, tuple[int, ...]] | None = None
    for s in found:
        table, removable, out = _swap_table(cc, ww, s, fixed)
        for flat in np.argsort(table, axis=None):
            r, k = np.unravel_index(int(flat), table.shape)
            cand = tuple(sorted((set(s) - {removable[r]}) | {int(out[k])}))
            if cand not in seen:
                if best is None or table[r, k] < best[0]:
                    best = (float(table[r, k]), cand)
                break
    return None if best is None else best[1]


def _p_median_problem(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    formulation: Literal["auto", "radius", "standard"] = "auto",
) -> _Problem:
    c, w, fixed = _check_inputs(cost, weights, p, fixed_open, time_limit_s, mip_gap)
    _unreachable_check(c, w, "p_median")
    if formulation not in ("auto", "radius", "standard"):
        raise ValueError(
            f"unknown formulation {formulation!r} (use 'auto', 'radius' or 'standard')"
        )
    milp = None
    if formulation in ("auto", "radius"):
        milp = _p_median_radius(c, w, p, fixed)
        n_pairs = int(np.isfinite(c[:, w > 0]).sum())
        if formulation == "auto" and milp.n_col - c.shape[0] > _AUTO_RADIUS_RATIO * n_pairs:
            milp = None  # few tied costs: the radius model is no smaller, use the standard one
    if milp is None:
        milp = _p_median_standard(c, w, p, fixed)

    start = _p_median_heuristic(c, w, p, fixed)

    def solver(cuts: Sequence[tuple[int, ...]], tl: float, gap: float):
        s0 = start if start not in cuts else _best_new_neighbour(c, w, fixed, cuts)
        return milp.solve(tl, gap, cuts, exact_p=True, start=s0)

    return _Problem("p_median", c, w, True, False, None, (), solver)


def p_median(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    formulation: Literal["auto", "radius", "standard"] = "auto",
) -> LocationSolution:
    """Open exactly ``p`` sites minimising sum_j w_j * (cost to nearest open site).

    ``formulation``: ``"radius"`` (Elloumi-style, small when costs repeat, e.g. integer road
    distances) or ``"standard"`` (x_ij <= y_i); both are exact and equally tight. ``"auto"`` picks
    radius when it has at most 75 % as many variables as the standard model.
    Demand points with positive weight must be reachable from some site (else ``ValueError``).
    """
    prob = _p_median_problem(
        cost,
        weights,
        p,
        fixed_open=fixed_open,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        formulation=formulation,
    )
    return _single(prob, time_limit_s, mip_gap, "p sites cannot reach every weighted point")


# --------------------------------------------------------------------------- covering models


def _cover_sets(
    c: np.ndarray, w: np.ndarray, standard: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """(site idx, local row idx, demand idx of rows, uncoverable) for weighted demand."""
    cov = c <= standard
    coverable = cov.any(axis=0)
    pos = w > 0
    uncoverable = tuple(int(j) for j in np.flatnonzero(pos & ~coverable))
    dem = np.flatnonzero(pos & coverable)
    ii, jj = np.nonzero(cov[:, dem])
    return ii, jj, dem, uncoverable


def _mclp_problem(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    standard: float,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> _Problem:
    c, w, fixed = _check_inputs(cost, weights, p, fixed_open, time_limit_s, mip_gap)
    s = _check_standard(standard)
    ii, jj, dem, unc = _cover_sets(c, w, s)
    milp = _Milp(c.shape[0], fixed)
    milp.add_cardinality(p)
    z = milp.add_cols(-w[dem], 0.0, 1.0)  # maximise covered weight
    milp.add_rows(
        np.r_[np.arange(len(dem)), jj],
        np.r_[z, ii],
        np.r_[np.ones(len(dem)), -np.ones(len(ii))],
        np.full(len(dem), -_INF),
        np.zeros(len(dem)),
    )

    def solver(cuts: Sequence[tuple[int, ...]], tl: float, gap: float):
        return milp.solve(tl, gap, cuts, exact_p=True)

    return _Problem("mclp", c, w, True, True, s, unc, solver)


def mclp(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    standard: float,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> LocationSolution:
    """Maximal covering: open exactly ``p`` sites maximising the weight within ``standard``."""
    prob = _mclp_problem(
        cost,
        weights,
        p,
        standard,
        fixed_open=fixed_open,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )
    return _single(prob, time_limit_s, mip_gap, "unexpected")


def _lscp_problem(
    cost: np.ndarray,
    weights: np.ndarray,
    standard: float,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> _Problem:
    c, w, fixed = _check_inputs(cost, weights, None, fixed_open, time_limit_s, mip_gap)
    s = _check_standard(standard)
    ii, jj, dem, unc = _cover_sets(c, w, s)
    milp = _Milp(c.shape[0], fixed, y_cost=np.ones(c.shape[0]))
    milp.add_rows(jj, ii, np.ones(len(ii)), np.ones(len(dem)), np.full(len(dem), _INF))

    def solver(cuts: Sequence[tuple[int, ...]], tl: float, gap: float):
        return milp.solve(tl, gap, cuts, exact_p=False)

    return _Problem("lscp", c, w, False, False, s, unc, solver)


def lscp(
    cost: np.ndarray,
    weights: np.ndarray,
    standard: float,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> LocationSolution:
    """Set covering: fewest sites (fixed ones included) so that every positive-weight demand point
    that any site can reach within ``standard`` is covered. Points no site can cover are listed in
    ``uncoverable`` instead of making the problem infeasible."""
    prob = _lscp_problem(
        cost, weights, standard, fixed_open=fixed_open, time_limit_s=time_limit_s, mip_gap=mip_gap
    )
    return _single(prob, time_limit_s, mip_gap, "unexpected")


# --------------------------------------------------------------------------- p-center


def _p_center_problem(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> _Problem:
    c, w, fixed = _check_inputs(cost, weights, p, fixed_open, time_limit_s, mip_gap)
    _unreachable_check(c, w, "p_center")
    n = c.shape[0]
    dem = np.flatnonzero(w > 0)
    sub = c[:, dem]
    lb = float(sub.min(axis=0).max()) if dem.size else 0.0
    ub_fixed = float(sub[list(fixed)].min(axis=0).max()) if fixed and dem.size else _INF
    vals = np.unique(sub[np.isfinite(sub)])
    radii = vals[(vals >= lb) & (vals <= ub_fixed)] if dem.size else np.zeros(1)
    state = {"lo": 0}  # index of a radius known to be a lower bound (raised by k_best calls)

    def feasible(r: float, cuts: Sequence[tuple[int, ...]], tl: float):
        milp = _Milp(n, fixed)
        milp.add_cardinality(p)
        ii, jj = np.nonzero(sub <= r)
        milp.add_rows(jj, ii, np.ones(len(ii)), np.ones(dem.size), np.full(dem.size, _INF))
        return milp.solve(tl, 0.0, cuts, exact_p=True)

    def radius(sites: tuple[int, ...]) -> float:
        return float(c[np.asarray(sites)][:, dem].min(axis=0).max()) if dem.size else 0.0

    def solver(cuts: Sequence[tuple[int, ...]], tl: float, gap: float):
        deadline = time.perf_counter() + tl
        lo = state["lo"]
        hi = len(radii) - 1
        best, st = feasible(radii[hi], cuts, tl)[:2]
        if best is None:
            return None, st, _INF
        hi = int(np.searchsorted(radii, radius(best)))
        status = "optimal"
        while lo < hi:  # invariant: radii[hi] feasible, all radii below lo infeasible
            left = deadline - time.perf_counter()
            if left <= 0:
                status = "time_limit"
                break
            mid = (lo + hi) // 2
            sites, st, _ = feasible(radii[mid], cuts, left)
            if sites is not None:
                best = sites
                hi = int(np.searchsorted(radii, radius(sites)))
            elif st == "infeasible":
                lo = mid + 1
            else:
                status = st
                break
        state["lo"] = lo
        top = radius(best)
        g = 0.0 if lo >= hi or top == 0 else (top - radii[lo]) / top
        return best, status, g

    return _Problem("p_center", c, w, True, False, None, (), solver)


def p_center(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    fixed_open: Sequence[int] = (),
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> LocationSolution:
    """Open exactly ``p`` sites minimising the maximum (unweighted) cost from a positive-weight
    demand point to its nearest open site. Exact: binary search over the sorted distinct costs,
    each step a covering feasibility MILP. ``mip_gap`` is accepted for API symmetry but the search
    always runs to optimality unless ``time_limit_s`` (total) runs out."""
    prob = _p_center_problem(
        cost, weights, p, fixed_open=fixed_open, time_limit_s=time_limit_s, mip_gap=mip_gap
    )
    return _single(prob, time_limit_s, mip_gap, "p sites cannot reach every weighted point")


# --------------------------------------------------------------------------- K best


_BUILDERS: dict[Callable[..., LocationSolution], Callable[..., _Problem]] = {
    p_median: _p_median_problem,
    mclp: _mclp_problem,
    lscp: _lscp_problem,
    p_center: _p_center_problem,
}


def k_best(
    model_fn: Callable[..., LocationSolution], k: int, /, *args: object, **kwargs: object
) -> list[LocationSolution]:
    """The ``k`` best distinct solutions (distinct sets of open sites), best first.

    ``model_fn`` is one of :func:`p_median`, :func:`mclp`, :func:`lscp`, :func:`p_center`;
    ``args``/``kwargs`` are passed as to it. Each solution is found by re-solving with no-good
    cuts on the ``y`` variables excluding all earlier ones; ``time_limit_s`` is the total budget.
    Fewer than ``k`` solutions are returned when no further distinct solution exists. For LSCP a
    "distinct solution" may be a superset of an earlier cover (it is still ranked by size).
    """
    if model_fn not in _BUILDERS:
        raise ValueError("model_fn must be one of p_median, mclp, lscp, p_center")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    prob = _BUILDERS[model_fn](*args, **kwargs)
    time_limit_s = float(kwargs.get("time_limit_s", 60.0))  # type: ignore[arg-type]
    mip_gap = float(kwargs.get("mip_gap", 0.0))  # type: ignore[arg-type]
    deadline = time.perf_counter() + time_limit_s
    found: list[LocationSolution] = []
    while len(found) < k:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        sol = prob.solve([s.open_sites for s in found], left, mip_gap)
        if sol is None:
            break
        found.append(sol)
    return found


# --------------------------------------------------------------------------- OR-Library


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an OR-Library ``pmedN.txt`` file; return (all-pairs shortest-path matrix, p).

    The file holds ``n_vertices n_edges p`` then undirected edges ``i j cost`` (1-based). When an
    edge is listed more than once the LAST occurrence counts (as in the published optima).
    """
    data = np.array(Path(path).read_text().split(), dtype=float)
    if data.size < 3:
        raise ValueError(f"{path}: not a pmed file")
    n, m, p = (int(x) for x in data[:3])
    edges = data[3 : 3 + 3 * m].reshape(-1, 3)
    if edges.shape[0] != m:
        raise ValueError(f"{path}: expected {m} edges, found {edges.shape[0]}")
    a = np.minimum(edges[:, 0], edges[:, 1]).astype(np.int64) - 1
    b = np.maximum(edges[:, 0], edges[:, 1]).astype(np.int64) - 1
    if a.min(initial=0) < 0 or b.max(initial=0) >= n:
        raise ValueError(f"{path}: vertex index outside 1..{n}")
    key = a * n + b
    _, last_rev = np.unique(key[::-1], return_index=True)  # first in reversed = last occurrence
    keep = len(key) - 1 - last_rev
    keep = keep[a[keep] != b[keep]]
    g = sp.coo_array((edges[keep, 2], (a[keep], b[keep])), shape=(n, n)).tocsr()
    dist = shortest_path(g, method="D", directed=False)
    return dist, p
