"""Rescue response: typed teams, boats and helicopters answer incidents under the policy.

Each team, boat or helicopter is a unit waiting at its base. A team need of an incident is a
unit of work; the dispatcher sends the nearest free matching unit (先近后远), main needs before
secondary (先主后次) and the most urgent incident first (满足急需) under the plan policy. Units
mobilise, travel (roads under closures; boats along the waterway graph or straight line at
sea; helicopters straight line), work on scene and return. Work starts when every main need is
on scene. A forest fire grows until then, so its size, and whether it is out within the
target, depends on the arrival of its teams.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.model.incidents import Incident
from sim.model.policies import Option, Policy
from sim.model.records import IncidentRecord, Records, TripRecord
from sim.model.roads import RoadState
from sim.network import haversine_m
from sim.scenario import MAX_FIRE_HA, IncidentType
from sim.world import World

__all__ = ["RIVER_DETOUR", "Rescue"]

RIVER_DETOUR = 1.4
"""Fallback when a scenario has no waterway graph: river distance = straight line × this."""


class Unit:
    """One team, boat or helicopter and where it is based. ``free`` keeps the free counts of
    its :class:`Base` and team up to date (relief sets it too, for helicopters)."""

    __slots__ = ("_free", "base", "group", "lat", "lon", "mobilisation_h", "mode", "name",
                 "road_node", "speed_kmh", "team", "water_node")

    def __init__(self, name: str, team: str, base: str, mode: str, road_node: int,
                 water_node: int, lon: float, lat: float, speed_kmh: float,
                 mobilisation_h: float, free: bool = True) -> None:
        self.name, self.team, self.base = name, team, base
        self.mode = mode  # road | river | sea | air
        self.road_node, self.water_node, self.lon, self.lat = road_node, water_node, lon, lat
        self.speed_kmh, self.mobilisation_h, self._free = speed_kmh, mobilisation_h, free
        self.group: Base | None = None

    @property
    def free(self) -> bool:
        return self._free

    @free.setter
    def free(self, value: bool) -> None:
        if value != self._free:
            self._free = value
            if self.group is not None:
                step = 1 if value else -1
                self.group.n_free += step
                self.group.team.n_free += step

    def __repr__(self) -> str:
        return f"Unit({self.name!r}, free={self._free})"


@dataclass(eq=False)
class Team:
    """The bases with units of one team type, in the order the scenario lists them."""

    bases: list[Base] = field(default_factory=list)
    n_free: int = 0


@dataclass(eq=False)
class Base:
    """The units of one team type at one base that share mode, mobilisation and speed: they
    are the same distance from any scene, so dispatch looks at the base once, and sends its
    free unit first by name (the tie-break between equally near units)."""

    team: Team
    units: list[Unit]  # by name
    n_free: int = 0

    def first_free(self) -> Unit:
        return next(u for u in self.units if u._free)


@dataclass(eq=False)
class Need:
    """One team need of one incident (a unit of rescue work)."""

    seq: int
    incident: IncidentState
    team: str
    main: bool
    remaining: int
    urgency: int
    raised_h: float


@dataclass(eq=False)
class IncidentState:
    incident: Incident
    kind: IncidentType
    needs: list[Need] = field(default_factory=list)
    first_arrival_h: float = math.inf
    on_scene: int = 0
    main_missing: int = 0
    done: simpy.Event | None = None
    contained_h: float = math.inf
    area_ha: float = 0.0


class Rescue:
    """The rescue-response part of one replication."""

    def __init__(self, env: simpy.Environment, world: World, roads: RoadState, policy: Policy,
                 records: Records, incidents: list[Incident]) -> None:
        self.env, self.world, self.roads, self.policy, self.records = (
            env, world, roads, policy, records)
        self.kinds = {t.id: t for t in world.scenario.incident_types}
        self.units = _units(world)
        self.teams = _teams(self.units)
        self.off_road = [u for u in self.units if u.mode != "road"]
        self._off_road_h: dict[str, dict[str, float]] = {}  # by incident, then unit
        self.needs: list[Need] = []
        self.active: list[IncidentState] = []
        self.on_aircraft_free: list[Any] = []  # relief may fly goods with free helicopters
        self._seq = 0
        self._wakeup = env.event()
        env.process(self._dispatcher())
        env.process(self._calls(incidents))

    def poke(self) -> None:
        if not self._wakeup.triggered:
            self._wakeup.succeed()

    # -- incidents ------------------------------------------------------------------------------

    def _calls(self, incidents: list[Incident]) -> Generator[simpy.Event, Any, None]:
        """Each incident (ordered by call time) becomes a process when its call comes in, at
        exactly its call time."""
        env = self.env
        for incident in incidents:
            if incident.call_h > env.now:
                yield env.timeout(_delay_to(env.now, incident.call_h))
            self._call(incident)

    def _call(self, incident: Incident) -> None:
        kind = self.kinds[incident.type]
        state = IncidentState(incident, kind, done=self.env.event())
        for need in kind.needs:
            self._seq += 1
            state.needs.append(Need(self._seq, state, need.team, need.main, need.count,
                                    kind.urgency, self.env.now))
            self.policy.add(self.needs, state.needs[-1])
        state.main_missing = sum(n.count for n in kind.needs if n.main)
        self.active.append(state)
        self.poke()

    def _work(self, state: IncidentState) -> None:
        """Every main need is on scene: work starts now (a fire stops growing) and ends
        after the incident's work (a fire: its area over the teams' suppression rate)."""
        kind, now = state.kind, self.env.now
        state.contained_h = now
        state.area_ha = _fire_area(state, now)
        if kind.fire is not None:
            work_h = state.area_ha / (kind.fire.suppress_ha_per_team_h * state.on_scene)
        else:
            work_h = kind.work_h * state.incident.work_factor
        self.env.timeout(work_h).callbacks.append(lambda _: self._done(state))

    def _done(self, state: IncidentState) -> None:
        state.done.succeed()
        self.active.remove(state)
        self._record(state, state.contained_h, self.env.now, state.area_ha)

    def _record(self, state: IncidentState, on_scene_h: float, done_h: float,
                area_ha: float) -> None:
        inc = state.incident
        self.records.incidents.append(IncidentRecord(
            incident=inc.id, type=inc.type, mode=state.kind.mode, lon=inc.lon, lat=inc.lat,
            call_h=inc.call_h, first_arrival_h=state.first_arrival_h, on_scene_h=on_scene_h,
            done_h=done_h, units=state.on_scene, area_ha=area_ha))

    # -- dispatching ----------------------------------------------------------------------------

    def _dispatcher(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self._wakeup
            self._wakeup = self.env.event()
            while True:
                # Needs whose team has no free unit have no options: the policy need not
                # look at them (the same choice, without asking for each).
                teams = self.teams
                open_ = [n for n in self.needs if (t := teams.get(n.team)) and t.n_free]
                choice = self.policy.choose(open_, self._options) if open_ else None
                if choice is None:
                    break
                need, option = choice
                need.remaining -= 1
                if need.remaining == 0:
                    self.needs.remove(need)
                unit = option.resource
                unit.free = False
                self.env.process(self._mission(unit, need.incident, need.main))

    def _options(self, need: Need) -> list[Option]:
        """For each base of the need's team with a free unit that serves the incident: its
        first free unit by name, and the time to the scene (mobilisation + travel). Units at
        one base share place, mode, speed and mobilisation, so they are equally near and
        this gives the nearest unit (ties by name) as looking at every unit would."""
        state = need.incident
        incident = state.incident
        found = []
        time_h = self.roads.time_h
        for base in self.teams[need.team].bases:
            if not base.n_free:
                continue
            unit = base.units[0]
            if unit.mode == "road":
                t = time_h(unit.road_node, incident.road_node)
            elif _serves(unit, state.kind):
                t = self._travel_h(unit, incident)
            else:
                continue
            if t < math.inf:
                if not unit._free:
                    unit = base.first_free()
                found.append(Option(unit, unit.mobilisation_h + t, unit.name))
        return found

    def _travel_h(self, unit: Unit, incident: Incident) -> float:
        """Hours between base and scene for boats and helicopters (the same both ways)."""
        hours = self._off_road_h.get(incident.id)
        if hours is None:
            hours = self._off_road_h[incident.id] = self._off_road_hours(incident)
        return hours[unit.name]

    def _off_road_hours(self, incident: Incident) -> dict[str, float]:
        """Hours from every boat and helicopter base to the scene (one vectorised pass).
        Waterway graphs are two-way (every river/canal edge has its reverse), so the way back
        is as long as the way out."""
        units, waters = self.off_road, self.world.waters
        km = haversine_m(np.array([u.lon for u in units]), np.array([u.lat for u in units]),
                         incident.lon, incident.lat) / 1000.0
        for i, unit in enumerate(units):
            if unit.mode == "river":
                km[i] = (waters.dist_from_node(unit.water_node)[incident.water_node]
                         if waters is not None else km[i] * RIVER_DETOUR)
        speeds = np.array([u.speed_kmh for u in units])
        return dict(zip([u.name for u in units], (km / speeds).tolist(), strict=True))

    def _mission(self, unit: Unit, state: IncidentState, main: bool
                 ) -> Generator[simpy.Event, Any, None]:
        start = self.env.now
        incident = state.incident
        if unit.mobilisation_h > 0:  # (no event for none)
            yield self.env.timeout(unit.mobilisation_h)
        if unit.mode == "road":
            km = yield from self.roads.drive(unit.road_node, incident.road_node)
        else:
            travel_h = self._travel_h(unit, incident)
            km = travel_h * unit.speed_kmh
            yield self.env.timeout(travel_h)
        state.first_arrival_h = min(state.first_arrival_h, self.env.now)
        state.on_scene += 1
        if main:
            state.main_missing -= 1
            if state.main_missing == 0:
                self._work(state)
        yield state.done
        if unit.mode == "road":
            km += yield from self.roads.drive(incident.road_node, unit.road_node)
        else:
            travel_h = self._travel_h(unit, incident)
            km += travel_h * unit.speed_kmh
            yield self.env.timeout(travel_h)
        self.records.trips.append(TripRecord(unit.name, unit.team, unit.base, start,
                                             self.env.now, km))
        unit.free = True
        if self.needs:  # a need waits for a unit
            self.poke()
        if unit.mode == "air":
            for callback in self.on_aircraft_free:
                callback()

    def finish(self) -> None:
        """Record incidents still open at the horizon (never done: inf); a fire nobody
        contained has the area it grew to by the horizon."""
        for state in self.active:
            if state.contained_h < math.inf:  # work started
                self._record(state, state.contained_h, math.inf, state.area_ha)
            else:
                self._record(state, math.inf, math.inf, _fire_area(state, self.env.now))


def _fire_area(state: IncidentState, now: float) -> float:
    """A forest fire's area when contained at ``now`` (0 for other incidents):
    min(initial · e^(growth · t), MAX_FIRE_HA), without overflow."""
    fire = state.kind.fire
    if fire is None:
        return 0.0
    return fire.initial_ha * math.exp(min(fire.growth_per_h * (now - state.incident.call_h),
                                          math.log(MAX_FIRE_HA / fire.initial_ha)))


def _serves(unit: Unit, kind: IncidentType) -> bool:
    """Whether a boat or helicopter may go: helicopters anywhere, sea boats only to sea
    incidents, river boats never to sea (road units are never asked)."""
    return unit.mode == "air" or (unit.mode == "sea") == (kind.mode == "sea")


def _delay_to(now: float, at: float) -> float:
    """The timeout delay that makes SimPy's clock (``now + delay``) land exactly on ``at``."""
    delay = at - now
    for _ in range(8):
        reached = now + delay
        if reached == at:
            break
        delay = math.nextafter(delay, math.inf if reached < at else -math.inf)
    return delay


def _teams(units: list[Unit]) -> dict[str, Team]:
    """The units grouped by team type, then by base (with mode, mobilisation and speed)."""
    teams: dict[str, Team] = {}
    bases: dict[tuple[str, str, str, float, float], Base] = {}
    for unit in units:
        team = teams.setdefault(unit.team, Team())
        key = (unit.team, unit.base, unit.mode, unit.mobilisation_h,
               unit.speed_kmh if unit.mode != "road" else 0.0)
        base = bases.get(key)
        if base is None:
            base = bases[key] = Base(team, [])
            team.bases.append(base)
        base.units.append(unit)
        unit.group = base
        if unit.free:
            base.n_free += 1
            team.n_free += 1
    for base in bases.values():
        base.units.sort(key=lambda u: u.name)
    return teams


def _units(world: World) -> list[Unit]:
    scenario = world.scenario
    units: list[Unit] = []
    for base in scenario.team_bases:
        site = world.sites[base.id]
        for group in base.teams:
            for i in range(group.count):
                units.append(Unit(f"{base.id}/{group.type}{i + 1}", group.type, base.id, "road",
                                  site.node, -1, site.lon, site.lat, math.nan,
                                  group.mobilisation_h))
    for station in scenario.water_stations:
        site = world.sites[station.id]
        mode = "sea" if station.sea else "river"
        for i in range(station.boats.count):
            units.append(Unit(f"{station.id}/boat{i + 1}", "boat", station.id, mode, site.node,
                              world.water_nodes.get(station.id, -1), site.lon, site.lat,
                              station.boats.speed_kmh, station.boats.mobilisation_h))
    for pad in scenario.helipads:
        site = world.sites[pad.id]
        for i in range(pad.helicopters.count):
            units.append(Unit(f"{pad.id}/helicopter{i + 1}", "helicopter", pad.id, "air",
                              site.node, -1, site.lon, site.lat, pad.helicopters.speed_kmh,
                              pad.helicopters.mobilisation_h))
    return units
