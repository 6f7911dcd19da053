"""Verification and validation: the model's numbers against queueing theory and networkx.

Three kinds of evidence, each returned as a :class:`Check` row (``reliefsim validate-model``):

* **Queueing theory.** The rescue model reduced to a queue — one base with ``c`` identical
  units, one incident type needing one unit, exponential or gamma work times, zero
  mobilisation and zero travel, Poisson calls, FCFS — must reproduce Erlang C (M/M/c) and
  Pollaczek–Khinchine (M/G/1) for the mean wait and P(wait > 0), Little's law for the
  time-average queue and the utilisation, and the exact FCFS waits of the Kiefer–Wolfowitz
  recursion on its own realised calls and work times. Statistical checks use independent
  replications and a Student-t interval over replication means; the theory must lie inside
  the interval *and* the relative error must be below a bound the test can fail.
* **Routing.** Every travel time, time row and route the model queries during a run equals
  the shortest path that networkx computes on a copy of the road graph with the closure
  state of that moment applied.
* **Determinism and common random numbers.** Same seed, same records; another seed, other
  incidents; adding a depot or changing team counts leaves the incident stream unchanged.
* **Metamorphic relief properties** (:mod:`sim.metamorphic`): on random scenarios, helping
  changes never make relief worse beyond the named rules and tolerances, and more people
  never make it sooner.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import networkx as nx
import numpy as np
import pandas as pd

import sim
from sim.model import simulate
from sim.model.records import Records
from sim.model.roads import Closures, RoadState
from sim.scenario import dump_scenario, load_scenario, parse_scenario
from sim.stats import t_ci
from sim.world import World, build_world

__all__ = [
    "QUEUE_CASES",
    "SCENARIOS_DIR",
    "Check",
    "QueueCase",
    "QueueRuns",
    "RoadQuery",
    "check_common_random_numbers",
    "check_determinism",
    "check_metamorphic",
    "check_queue",
    "check_routing",
    "default_world",
    "erlang_c",
    "fcfs_waits",
    "mmc_stationary_count",
    "pollaczek_khinchine",
    "queue_scenario",
    "run_checks",
    "run_queue",
    "spy_road_queries",
]

SCENARIOS_DIR = Path(sim.__file__).resolve().parents[1] / "scenarios"
DEFAULT_SCENARIO = "helsinki_storm.yaml"
LEVEL = 0.99
"""Confidence level of the statistical checks (false alarms rare, bounds still binding)."""
EXACT_TOL_H = 1e-6
"""Tolerance (h) of checks that must hold exactly up to floating-point rounding."""
JOB, BACKLOG, UNIT = "job", "backlog", "unit"
"""Incident type of the measured calls, of the initial queue, and the team type serving both."""


@dataclass(frozen=True)
class Check:
    """One validation result: what theory (or the independent tool) says and what we got."""

    name: str
    theory: float
    simulated: float
    ci_low: float
    ci_high: float
    passed: bool
    note: str = ""


# -- queueing theory ---------------------------------------------------------------------------


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """M/M/c: ``(P(wait > 0), mean wait in queue (h))`` for arrival rate ``lam``, service rate
    ``mu`` per server and ``c`` servers (requires ``lam < c * mu``)."""
    a, rho = lam / mu, lam / (c * mu)
    if not 0 < rho < 1:
        raise ValueError(f"unstable or empty queue: rho = {rho:.3f}")
    # Erlang B by its stable recursion, then C = B / (1 - rho (1 - B)).
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1 - rho * (1 - b))
    return p_wait, p_wait / (c * mu - lam)


def pollaczek_khinchine(lam: float, mean_s: float, cv_s: float) -> float:
    """M/G/1: mean wait in queue (h) for service mean ``mean_s`` (h) and coefficient of
    variation ``cv_s``: ``rho / (1 - rho) * mean_s * (1 + cv_s**2) / 2``."""
    rho = lam * mean_s
    if not 0 < rho < 1:
        raise ValueError(f"unstable or empty queue: rho = {rho:.3f}")
    return rho / (1 - rho) * mean_s * (1 + cv_s**2) / 2


def mmc_stationary_count(lam: float, mu: float, c: int, rng: np.random.Generator) -> int:
    """A draw of the number in system of a stationary M/M/c queue."""
    a, rho = lam / mu, lam / (c * mu)
    head = np.cumprod(np.concatenate(([1.0], a / np.arange(1, c + 1))))  # a^n / n!, n = 0..c
    p_head = head[:c]  # n < c
    p_tail = head[c] / (1 - rho)  # sum over n >= c
    total = p_head.sum() + p_tail
    u = rng.random() * total
    cum = np.cumsum(p_head)
    if u < cum[-1]:
        return int(np.searchsorted(cum, u, side="right"))
    return c + int(rng.geometric(1 - rho)) - 1  # P(n - c = k) ∝ rho^k


def fcfs_waits(call_h: np.ndarray, service_h: np.ndarray, c: int) -> np.ndarray:
    """Waits of an FCFS ``c``-server queue (Kiefer–Wolfowitz recursion), calls in order."""
    free = np.zeros(c)
    waits = np.empty(len(call_h))
    for i, (t, s) in enumerate(zip(call_h.tolist(), service_h.tolist(), strict=True)):
        k = int(free.argmin())
        start = max(float(free[k]), t)
        waits[i] = start - t
        free[k] = start + s
    return waits


@dataclass(frozen=True)
class QueueCase:
    """A queue the rescue model is reduced to, and how long and how often to run it.

    Calls arrive during ``arrivals_h``; the run continues ``drain_h`` more so every call is
    served. ``stationary_start`` (M/M/c only) pre-loads a queue drawn from the stationary
    distribution, so no warm-up is needed; otherwise calls before ``warmup_frac`` of the
    arrival period are dropped. ``max_rel_err`` bounds |simulated − theory| / theory of the
    mean wait and ``max_abs_err_p`` the error of P(wait > 0).
    """

    name: str
    servers: int
    lam: float
    mu: float
    cv: float
    arrivals_h: float
    replications: int
    max_rel_err: float
    max_abs_err_p: float
    warmup_frac: float = 0.0
    stationary_start: bool = False
    drain_h: float = 200.0
    seed: int = 20261122

    @property
    def rho(self) -> float:
        return self.lam / (self.servers * self.mu)

    def theory(self) -> tuple[float, float]:
        """``(P(wait > 0), mean wait h)``: Erlang C when exponential, else P–K (one server)."""
        if self.cv == 1.0:
            return erlang_c(self.lam, self.mu, self.servers)
        if self.servers != 1:
            raise ValueError("no closed form for M/G/c with c > 1")
        return self.rho, pollaczek_khinchine(self.lam, 1 / self.mu, self.cv)

    def scaled(self, fraction: float) -> QueueCase:
        """The same case with ``fraction`` of the arrival period; bounds widen by 1/sqrt."""
        widen = 1 / math.sqrt(fraction)
        return replace(self, arrivals_h=self.arrivals_h * fraction,
                       max_rel_err=self.max_rel_err * widen,
                       max_abs_err_p=self.max_abs_err_p * widen)


QUEUE_CASES: tuple[QueueCase, ...] = (
    QueueCase("M/M/2 rho=0.50", servers=2, lam=1.0, mu=1.0, cv=1.0, arrivals_h=1000,
              replications=20, max_rel_err=0.20, max_abs_err_p=0.03, stationary_start=True),
    QueueCase("M/M/2 rho=0.80", servers=2, lam=1.6, mu=1.0, cv=1.0, arrivals_h=1000,
              replications=20, max_rel_err=0.25, max_abs_err_p=0.04, stationary_start=True),
    QueueCase("M/M/3 rho=0.95", servers=3, lam=2.85, mu=1.0, cv=1.0, arrivals_h=3000,
              replications=40, max_rel_err=0.25, max_abs_err_p=0.04, stationary_start=True),
    QueueCase("M/G/1 rho=0.70 cv=0.5", servers=1, lam=0.7, mu=1.0, cv=0.5, arrivals_h=2500,
              replications=10, max_rel_err=0.15, max_abs_err_p=0.04, warmup_frac=0.1),
)
"""The theory checks: Erlang C at rho 0.5, 0.8, 0.95 and Pollaczek–Khinchine for cv 0.5."""


def queue_scenario(case: QueueCase, *, network: Mapping[str, Any], location: list[float],
                   initial: int = 0) -> dict[str, Any]:
    """Scenario data reducing the rescue model to ``case``: one base at ``location`` with
    ``c`` units (no mobilisation), Poisson calls at that same point (zero travel), FCFS, and
    ``initial`` backlog calls at time 0 (same work; type :data:`BACKLOG`)."""
    work = {"needs": [{"team": UNIT, "count": 1, "main": True}], "work_h": 1 / case.mu,
            "work_cv": case.cv, "urgency": 3}
    return {
        "name": f"validation {case.name}",
        "seed": case.seed,
        "horizon_h": case.arrivals_h + case.drain_h,
        "network": dict(network),
        "commodities": [{"id": "kit"}],
        "team_bases": [{"id": "base", "location": location,
                        "teams": [{"type": UNIT, "count": case.servers, "mobilisation_h": 0}]}],
        "incident_types": [{"id": JOB, **work}, {"id": BACKLOG, **work}],
        "incidents": [{"id": f"backlog{i:06d}", "type": BACKLOG, "location": location,
                       "time_h": 0} for i in range(initial)],
        "generators": [{"type": JOB, "rate_per_h": case.lam,
                        "window": {"start_h": 0, "end_h": case.arrivals_h},
                        "locate_on": "points", "points": [location]}],
        "dispatch": {"policy": "fcfs"},
    }


@dataclass
class QueueRuns:
    """Per-replication statistics of one queue case."""

    case: QueueCase
    mean_wait_h: list[float] = field(default_factory=list)
    p_wait: list[float] = field(default_factory=list)
    queue_len: list[float] = field(default_factory=list)  # time-average number waiting
    busy_units: list[float] = field(default_factory=list)  # time-average units at work
    service_cv: list[float] = field(default_factory=list)
    calls: int = 0
    path_error_h: float = 0.0  # max |model wait − FCFS recursion wait|


def _overlap(start: np.ndarray, end: np.ndarray, low: float, high: float) -> float:
    return float(np.clip(np.minimum(end, high) - np.maximum(start, low), 0, None).sum())


def run_queue(world: World, case: QueueCase) -> QueueRuns:
    """Run the replications of ``case`` on ``world``'s road network and measure them (a call
    still unserved at the horizon has an infinite wait, so its checks fail loudly)."""
    base = world.scenario.team_bases[0] if world.scenario.team_bases else None
    node = world.node(base.id) if base is not None else 0
    location = [float(world.road.lon[node]), float(world.road.lat[node])]
    network = dump_scenario(world.scenario)["network"]
    runs = QueueRuns(case)
    low = case.warmup_frac * case.arrivals_h
    for r in range(case.replications):
        rng = np.random.default_rng([case.seed, r])
        initial = (mmc_stationary_count(case.lam, case.mu, case.servers, rng)
                   if case.stationary_start else 0)
        data = queue_scenario(case, network=network, location=location, initial=initial)
        records = simulate(world.with_scenario(parse_scenario(data)), replication=r)
        inc = records.table("incidents").sort_values(["call_h", "incident"])
        call, arrive = inc.call_h.to_numpy(), inc.first_arrival_h.to_numpy()
        service = (inc.done_h - inc.on_scene_h).to_numpy()
        wait = arrive - call
        runs.path_error_h = max(runs.path_error_h, float(np.abs(
            wait - fcfs_waits(call, service, case.servers)).max()))
        measured = ((inc.type == JOB) & (inc.call_h >= low)).to_numpy()
        runs.calls += int(measured.sum())
        runs.mean_wait_h.append(float(wait[measured].mean()))
        runs.p_wait.append(float((wait[measured] > EXACT_TOL_H).mean()))
        span = case.arrivals_h - low
        runs.queue_len.append(_overlap(call, arrive, low, case.arrivals_h) / span)
        trips = records.table("trips")
        runs.busy_units.append(_overlap(trips.start_h.to_numpy(), trips.end_h.to_numpy(), low,
                                        case.arrivals_h) / span)
        jobs = service[(inc.type == JOB).to_numpy()]
        runs.service_cv.append(float(jobs.std() / jobs.mean()))
    return runs


def _statistical(name: str, theory: float, values: list[float], *, max_err: float,
                 relative: bool, level: float, note: str) -> Check:
    ci = t_ci(np.asarray(values), level)
    err = abs(ci.mean - theory) / (theory if relative else 1.0)
    inside = ci.low <= theory <= ci.high
    bound = f"{'rel' if relative else 'abs'} err {err:.3f} ≤ {max_err:.3f}"
    return Check(name, theory, ci.mean, ci.low, ci.high, bool(inside and err <= max_err),
                 f"{level:.0%} t CI over {ci.n} reps; {bound}; {note}")


def check_queue(world: World, case: QueueCase, *, level: float = LEVEL) -> list[Check]:
    """Mean wait and P(wait > 0) against theory, Little's law for the queue and the units,
    the work-time cv, and the exact FCFS sample path, for one queue case."""
    runs = run_queue(world, case)
    p_theory, w_theory = case.theory()
    stat = partial(_statistical, level=level, note=f"{runs.calls} calls")
    checks = [
        stat(f"{case.name}: mean wait (h)", w_theory, runs.mean_wait_h,
             max_err=case.max_rel_err, relative=True),
        stat(f"{case.name}: P(wait > 0)", p_theory, runs.p_wait,
             max_err=case.max_abs_err_p, relative=False),
    ]
    if case.stationary_start:  # time averages are unbiased only from a stationary start
        checks += [
            stat(f"{case.name}: Little L_q = λ·W_q", case.lam * w_theory, runs.queue_len,
                 max_err=case.max_rel_err, relative=True),
            stat(f"{case.name}: busy units = λ/μ", case.lam / case.mu, runs.busy_units,
                 max_err=0.05, relative=True),
        ]
    checks += [
        stat(f"{case.name}: work-time cv", case.cv, runs.service_cv, max_err=0.05,
             relative=True),
        Check(f"{case.name}: waits = FCFS recursion (h)", 0.0, runs.path_error_h, math.nan,
              math.nan, runs.path_error_h <= EXACT_TOL_H,
              "max |model − Kiefer–Wolfowitz| over every call of every replication"),
    ]
    return checks


# -- routing -----------------------------------------------------------------------------------


State = tuple[frozenset[int], tuple[tuple[int, float], ...]]
"""A closure state as the model sets it: closed edge indices and (edge, slow-down factor)."""
OPEN: State = (frozenset(), ())


@dataclass(frozen=True)
class RoadQuery:
    """One travel-time query the model made: kind, nodes (indices), state and the answer."""

    kind: str  # "time_h" | "times_from" | "route"
    origin: int
    destination: int  # -1 for a whole row (times_from)
    state: State
    answer: Any  # float, row of floats, or Route | None


@contextmanager
def spy_road_queries() -> Iterator[list[RoadQuery]]:
    """Record every distinct :class:`RoadState` query (and its closure state) made inside."""
    found: dict[tuple[str, int, int, State], RoadQuery] = {}
    queries: list[RoadQuery] = []
    original = {name: getattr(RoadState, name) for name in ("set", "time_h", "times_from",
                                                           "route")}

    def remember(self: RoadState, kind: str, origin: int, destination: int,
                 answer: Any) -> Any:
        state = getattr(self, "_validation_state", OPEN)
        key = (kind, int(origin), int(destination), state)
        if key not in found:
            found[key] = RoadQuery(kind, int(origin), int(destination), state, answer)
            queries.append(found[key])
        return answer

    def set_state(self: RoadState, state: Closures) -> None:
        self._validation_state = (  # type: ignore[attr-defined]
            frozenset(int(e) for e in state.closed),
            tuple(sorted((int(e), float(f)) for e, f in state.slow.items())))
        original["set"](self, state)

    def time_h(self: RoadState, origin: int, destination: int) -> float:
        return remember(self, "time_h", origin, destination,
                        original["time_h"](self, origin, destination))

    def times_from(self: RoadState, origin: int) -> np.ndarray:
        return remember(self, "times_from", origin, -1, original["times_from"](self, origin))

    def route(self: RoadState, origin: int, destination: int) -> Any:
        return remember(self, "route", origin, destination,
                        original["route"](self, origin, destination))

    with mock.patch.multiple(RoadState, set=set_state, time_h=time_h, times_from=times_from,
                             route=route):
        yield queries


def _reference_graph(world: World, state: State) -> nx.MultiDiGraph:
    """A copy of the road graph with the state applied: closed edges removed, slowed edges'
    times multiplied; weight ``time_h``."""
    net = world.road
    graph = net.graph.copy()
    closed, slow = state
    factor = dict(slow)
    for i in range(net.n_edges):
        u, v, k = int(net.node_ids[net.edge_u[i]]), int(net.node_ids[net.edge_v[i]]), int(
            net.edge_key[i])
        if i in closed:
            graph.remove_edge(u, v, k)
        else:
            graph[u][v][k]["time_h"] = float(net.edge_time_h[i]) * factor.get(i, 1.0)
    return graph


def check_routing(world: World, *, replications: int = 5, max_origins: int = 400,
                  seed: int = 0) -> Check:
    """Every travel time the model uses in ``replications`` runs equals networkx's shortest
    path on the same graph and closure state (up to ``max_origins`` sampled (state, origin)
    pairs, each with all its queries)."""
    world.route_cache.clear()  # plan afresh, so every route is built in these runs
    with spy_road_queries() as queries:
        for r in range(replications):
            simulate(world, replication=r)
    net = world.road
    ids = net.node_ids
    groups: dict[tuple[State, int], list[RoadQuery]] = {}
    for q in queries:
        groups.setdefault((q.state, q.origin), []).append(q)
    keys = list(groups)
    if len(keys) > max_origins:
        pick = np.random.default_rng(seed).choice(len(keys), size=max_origins, replace=False)
        keys = [keys[i] for i in sorted(pick)]
    graphs: dict[State, nx.MultiDiGraph] = {}
    worst, compared, disrupted, problems = 0.0, 0, 0, []
    for state, origin in keys:
        graph = graphs.get(state)
        if graph is None:
            graph = graphs[state] = _reference_graph(world, state)
        lengths = nx.single_source_dijkstra_path_length(graph, int(ids[origin]), weight="time_h")
        ref = np.array([lengths.get(int(n), math.inf) for n in ids])
        for q in groups[(state, origin)]:
            got = _model_times(q, graph, ids)
            want = ref if q.destination < 0 else ref[[q.destination]]
            with np.errstate(invalid="ignore"):
                diff = np.abs(got - want)
            diff[np.isinf(got) & np.isinf(want)] = 0.0
            diff[np.isnan(diff)] = math.inf
            worst = max(worst, float(diff.max()))
            compared += 1
            disrupted += bool(state[0] or state[1])
            if diff.max() > EXACT_TOL_H and len(problems) < 3:
                problems.append(f"{q.kind} {q.origin}->{q.destination}")
    states = {q.state for q in queries}
    passed = worst <= EXACT_TOL_H and compared > 0
    note = (f"{compared} of {len(queries)} distinct queries ({disrupted} under closures or "
            f"slow-downs) in {len(states)} road states vs networkx Dijkstra")
    return Check(f"routing = networkx shortest paths: {world.scenario.name}", 0.0, worst,
                 math.nan, math.nan, passed, note + (f"; mismatches: {problems}" if problems
                                                     else ""))


def _model_times(q: RoadQuery, graph: nx.MultiDiGraph, ids: np.ndarray) -> np.ndarray:
    """The model's answer as times (h); a route must also use open edges whose times sum to
    its total (else NaN, a mismatch)."""
    if q.kind != "route":
        return np.atleast_1d(np.asarray(q.answer, dtype=float))
    if q.answer is None:
        return np.array([math.inf])
    nodes, cum_h, _ = q.answer
    hops = [min((d["time_h"] for d in graph[u][v].values()), default=math.nan)
            if graph.has_edge(u, v) else math.nan
            for u, v in itertools.pairwise(int(ids[n]) for n in nodes)]
    ends_ok = nodes[0] == q.origin and nodes[-1] == q.destination
    if not ends_ok or not math.isclose(math.fsum(hops), float(cum_h[-1]), rel_tol=0,
                                       abs_tol=EXACT_TOL_H):
        return np.array([math.nan])
    return np.array([float(cum_h[-1])])


# -- determinism and common random numbers ----------------------------------------------------


def _differing_tables(a: Records, b: Records) -> list[str]:
    tables_b = b.tables()
    return [name for name, table in a.tables().items() if not table.equals(tables_b[name])]


def _incident_stream(records: Records) -> pd.DataFrame:
    cols = ["incident", "type", "call_h", "lon", "lat"]
    return records.table("incidents")[cols].sort_values("incident").reset_index(drop=True)


def check_determinism(world: World, *, seed: int = 7) -> list[Check]:
    """Same seed → identical records (every table), also on a fresh world with cold route
    caches; another seed → other incidents."""
    first = simulate(world, seed=seed)
    again = simulate(world.with_scenario(world.scenario), seed=seed)  # cold caches
    differ = _differing_tables(first, again)
    other = simulate(world, seed=seed + 1)
    same_stream = _incident_stream(first).equals(_incident_stream(other))
    return [
        Check("determinism: same seed, same records", 0.0, float(len(differ)), math.nan,
              math.nan, not differ, f"tables differing: {differ or 'none'}"),
        Check("independence: another seed, other incidents", 1.0, float(not same_stream),
              math.nan, math.nan, not same_stream,
              f"{len(first.incidents)} vs {len(other.incidents)} incidents"),
    ]


def check_common_random_numbers(world: World, *, seed: int = 7) -> Check:
    """Adding a depot and changing every team count leaves the incident stream (ids, types,
    call times, locations) unchanged: common random numbers across placements."""
    data = dump_scenario(world.scenario)
    depot = data["depots"][0] if data["depots"] else None
    if depot is not None:
        data["depots"].append({**depot, "id": "validation_extra_depot",
                               "location": data["settlements"][0]["location"]
                               if data["settlements"] else depot["location"]})
    for base in data["team_bases"]:
        for group in base["teams"]:
            group["count"] += 1
    variant = world.with_scenario(parse_scenario(data))
    a, b = _incident_stream(simulate(world, seed=seed)), _incident_stream(
        simulate(variant, seed=seed))
    same = a.equals(b)
    return Check("common random numbers: +1 depot, +1 team per group", 0.0,
                 0.0 if same else 1.0, math.nan, math.nan, same and len(a) > 0,
                 f"{len(a)} incidents compared (id, type, call time, location)")


# -- all of it ---------------------------------------------------------------------------------


def default_world(cache_dir: Path | None = None) -> World:
    """The embedded default scenario on its network (the base of every check)."""
    path = SCENARIOS_DIR / DEFAULT_SCENARIO
    return build_world(load_scenario(path), cache_dir=cache_dir, origin=str(path))


def run_checks(*, quick: bool = False, cache_dir: Path | None = None,
               level: float = LEVEL, progress: Callable[[str], None] | None = None
               ) -> list[Check]:
    """Run every check on the embedded default network; ``quick`` runs a quarter of each
    queue's arrival period with bounds widened accordingly (a smoke test, not a proof)."""
    world = default_world(cache_dir)
    checks: list[Check] = []
    for case in QUEUE_CASES:
        if progress is not None:
            progress(case.name)
        checks += check_queue(world, case.scaled(0.25) if quick else case, level=level)
    if progress is not None:
        progress("routing, determinism, common random numbers")
    checks.append(check_routing(world))
    checks += check_determinism(world)
    checks.append(check_common_random_numbers(world))
    if progress is not None:
        progress("metamorphic relief properties")
    checks += check_metamorphic(world, pairs=40 if quick else 200)
    return checks


def check_metamorphic(world: World, *, pairs: int = 200, seed: int = 15) -> list[Check]:
    """Relief dispatch on random scenarios placed on the default network (issue #15): a
    helping change (a depot more, trucks or stock more, a contract sooner) never fails a
    property of :func:`sim.metamorphic.worse` on any pair, worsens the mean by more than 5 %
    in at most :data:`~sim.metamorphic.RARE` of pairs, and never by more than
    :data:`~sim.metamorphic.TOLERANCE_MEAN`; more people never bring relief sooner."""
    from sim.metamorphic import (
        CHANGES,
        RARE,
        TOLERANCE_MEAN,
        more_people_violations,
        random_spec,
        survey,
        violations,
    )

    rng = np.random.default_rng(seed)
    failed = 0
    for k in range(pairs):
        spec = random_spec(rng)
        change = list(CHANGES)[k % len(CHANGES)]
        args: tuple[Any, ...] = {
            "adding a stocked depot with trucks": (int(rng.integers(400)), "county", 1),
            "more trucks or stock": (int(rng.integers(3)), "trucks" if k % 2 else "stock"),
        }.get(change, ())
        if change == "removing a closure" and spec["closure"] is None:
            spec["closure"] = (int(rng.integers(400)), 0.5, 3.0)
        failed += bool(violations(world, spec, change, *args)
                       or more_people_violations(world, spec, int(rng.integers(4))))
    n, rare, worst = survey(world, rng, pairs)
    return [
        Check(f"metamorphic relief: helping never hurts, more people never help ({pairs} "
              "random scenarios)", 0.0, float(failed), math.nan, math.nan, failed == 0,
              note="pairs failing a property of sim.metamorphic.worse"),
        Check(f"metamorphic relief: mean > 5 % later after a helping change ({n} pairs)",
              RARE, rare, math.nan, math.nan, rare <= RARE and worst <= TOLERANCE_MEAN,
              note=f"share of pairs (at most {RARE:.0%}); worst {worst:+.1%} "
                   f"(at most {TOLERANCE_MEAN:+.0%})"),
    ]
