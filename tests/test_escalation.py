"""The vectorised escalation screen (sim.model.escalation) agrees with relief's own check.

Relief only checks one by one the requests the screen flags; a request it clears wrongly would
miss an escalation. At every batch relief screens, in real and random scenarios, the screen's
answer must equal the scalar check's (``Relief._short_or_late`` over ``Relief.estimate``):
never clearing one that must escalate, and not flagging everything either (that would be
correct and slow).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from test_choices import KIT, build_relief, relief_specs

from sim.model import simulate
from sim.model.policies import make_policy
from sim.model.records import Records
from sim.model.relief import EPS, Relief, Request
from sim.model.roads import RoadState
from sim.scenario import load_scenario
from sim.validation import SCENARIOS_DIR
from sim.world import World, build_world


class ScreenChecked(Relief):
    """Relief that compares, at every screening, the screen with the scalar check."""

    seen: ClassVar[list[tuple[bool, bool]]] = []

    def _escalate_where(self, requests: list, commodities: Any,
                        free_at: dict[int, float] | None = None) -> None:
        candidates = [r for r in requests if r.commodity in commodities
                      and self._may_escalate(r)]
        if candidates:
            now, cached = self.env.now, free_at or {}
            free = {id(d): cached[id(d)] if id(d) in cached else d.free_h(now)
                    for d in self.depots}
            screen = self._screen.may_escalate(candidates, self._unit_kg, now,
                                               self.roads.times_from, free).tolist()
            scalar = [self._short_or_late(r, self.estimate(r, dict(cached)))
                      for r in candidates]
            assert screen == scalar, (now, [r.settlement for r in candidates])
            ScreenChecked.seen += zip(screen, scalar, strict=True)
        super()._escalate_where(requests, commodities, free_at)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, bool]]:
    monkeypatch.setattr("sim.model.simulation.Relief", ScreenChecked)
    ScreenChecked.seen = []
    return ScreenChecked.seen


SHIPPED = ["helsinki_storm.yaml", "nanjing_xuanwu_flood.yaml", "nanjing_evacuation.yaml"]


@pytest.mark.parametrize("name", SHIPPED)
def test_screen_equals_the_scalar_check_on_shipped_scenarios(
        name: str, checked: list[tuple[bool, bool]], tmp_path_factory: pytest.TempPathFactory,
        shared_data: Path) -> None:
    world = build_world(load_scenario(SCENARIOS_DIR / name),
                        cache_dir=tmp_path_factory.mktemp("esc"))
    for policy in ("plan", "fcfs", "nearest_idle"):
        for replication in range(2):
            simulate(world, replication=replication, policy=policy)
    flags = {screen for screen, _ in checked}
    assert flags == {True, False}, f"{len(checked)} screenings, all {flags}"


RULES = st.fixed_dictionaries({
    "support": st.sampled_from(["never", "after_delay", "if_earlier"]),
    "support_delay_h": st.sampled_from([0.0, 0.5, 3.0]),
    "support_margin_h": st.sampled_from([0.0, 0.25]),
    "escalate_if_late": st.booleans(),
})


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_screen_equals_the_scalar_check_on_random_scenarios(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    spec = data.draw(relief_specs(len(nodes)))
    spec["dispatch"] = data.draw(RULES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.model.simulation.Relief", ScreenChecked)
        simulate(build_relief(world, nodes, spec))  # ScreenChecked asserts at each screening


# -- the screen against the scalar check on random states, ties on purpose ---------------------

GRID = [0.0, 0.5, 1.0, 2.0]  # hours, so that etas, deadlines and delays tie
AMOUNTS = [0.0, EPS, 2 * EPS, 3 * EPS, 10.0, 60.0, 200.0]
DEADLINES = [*GRID, 0.3, 0.8, 8.0]  # 0.3 and 0.8: loading and unloading sum to them, ± an ulp
ROUNDS = 4


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_screen_equals_the_scalar_check_on_random_states(
        world: World, nodes: list[list[float]], data: st.DataObject) -> None:
    """Depots active or not, with stock on a grid (EPS included), trucks idle, out until a
    time on the grid or overdue, none at all; requests of every rank, with needs, deadlines and
    raised times on grids; every support rule: each request's screen equals its check."""
    spec = data.draw(relief_specs(len(nodes), settlements=(1, 4)))
    pool = data.draw(st.lists(st.integers(0, len(nodes) - 1), min_size=1, max_size=3))
    for site in [*spec["depots"], *spec["settlements"]]:  # often the same places: drives tie
        site["node"] = data.draw(st.sampled_from(pool))
    for depot in spec["depots"]:
        depot["trucks"]["count"] = data.draw(st.sampled_from([0, 1, 2, 3]))
    spec["dispatch"] = data.draw(RULES)
    spec["dispatch"]["support_delay_h"] = data.draw(st.sampled_from(GRID))
    spec["dispatch"]["support_margin_h"] = data.draw(st.sampled_from(GRID))
    variant = build_relief(world, nodes, spec)
    for _ in range(ROUNDS):  # several states of one placement (placing costs the most)
        check_a_state(variant, data)


def check_a_state(variant: World, data: st.DataObject) -> None:
    now = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
    env = simpy.Environment(initial_time=now)
    relief = Relief(env, variant, RoadState(env, variant.roads, variant.route_cache),
                    make_policy("plan"), Records(horizon_h=60.0), seed=1, replication=0)
    for d in relief.depots:
        d.active = data.draw(st.booleans())
        for c in d.stock:
            d.stock[c] = simpy.Container(env, init=data.draw(st.sampled_from(AMOUNTS)))
        for truck in list(d.trucks.items):
            if data.draw(st.booleans()):
                d.trucks.items.remove(truck)
                d.back_h[truck] = now + data.draw(st.sampled_from([-1.0, *GRID]))
    ranks = sorted({d.rank for d in relief.depots})
    sites = [s.id for s in variant.scenario.settlements]
    requests = [Request(seq=i + 1, settlement=(site := data.draw(st.sampled_from(sites))),
                        node=variant.node(site), commodity=data.draw(st.sampled_from(
                            list(relief.commodities))), main=True, urgency=1,
                        raised_h=now - data.draw(st.sampled_from(GRID)),
                        remaining=data.draw(st.sampled_from([*AMOUNTS[1:], 600.0])),
                        rank=data.draw(st.sampled_from(ranks)),
                        deadline_h=now + data.draw(st.sampled_from(DEADLINES)))
                for i in range(data.draw(st.integers(1, 12)))]
    free = {id(d): d.free_h(now) for d in relief.depots}
    screen = relief._screen.may_escalate(requests, relief._unit_kg, now,
                                         relief.roads.times_from, free).tolist()
    assert screen == [relief._short_or_late(r, relief.estimate(r)) for r in requests]


def tie_relief(world: World, nodes: list[list[float]], *, support: str = "if_earlier",
               margin_h: float = 0.0, load_h: list[float] | None = None) -> Relief:
    """Two village depots and a settlement on one road node (no drive), trucks idle at 1 h:
    goods arrive after loading and unloading alone, so times tie to the last bit."""
    spec = {"commodities": [KIT], "settlements": [{"node": 0, "people": 100, "onset_h": 0.25,
                                                   "urgency": 1}],
            "depots": [{"tier": "village", "node": 0, "stock": {"kit": 200},
                        "trucks": {"count": 1, "capacity_kg": 5000}} for _ in range(2)],
            "load_h": load_h or [0.1, 0.1], "unload_h": 0.2, "escalation": {}, "slow": None,
            "policy": "plan",
            "dispatch": {"support": support, "support_margin_h": margin_h,
                         "escalate_if_late": True}}
    variant = build_relief(world, [nodes[0]], spec)
    env = simpy.Environment(initial_time=1.0)
    return Relief(env, variant, RoadState(env, variant.roads, variant.route_cache),
                  make_policy("plan"), Records(horizon_h=60.0), seed=1, replication=0)


SEQ = itertools.count(1)  # a request's seq is its identity (the screen keeps its data by it)


def screen_and_check(relief: Relief, **request: Any) -> tuple[bool, bool]:
    fields = {"seq": next(SEQ), "settlement": "s0", "node": relief.world.node("s0"),
              "commodity": "kit", "main": True, "urgency": 1, "raised_h": 1.0,
              "remaining": 100.0, "rank": relief.depots[0].rank, "deadline_h": 8.0, **request}
    r = Request(**fields)
    free = {id(d): d.free_h(1.0) for d in relief.depots}
    (screen,) = relief._screen.may_escalate([r], relief._unit_kg, 1.0,
                                            relief.roads.times_from, free).tolist()
    return screen, relief._short_or_late(r, relief.estimate(r))


def stocked(relief: Relief, *levels: float) -> Relief:
    for depot, level in zip(relief.depots, levels, strict=True):
        depot.stock["kit"] = simpy.Container(relief.env, init=level)
    return relief


def test_screen_on_ties_at_the_deadline_and_the_support_margin(
        world: World, nodes: list[list[float]]) -> None:
    relief = tie_relief(world, nodes)
    arrive = 1.0 + (0.1 + 0.2)  # loading and unloading, no drive
    # within EPS after the deadline is on time; a whole EPS more is late
    assert screen_and_check(relief, deadline_h=arrive - EPS / 2) == (False, False)
    assert screen_and_check(relief, deadline_h=arrive - 2 * EPS) == (True, True)
    # the need less the stock leaves exactly EPS: covered; a bit more: short
    tiny = stocked(tie_relief(world, nodes), 1.5e-9, 0.0)
    assert EPS == 2.5e-9 - 1.5e-9
    assert screen_and_check(tiny, remaining=2.5e-9) == (False, False)
    assert screen_and_check(tiny, remaining=2.6e-9) == (True, True)
    # a supporting depot exactly the margin sooner is used, a bit later it is not: only the
    # settlement's own depot is then a source, and its stock alone falls short
    (own,) = relief.own["s0"]
    for margin, used in ((0.5, True), (0.5 + 1e-12, False)):
        tied = tie_relief(world, nodes, margin_h=margin,
                          load_h=[0.6, 0.1] if own == "d0" else [0.1, 0.6])
        assert screen_and_check(tied, remaining=300.0) == (not used, not used)
