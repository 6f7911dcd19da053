"""Scenario schema (pydantic v2), safe YAML loading and validation with precise messages.

A scenario is one frozen :class:`Scenario` object. Every error a user can make is reported as a
:class:`~sim.errors.ScenarioError` whose message names the file, the field path
(``depots[2].stock.kit``), the offending value and what was expected.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.crs import check_crs, convert_document
from sim.errors import ScenarioError
from sim.uncertainty import extract
from sim.walking import WALK_KMH

__all__ = [
    "SITE_FIELDS",
    "TIERS",
    "Scenario",
    "dump_scenario",
    "load_scenario",
    "parse_scenario",
    "pre_run_warnings",
    "scenario_hash",
    "within",
]

TIERS: tuple[str, ...] = (
    "village", "town", "county", "enterprise", "city", "province", "neighbour")
"""Stockpile tiers, lowest first: 村 → 镇 → 县 → 企(协议/产能) → 市 → 省 → 相邻地区."""

# Domains: every number a scenario holds is finite, and these bounds (each with its reason) keep
# a typo from turning into hours of computing or terabytes of memory.
MAX_HOURS = 8760.0
"""One year: the longest horizon, window, delay or duration (plans speak of hours to weeks)."""
MAX_PEOPLE = 100_000_000
"""People per settlement: 10⁸ is more than any Chinese province but one."""
MAX_RATE_PER_H = 1000.0
"""Incidents per hour of one generator: beyond any county's emergency line, and with
:data:`MAX_HOURS` keeps the expected number of incidents (≤ 8.8 million) computable."""
MAX_COUNT = 10_000
"""Trucks, boats, aircraft or teams of one group: more than any county's fleet."""
MAX_KG = 100_000.0
"""Truck capacity or unit weight (kg): 100 t is more than any road vehicle carries."""
MAX_SPEED_KMH = 1000.0
"""Faster than any rescue aircraft."""
MAX_QUANTITY = 1e12
"""Stock, production per hour or need per person, in units."""
MAX_FACTOR = 100.0
"""A slow-down factor (travel times ×100 is as good as closed)."""
MAX_RADIUS_M = 1_000_000.0
"""1,000 km: any radius around a point within a scenario's area."""
MAX_FIRE_HA = 1e7
"""Fire area (ha): 100,000 km², larger than any forest fire on record in China."""
MAX_SEED = 2**63 - 1
"""Seeds are stored as 64-bit integers in results."""

Hours = Annotated[float, Field(ge=0, le=MAX_HOURS)]
PositiveHours = Annotated[float, Field(gt=0, le=MAX_HOURS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Quantity = Annotated[float, Field(ge=0, le=MAX_QUANTITY)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Kilograms = Annotated[float, Field(gt=0, le=MAX_KG)]
Speed = Annotated[float, Field(gt=0, le=MAX_SPEED_KMH)]
Metres = Annotated[float, Field(gt=0, le=MAX_RADIUS_M)]
Hectares = Annotated[float, Field(gt=0, le=MAX_FIRE_HA)]

Tier = Literal["village", "town", "county", "enterprise", "city", "province", "neighbour"]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
LonLat = tuple[Lon, Lat]


def _location(value: Any) -> tuple[float, float] | int:
    """Accept ``[lon, lat]`` (WGS84) or a positive OSM node id, with one clear message."""
    expected = ("expected [lon, lat] with lon in -180..180 and lat in -90..90, "
                "or a positive OSM node id")
    if isinstance(value, bool):
        raise ValueError(expected)
    if isinstance(value, int):
        if value > 0:
            return value
        raise ValueError(expected)
    if isinstance(value, list | tuple) and len(value) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        lon, lat = float(value[0]), float(value[1])
        if -180 <= lon <= 180 and -90 <= lat <= 90:
            return (lon, lat)
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            raise ValueError(expected + " (lon/lat look swapped?)")
    raise ValueError(expected)


Location = Annotated[Any, PlainValidator(_location, json_schema_input_type=list[float] | int)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    """Base of every scenario and experiment record: unknown fields are errors, numbers must be
    finite, and true/false is never read as a number (YAML ``people: true`` is not 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        kind = _bool_rule(cls, info.field_name or "")
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("true or false")
        elif kind == "number":
            where = _bool_inside(value)
            if where is not None:
                raise ValueError(f"a number{where}, not true/false")
        return value


@functools.cache
def _bool_rule(model: type[BaseModel], name: str) -> str:
    """How a field treats true/false: ``bool`` (it must be one), ``number`` (none may hide
    in its value) or ``any`` (its type takes them); asked for every field of every record
    read, so looked up once per model and field."""
    field = model.__pydantic_fields__.get(name)
    if field is None:
        return "any"
    if field.annotation is bool:
        return "bool"
    return "any" if _admits_bool(field.annotation) else "number"


@functools.cache
def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type takes booleans itself or validates them in a nested record
    (asked for every field of every record read: cached per type)."""
    if annotation is bool or annotation is Any:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_admits_bool(arg) for arg in getattr(annotation, "__args__", ()))


def _bool_inside(value: Any) -> str | None:
    """Where a boolean hides in a plain value ("" for the value itself), or None."""
    if isinstance(value, bool):
        return ""
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list | tuple) else ())
    for key, item in items:
        if _bool_inside(item) is not None:
            return f" at {key!r}" if isinstance(key, str) else f" at [{key}]"
    return None


class Window(_Model):
    """A time window in hours since the start of the simulation; ``end_h`` None = never ends.
    ``duration_h`` instead of ``end_h`` gives the end as start + duration (so that a random
    start moves the whole window)."""

    start_h: Hours = 0.0
    end_h: Hours | None = None
    duration_h: PositiveHours | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_duration(cls, data: Any) -> Any:
        if (isinstance(data, dict) and data.get("duration_h") is not None
                and isinstance(data["duration_h"], (int, float))
                and isinstance(data.get("start_h", 0.0), (int, float))):
            data = {**data, "end_h": data.get("start_h", 0.0) + data["duration_h"]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end_h is not None and self.end_h <= self.start_h:
            raise ValueError(f"end_h ({self.end_h}) must be after start_h ({self.start_h})")
        return self


class NetworkSpec(_Model):
    """Where the road (and optional waterway) network comes from and how it is prepared."""

    source: str = Field(
        description="builtin:helsinki | place:NAME | bbox:W,S,E,N | path to .osm/.osm.pbf/.graphml"
    )
    speeds_kmh: dict[str, Speed] = Field(default_factory=dict)
    snap_warn_m: Metres = 500.0
    waterways: str | None = Field(
        default=None, description="source of the waterway graph for boats ('same' = source)"
    )


class Commodity(_Model):
    """A relief commodity; ``main`` ones define initial relief, all of them effective relief."""

    id: str
    name: str = ""
    unit: str = "unit"
    unit_kg: Kilograms = 10.0
    per_person: Annotated[float, Field(ge=1e-6, le=MAX_QUANTITY)] = 1.0
    """Units per person; at least a millionth of a unit (smaller is a unit mistake)."""
    main: bool = True
    daily: bool = True
    """Needed again every day of a shelter stay (food, water); false for goods given once
    (quilts, cots)."""


def _area(value: Any) -> str:
    """An administrative unit path, outermost first: ``开平市/赤水镇/林屋村``."""
    if not isinstance(value, str):
        raise ValueError("an administrative unit path such as '开平市/赤水镇/林屋村'")
    parts = [p.strip() for p in value.split("/")]
    if value.strip() and not all(parts):
        raise ValueError("an administrative unit path without empty parts, such as "
                         "'开平市/赤水镇/林屋村'")
    return "/".join(parts) if value.strip() else ""


Area = Annotated[str, PlainValidator(_area, json_schema_input_type=str)]
"""county ⊃ town/street ⊃ village/community (县/乡镇（街道）/村（社区）), joined by '/'."""


SITE_FIELDS: tuple[tuple[str, str], ...] = (
    ("depots", "depot"),
    ("team_bases", "team_base"),
    ("water_stations", "water_station"),
    ("helipads", "helipad"),
    ("shelters", "shelter"),
    ("settlements", "settlement"),
)
"""Scenario list fields that hold placed sites (:class:`_Site`), with the kind each holds."""


class _Site(_Model):
    """A placed site. ``review`` says what a planner must still check or fill in (entries
    drafted from OSM by ``reliefsim init`` carry one; ``validate`` lists them)."""

    id: str
    name: str = ""
    location: Location
    review: str = ""


class Trucks(_Model):
    count: Count = 2
    capacity_kg: Kilograms = 5000.0
    load_h: Hours = 0.5
    unload_h: Hours = 0.25


class Cost(_Model):
    """What a depot costs, in 万元: to build (once), to run and to hold its stock (per year)."""

    build_wan: Quantity = 0.0
    annual_wan: Quantity = 0.0
    holding_wan: Quantity = 0.0


class Depot(_Site):
    """A stockpile (储备库/点): physical stock (实物储备); a contract reserve (协议储备: a
    supplier's ``stock`` handed over ``activation_delay_h`` after the call, plus any
    ``production_per_h``); or a capacity reserve (产能储备: a factory producing
    ``production_per_h`` from activation, no stock of its own). ``area``: the administrative
    unit it belongs to, as for settlements."""

    area: Area = ""
    tier: Tier = "county"
    kind: Literal["physical", "contract", "capacity"] = "physical"
    stock: dict[str, Quantity] = Field(default_factory=dict)
    trucks: Trucks = Field(default_factory=Trucks)
    activation_delay_h: Hours = 0.0
    no_show_prob: Probability = 0.0
    production_per_h: dict[str, Quantity] = Field(default_factory=dict)
    cost: Cost = Field(default_factory=Cost)

    @model_validator(mode="after")
    def _contract_fields(self) -> Depot:
        if self.kind == "physical" and (
            self.activation_delay_h or self.no_show_prob or self.production_per_h
        ):
            raise ValueError(
                "activation_delay_h, no_show_prob and production_per_h apply only to "
                "kind: contract or capacity"
            )
        if self.kind == "capacity" and (any(self.stock.values()) or not any(
                self.production_per_h.values())):
            raise ValueError("kind: capacity (产能储备) produces production_per_h and holds no "
                             "stock; use kind: contract for a supplier's stock (协议储备)")
        return self


class TeamGroup(_Model):
    type: str
    count: PositiveCount = 1
    mobilisation_h: Hours = 0.25


class TeamBase(_Site):
    """A base of road-bound rescue teams (fire, flood, medical, forest-fire, hazmat …)."""

    teams: list[TeamGroup] = Field(min_length=1)


class Vessels(_Model):
    count: PositiveCount = 1
    speed_kmh: Speed = 30.0
    mobilisation_h: Hours = 0.25


class WaterStation(_Site):
    """A water-rescue station (boats on the waterway graph; ``sea`` = harbour for sea trips)."""

    sea: bool = False
    boats: Vessels = Field(default_factory=Vessels)


MAX_HELICOPTER_PAYLOAD_KG = 20_000.0
"""The Mi-26, the heaviest-lifting helicopter in service, carries 20 t."""


class Helicopters(Vessels):
    """Helicopters of a helipad. With a ``payload_kg`` they also fly relief goods to
    settlements that no depot can reach by road (from the depot they reach soonest), after
    rescue: a helicopter busy on an incident is not free for goods."""

    payload_kg: Annotated[float, Field(ge=0, le=MAX_HELICOPTER_PAYLOAD_KG)] = 0.0
    load_h: Hours = 0.5
    unload_h: Hours = 0.25


class Helipad(_Site):
    helicopters: Helicopters = Field(
        default_factory=lambda: Helicopters(count=1, speed_kmh=200.0, mobilisation_h=0.5)
    )


M2_PER_PERSON = 1.5
"""Usable shelter area per person (m²): the plans' 人均应急避难场所面积 target of 1.5 m² (S4,
plans digest C1), used when a shelter gives its area instead of a head count."""

INTAKE_PER_H = 600.0
"""People a shelter admits per hour at its door (登记入住) when the scenario does not say: four
registration desks, each registering a household of about 2.5 people a minute — an
assumption (no plan states it)."""

SHELTER_CATEGORIES = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "I类": "I", "II类": "II", "III类": "III",
                      "Ⅰ类": "I", "Ⅱ类": "II", "Ⅲ类": "III", "紧急避难场所": "紧急",
                      "固定避难场所": "固定", "中心避难场所": "中心"}
"""Other spellings of the shelter classes: Class Ⅰ/Ⅱ/Ⅲ (GB 21734-2008: stays over 30 days,
10–30 days, within 10 days) and 紧急/固定/中心避难场所 (GB 51143-2015)."""


def _category(value: Any) -> Any:
    return SHELTER_CATEGORIES.get(value.strip(), value.strip()) if isinstance(value, str) else value


class Shelter(_Site):
    """An emergency shelter (应急避难场所). Its capacity is ``capacity_people``, or else its
    usable ``area_m2`` / ``m2_per_person`` (1.5 m², the plans' 人均应急避难场所面积); people
    are admitted at ``intake_per_h`` once it opens ``opening_delay_h`` after the start (a
    queue forms at the door), and its own ``stock`` serves its evacuees before the relief
    dispatcher does."""

    capacity_people: Annotated[int, Field(ge=0, le=MAX_PEOPLE)] | None = None
    area_m2: Quantity = 0.0
    m2_per_person: Annotated[float, Field(gt=0, le=1000)] = M2_PER_PERSON
    category: Annotated[Literal["I", "II", "III", "紧急", "固定", "中心"] | None,
                        BeforeValidator(_category)] = None
    """Class Ⅰ/Ⅱ/Ⅲ (GB 21734-2008) or 紧急/固定/中心 (GB 51143-2015); descriptive."""
    opening_delay_h: Hours = 0.0
    """Hours after the start of the scenario before the shelter admits anyone (like a
    contract reserve's activation delay)."""
    intake_per_h: Annotated[float, Field(gt=0, le=1e6)] | None = INTAKE_PER_H
    """People admitted per hour (a first-come first-served queue at the door); ``null``: no
    limit."""
    stock: dict[str, Quantity] = Field(default_factory=dict)
    """The shelter's own stock by commodity, handed to its evacuees before anything is
    sent."""

    @property
    def capacity(self) -> int:
        """People it can take: ``capacity_people``, else ⌊area_m2 / m2_per_person⌋."""
        if self.capacity_people is not None:
            return self.capacity_people
        return math.floor(self.area_m2 / self.m2_per_person + 1e-9)


MAX_SEATS = 500
"""Seats of one bus: more than any road vehicle carries."""


class BusFleet(_Model):
    """Buses that carry evacuees, based at a depot or a team base (``base``)."""

    base: str
    count: PositiveCount = 1
    seats: Annotated[int, Field(ge=1, le=MAX_SEATS)] = 45
    """A full-size coach or city bus seats 40–50 (an assumption)."""
    load_min: Annotated[float, Field(ge=0, le=600)] = 10.0
    """Minutes to board a load (an assumption)."""
    unload_min: Annotated[float, Field(ge=0, le=600)] = 5.0
    """Minutes to unload at the shelter (an assumption)."""


class EvacuationSettings(_Model):
    """How evacuees move: walking speed (``sim.walking.WALK_KMH``, 4.5 km/h, an assumption
    from the pedestrian literature) and the bus fleets for orders with ``mode: bus``."""

    walk_kmh: Annotated[float, Field(gt=0, le=20)] = WALK_KMH
    buses: list[BusFleet] = Field(default_factory=list)


class EvacuationOrder(_Model):
    """An order to evacuate a settlement (转移安置): at ``order_h`` a ``share`` of its people
    leave, uniformly over ``depart_over_h``, on foot or by bus, to the nearest shelter with
    room (only those in ``shelters`` when given); they stay ``stay_days`` days and are
    supplied there, a day's needs at a time."""

    order_h: Hours = 0.0
    share: Probability = 1.0
    mode: Literal["walk", "bus"] = "walk"
    depart_over_h: Hours = 1.0
    """People leave uniformly over this many hours (by bus: they are ready at the pick-up
    point over it); 1 h is an assumption."""
    stay_days: Annotated[int, Field(ge=1, le=365)] = 1
    """Days at the shelter: day k's needs arise k × 24 h after arrival (daily commodities)."""
    shelters: Annotated[list[str], Field(min_length=1)] | None = None
    """Only these shelters (by id); default: any."""


class Settlement(_Site):
    """Affected people at one place, appearing at ``onset_h`` with needs per commodity.
    ``area`` names its administrative unit (imported from 行政区 columns or census polygons;
    the jurisdiction rules of the relief dispatcher are to use it, issue #15)."""

    area: Area = ""
    people: Annotated[int, Field(ge=1, le=MAX_PEOPLE)]
    onset_h: Hours = 0.0
    urgency: Annotated[int, Field(ge=1, le=5)] = 3
    distribution_points: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = None
    """Hand-out points here (default: one per ``handout.people_per_point`` people)."""
    evacuation: EvacuationOrder | None = None
    """An evacuation order for its people (None: they stay)."""


class TeamNeed(_Model):
    team: str
    count: PositiveCount = 1
    main: bool = True


class FireGrowth(_Model):
    """Forest-fire growth: area grows until ``needs`` are on scene, then is put out."""

    initial_ha: Hectares = 1.0
    growth_per_h: Annotated[float, Field(ge=0, le=10)] = 0.3
    suppress_ha_per_team_h: Hectares = 2.0


class IncidentType(_Model):
    """How an incident type is served: by road teams, boats on rivers, boats at sea or by air."""

    id: str
    name: str = ""
    mode: Literal["road", "river", "sea", "air"] = "road"
    needs: list[TeamNeed] = Field(min_length=1)
    work_h: PositiveHours = 1.0
    work_cv: Annotated[float, Field(ge=0, le=10)] = 0.5
    urgency: Annotated[int, Field(ge=1, le=5)] = 3
    target_h: PositiveHours | None = None
    fire: FireGrowth | None = None


class ScriptedIncident(_Model):
    type: str
    location: Location
    time_h: Hours
    id: str | None = None


class IncidentGenerator(_Model):
    """A Poisson stream of incidents of one type located on roads, rivers or settlements."""

    type: str
    rate_per_h: Annotated[float, Field(gt=0, le=MAX_RATE_PER_H)]
    window: Window = Field(default_factory=Window)
    locate_on: Literal["roads", "rivers", "settlements", "points"] = "roads"
    points: list[LonLat] = Field(default_factory=list)
    near: LonLat | None = None
    radius_m: Metres | None = None

    @model_validator(mode="after")
    def _points_given(self) -> IncidentGenerator:
        if self.locate_on == "points" and not self.points:
            raise ValueError("locate_on: points needs a non-empty 'points' list")
        if (self.near is None) != (self.radius_m is None):
            raise ValueError("'near' and 'radius_m' go together")
        return self


class Disruption(_Model):
    """A road closure (factor None) or slow-down (factor > 1) during a time window; ``name``
    is what outputs call it (汉中门下穿通道积水封闭)."""

    id: str
    name: str = ""
    window: Window
    factor: Annotated[float, Field(gt=1, le=MAX_FACTOR)] | None = None
    polygon: list[LonLat] | None = None
    road_classes: list[str] | None = None
    edge_osmids: list[int] | None = None
    near: LonLat | None = None
    radius_m: Metres | None = None
    share: Probability = 1.0

    @model_validator(mode="after")
    def _one_selector(self) -> Disruption:
        chosen = [
            name
            for name in ("polygon", "road_classes", "edge_osmids", "near")
            if getattr(self, name) is not None
        ]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of polygon, road_classes, edge_osmids, near "
                f"(got {chosen or 'none'})"
            )
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("polygon needs at least 3 [lon, lat] points")
        if (self.near is None) != (self.radius_m is None):
            raise ValueError("'near' and 'radius_m' go together")
        return self


class HazardZone(_Model):
    """An area to keep depots, shelters and candidate sites out of (a flood zone, a
    landslide-prone slope …); ``validate`` flags sites inside and ``optimize`` excludes
    candidates there. Closure areas of ``disruptions`` count as hazard zones too."""

    id: str
    name: str = ""
    kind: str = "flood"
    polygon: list[LonLat] = Field(min_length=3)


class Dispatch(_Model):
    """How relief is sourced (README, "Relief dispatch"): each depot serves its own
    administrative unit (属地; ``area``, or else the settlements nearest to it among its tier);
    a request starts at the lowest tier that serves its settlement and escalates to the next
    tier (after that tier's delay) when the tiers open to it lack the stock — or, with
    ``escalate_if_late``, cannot deliver it by the target (小事不出村、大事不出镇). Depots of
    other units may support (跨区域支援) as ``support`` says. Every source is chosen on its
    estimated arrival (先近后远)."""

    policy: Literal["plan", "fcfs", "nearest_idle"] = "plan"
    escalation_delay_h: dict[Tier, Hours] = Field(
        default_factory=lambda: {"county": 0.5, "enterprise": 1.0, "city": 2.0, "province": 6.0,
                                 "neighbour": 4.0}
    )
    escalate_if_late: bool = True
    """Escalate when the open tiers' earliest estimated delivery of the whole need is later
    than the target (initial relief for main goods, effective relief for the others)."""
    support: Literal["never", "after_delay", "if_earlier"] = "if_earlier"
    """Support across units (跨区域支援): never; once a request has waited
    ``support_delay_h``; or whenever another unit's depot of an open tier arrives at least
    ``support_margin_h`` earlier than the settlement's own (the plans' 相邻区域就近增援)."""
    support_delay_h: Hours = 1.0
    support_margin_h: Hours = 0.5
    stranded_wait_h: Hours = 1.0
    """A loaded truck cut off from its settlement waits this long for the road to reopen
    (re-routing whenever a way opens), then drives back and its goods return to stock for
    other requests."""


class Handout(_Model):
    """Distribution to people at a settlement (发放): goods that have arrived are handed out at
    ``points`` × ``people_per_h_per_point``; a person's relief time is when they receive them.
    Both defaults are assumptions (no plan states them): one point per 500 people, a
    household of about 2.5 people served every 36 s."""

    people_per_point: Annotated[int, Field(ge=1, le=MAX_PEOPLE)] = 500
    people_per_h_per_point: Annotated[float, Field(gt=0, le=1e6)] | None = 250.0
    """``null``: goods reach people the moment they arrive (hand-out not modelled)."""


class Targets(_Model):
    """Plan targets; the defaults are the numbers in the plans (see plans digest §0)."""

    initial_relief_h: PositiveHours = 8.0
    effective_relief_h: PositiveHours = 10.0
    inland_river_arrival_h: PositiveHours = 1.0
    sea_arrival_h: PositiveHours = 2.0
    fire_out_h: PositiveHours = 24.0
    fire_out_share: Probability = 0.95
    time_share_required: Probability = Field(
        default=1.0, description="share of people/incidents that must meet a time target")
    evacuation_h: PositiveHours = 2.0
    """Evacuees in a shelter within this many hours of the order (an assumption: the plans
    set no evacuation time; set your own)."""
    life_circle_min: Annotated[float, Field(gt=0, le=240)] = 15.0
    """The 15-minute life-support circle (市民15分钟生活保障圈): minutes of walking to a
    stockpile point."""
    life_circle_share: Probability = 1.0
    """Share of residents the circle must cover (an assumption: the plans name the circle,
    not a share)."""


DEFAULT_INCIDENT_TYPES: tuple[IncidentType, ...] = (
    IncidentType(id="inland_river", name="内河险情", mode="river",
                 needs=[TeamNeed(team="boat")], work_h=1.0, urgency=5),
    IncidentType(id="sea", name="海上险情(12海里内)", mode="sea",
                 needs=[TeamNeed(team="boat")], work_h=2.0, urgency=5),
    IncidentType(id="forest_fire", name="森林火灾", needs=[TeamNeed(team="forest_fire", count=2)],
                 work_h=2.0, urgency=4, fire=FireGrowth()),
    IncidentType(id="flood_rescue", name="洪涝救援",
                 needs=[TeamNeed(team="flood"), TeamNeed(team="medical", main=False)],
                 work_h=2.0, urgency=4),
    IncidentType(id="road_traffic", name="道路交通事故",
                 needs=[TeamNeed(team="fire"), TeamNeed(team="medical", main=False)],
                 work_h=1.0, urgency=3),
    IncidentType(id="building_collapse", name="建筑倒塌",
                 needs=[TeamNeed(team="fire", count=2), TeamNeed(team="medical", main=False)],
                 work_h=4.0, urgency=5),
    IncidentType(id="hazmat", name="危险化学品事故", needs=[TeamNeed(team="hazmat")],
                 work_h=3.0, urgency=4),
)
"""Built-in incident types; a scenario may override any by id or add its own."""

VESSEL_TEAMS = {"boat", "helicopter"}


class Scenario(_Model):
    """A complete, validated scenario."""

    name: str
    description: str = ""
    seed: Seed = 1
    horizon_h: PositiveHours = 72.0
    network: NetworkSpec
    commodities: list[Commodity] = Field(min_length=1)
    depots: list[Depot] = Field(default_factory=list)
    team_bases: list[TeamBase] = Field(default_factory=list)
    water_stations: list[WaterStation] = Field(default_factory=list)
    helipads: list[Helipad] = Field(default_factory=list)
    shelters: list[Shelter] = Field(default_factory=list)
    settlements: list[Settlement] = Field(default_factory=list)
    incident_types: list[IncidentType] = Field(default_factory=list, validate_default=True)
    incidents: list[ScriptedIncident] = Field(default_factory=list)
    generators: list[IncidentGenerator] = Field(default_factory=list)
    disruptions: list[Disruption] = Field(default_factory=list)
    hazard_zones: list[HazardZone] = Field(default_factory=list)
    dispatch: Dispatch = Field(default_factory=Dispatch)
    handout: Handout = Field(default_factory=Handout)
    targets: Targets = Field(default_factory=Targets)
    people_scale: Annotated[float, Field(gt=0, le=1000)] = 1.0
    """A factor on every settlement's people (a number or a distribution)."""
    evacuation: EvacuationSettings | None = None
    """Walking speed and bus fleets for the settlements' evacuation orders (None: the
    defaults, no buses)."""
    uncertain: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Uncertain inputs by path (filled from distributions written in place of numbers;
    :mod:`sim.uncertainty`); each replication draws its own values."""

    @field_validator("incident_types")
    @classmethod
    def _merge_default_types(cls, given: list[IncidentType]) -> list[IncidentType]:
        by_id = {t.id: t for t in DEFAULT_INCIDENT_TYPES}
        by_id.update({t.id: t for t in given})
        return list(by_id.values())

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems: list[tuple[str, Any, str]] = []
        for field in ("commodities", "depots", "team_bases", "water_stations", "helipads",
                      "shelters", "settlements", "disruptions", "hazard_zones"):
            problems += _duplicate_ids(field, getattr(self, field))
        commodities = {c.id for c in self.commodities}
        for i, depot in enumerate(self.depots):
            for attr in ("stock", "production_per_h"):
                for key in getattr(depot, attr):
                    if key not in commodities:
                        problems.append((f"depots[{i}].{attr}.{key}", key,
                                         _unknown("commodity", key, commodities)))
        team_types = {g.type for b in self.team_bases for g in b.teams}
        if self.water_stations:
            team_types.add("boat")
        if self.helipads:
            team_types.add("helicopter")
        if not any(c.main for c in self.commodities):
            problems.append(("commodities", [c.id for c in self.commodities],
                             "no commodity is marked 'main: true'; initial relief (初步救助) is "
                             "measured on the main commodities, so at least one must be main"))
        types = {t.id: t for t in self.incident_types}
        users: dict[str, list[str]] = {}
        for field in ("incidents", "generators"):
            for i, item in enumerate(getattr(self, field)):
                users.setdefault(item.type, []).append(f"{field}[{i}]")
        for t in self.incident_types:
            for j, need in enumerate(t.needs):
                if t.id not in users or need.team in team_types:
                    continue
                unknown = _unknown("team type (no base provides it)", need.team, team_types)
                if t not in DEFAULT_INCIDENT_TYPES:  # the user's own (or overridden) type
                    problems.append((f"incident_types[id={t.id}].needs[{j}].team", need.team,
                                     unknown))
                else:
                    hint = _misspelt_team(self, need.team)
                    for user in users[t.id]:
                        problems.append((f"{user}.type", t.id,
                                         f"built-in incident type '{t.id}' needs "
                                         f"'{need.team}' teams, but no team base provides "
                                         f"them (teams: {sorted(team_types)}){hint}"))
        for i, gen in enumerate(self.generators):
            if gen.locate_on == "settlements" and not self.settlements:
                problems.append((f"generators[{i}].locate_on", gen.locate_on,
                                 "needs settlements, but the scenario has none"))
            if gen.locate_on == "rivers" and not self.network.waterways:
                problems.append((f"generators[{i}].locate_on", gen.locate_on,
                                 "needs network.waterways (a waterway graph)"))
        for field in ("incidents", "generators"):
            for i, item in enumerate(getattr(self, field)):
                if item.type not in types:
                    problems.append((f"{field}[{i}].type", item.type,
                                     _unknown("incident type", item.type, types)))
        problems += _area_problems(self)
        problems += _evacuation_problems(self)
        if problems:
            raise _CrossRefErrors(problems)
        return self

    @property
    def evacuation_settings(self) -> EvacuationSettings:
        """``evacuation``, or the defaults when the scenario has none."""
        return self.evacuation or EvacuationSettings()

    def incident_type(self, type_id: str) -> IncidentType:
        return next(t for t in self.incident_types if t.id == type_id)

    def kpi_target(self, kpi: str) -> float | None:
        """The time limit (hours) of a plan target by KPI id (``<type>_arrival`` for an
        incident type's own target); None when it has none."""
        t = self.targets
        limits = {"initial_relief": t.initial_relief_h, "effective_relief": t.effective_relief_h,
                  "inland_river_arrival": t.inland_river_arrival_h,
                  "sea_arrival": t.sea_arrival_h, "fires_out_24h": t.fire_out_h,
                  "evacuation": t.evacuation_h}
        limits.update({f"{k.id}_arrival": k.target_h for k in self.incident_types})
        return limits.get(kpi)


def within(inner: str, outer: str) -> bool:
    """Whether administrative unit ``inner`` lies in ``outer`` (or is it); '' lies nowhere."""
    if not inner or not outer:
        return False
    a, b = inner.split("/"), outer.split("/")
    return a[:len(b)] == b


def _area_problems(scenario: Scenario) -> list[tuple[str, Any, str]]:
    """Depot areas must hold some settlement (when settlements name theirs), and a lower
    tier's unit must not contain a higher tier's (a village point serving a whole county)."""
    problems: list[tuple[str, Any, str]] = []
    places = sorted({s.area for s in scenario.settlements if s.area})
    if not places:
        return problems
    units = sorted({"/".join(a.split("/")[:k]) for a in places
                    for k in range(1, a.count("/") + 2)})
    for i, d in enumerate(scenario.depots):
        if d.area and not any(within(a, d.area) for a in places):
            hint = difflib.get_close_matches(d.area, units, n=1, cutoff=0.5)
            problems.append((f"depots[{i}].area", d.area,
                             "no settlement lies in this administrative unit (settlements' "
                             f"units: {', '.join(places[:5])}{' …' if len(places) > 5 else ''})"
                             + (f"; did you mean '{hint[0]}'?" if hint else "")))
    for i, low in enumerate(scenario.depots):
        for j, high in enumerate(scenario.depots):
            if (low.area and high.area and TIERS.index(low.tier) < TIERS.index(high.tier)
                    and low.area != high.area and within(high.area, low.area)):
                problems.append((f"depots[{i}].area", low.area,
                                 f"a {low.tier}-tier depot's unit contains the {high.tier}-tier "
                                 f"depots[{j}] ({high.id}) unit '{high.area}'; a lower tier "
                                 "serves a unit inside a higher tier's (村 ⊂ 镇 ⊂ 县)"))
    return problems


def _evacuation_problems(scenario: Scenario) -> list[tuple[str, Any, str]]:
    """Evacuation orders name known shelters and come before the horizon; buses have a base
    and exist when an order needs them; shelters stock known commodities."""
    problems: list[tuple[str, Any, str]] = []
    shelters = {h.id for h in scenario.shelters}
    bases = {d.id for d in scenario.depots} | {b.id for b in scenario.team_bases}
    fleets = scenario.evacuation_settings.buses
    for k, fleet in enumerate(fleets):
        if fleet.base not in bases:
            problems.append((f"evacuation.buses[{k}].base", fleet.base,
                             _unknown("depot or team base", fleet.base, bases)))
    for i, s in enumerate(scenario.settlements):
        order = s.evacuation
        if order is None:
            continue
        where = f"settlements[{i}].evacuation"
        if order.order_h >= scenario.horizon_h:
            problems.append((f"{where}.order_h", order.order_h,
                             f"not before horizon_h ({scenario.horizon_h:g} h): nobody could "
                             "move; expected an order within the simulated time"))
        for j, shelter in enumerate(order.shelters or []):
            if shelter not in shelters:
                problems.append((f"{where}.shelters[{j}]", shelter,
                                 _unknown("shelter", shelter, shelters)))
        if order.mode == "bus" and not fleets:
            problems.append((f"{where}.mode", order.mode,
                             "no bus fleet to carry them; add evacuation.buses (a depot or "
                             "team base with its count and seats) or use mode: walk"))
    commodities = {c.id for c in scenario.commodities}
    for i, shelter in enumerate(scenario.shelters):
        for key in shelter.stock:
            if key not in commodities:
                problems.append((f"shelters[{i}].stock.{key}", key,
                                 _unknown("commodity", key, commodities)))
    return problems


def evacuees(settlement: Settlement) -> int:
    """People its evacuation order sends to a shelter: ``share`` × people, rounded."""
    order = settlement.evacuation
    return 0 if order is None else math.floor(settlement.people * order.share + 0.5)


def _shelter_warnings(scenario: Scenario) -> list[str]:
    """Shelters that cannot hold everyone ordered to them: the most people the shelters open
    to each order can take (capacity alone, whatever the distances: a maximum flow), and who
    is left without a place; shelters without any capacity or opening too late."""
    out: list[str] = []
    orders = [(i, s) for i, s in enumerate(scenario.settlements) if evacuees(s) > 0]
    if not orders:
        return out
    for i, h in enumerate(scenario.shelters):
        if h.capacity_people is None and h.area_m2 <= 0:
            out.append(f"shelters[{i}] ({h.id}): neither capacity_people nor area_m2: it takes "
                       "nobody")
        if h.opening_delay_h >= scenario.horizon_h:
            out.append(f"shelters[{i}].opening_delay_h: {h.opening_delay_h:g} h is not before "
                       f"horizon_h ({scenario.horizon_h:g} h); nobody gets in")
    import networkx as nx

    graph = nx.DiGraph()
    everyone = [h.id for h in scenario.shelters]
    for i, s in orders:
        graph.add_edge("source", ("s", i), capacity=evacuees(s))
        for h in s.evacuation.shelters or everyone:  # type: ignore[union-attr]
            graph.add_edge(("s", i), ("h", h))
    for h in scenario.shelters:
        graph.add_edge(("h", h.id), "sink", capacity=h.capacity)
    placed, flow = (nx.maximum_flow(graph, "source", "sink") if "sink" in graph
                    else (0, {}))
    total = sum(evacuees(s) for _, s in orders)
    if placed >= total:
        return out
    short = [i for i, s in orders if flow.get("source", {}).get(("s", i), 0) < evacuees(s)]
    used = {h for i in short
            for h in scenario.settlements[i].evacuation.shelters or everyone}  # type: ignore
    ordered = [(i, s) for i, s in orders
               if set(s.evacuation.shelters or everyone) <= used]  # type: ignore[union-attr]
    capacity = [(h.name or h.id, h.id, h.capacity) for h in scenario.shelters if h.id in used]
    names = ", ".join(f"{name} ({hid}) {cap:,}" for name, hid, cap in capacity[:6]) + (
        " …" if len(capacity) > 6 else "")
    who = ", ".join(f"settlements[{i}] ({s.id}) {evacuees(s):,}" for i, s in ordered[:6]) + (
        " …" if len(ordered) > 6 else "")
    out.append(f"shelters: {sum(evacuees(s) for _, s in ordered):,} people are ordered to "
               f"evacuate to shelters that hold {sum(c for *_, c in capacity):,} "
               f"({names or 'no shelter'}); at least {total - placed:,} will be without a "
               f"place (evacuation orders: {who})")
    return out


def _misspelt_team(scenario: Scenario, wanted: str) -> str:
    """'; did you mean …' naming a base's team type that looks like ``wanted``."""
    for i, base in enumerate(scenario.team_bases):
        for j, group in enumerate(base.teams):
            if difflib.get_close_matches(wanted, [group.type], n=1):
                return (f"; did you mean '{wanted}' for team_bases[{i}].teams[{j}].type "
                        f"('{group.type}')?")
    return ""


def pre_run_warnings(scenario: Scenario) -> list[str]:
    """What is valid but cannot work as the planner surely meant: relief that cannot happen,
    things that start after the horizon, teams nothing needs. The run goes on."""
    out: list[str] = []
    horizon = scenario.horizon_h
    if scenario.settlements:
        if not any(d.trucks.count for d in scenario.depots):
            out.append("no depot has trucks (depots[*].trucks.count): no relief can be "
                       "delivered")
        for i, c in enumerate(scenario.commodities):
            if not any(d.stock.get(c.id, 0) > 0 or d.production_per_h.get(c.id, 0) > 0
                       for d in scenario.depots):
                kind = "initial and effective" if c.main else "effective"
                out.append(f"commodities[{i}] ({c.id}): no depot holds or produces it, so "
                           f"nobody can get {kind} relief")
    units = {c.id: c.unit_kg for c in scenario.commodities}
    for i, d in enumerate(scenario.depots):
        held = [c for c, q in d.stock.items() if q > 0] + [
            c for c, q in d.production_per_h.items() if q > 0]
        if held and d.trucks.count == 0:
            out.append(f"depots[{i}] ({d.id}) holds stock but has no trucks: it can never "
                       "deliver")
        heavy = sorted({c for c in held if d.trucks.capacity_kg < units[c]})
        if heavy and d.trucks.count:
            out.append(f"depots[{i}].trucks.capacity_kg: {d.trucks.capacity_kg:g} kg cannot "
                       f"carry one unit of {', '.join(f'{c} ({units[c]:g} kg)' for c in heavy)}"
                       "; each trip would carry a fraction of a unit")
    for i, pad in enumerate(scenario.helipads):
        cargo = pad.helicopters.payload_kg
        heavy = sorted(c for c, kg in units.items() if 0 < cargo < kg)
        if heavy:
            out.append(f"helipads[{i}].helicopters.payload_kg: {cargo:g} kg cannot lift one "
                       f"unit of {', '.join(f'{c} ({units[c]:g} kg)' for c in heavy)}")
    for field, attr in (("settlements", "onset_h"), ("incidents", "time_h")):
        for i, item in enumerate(getattr(scenario, field)):
            if getattr(item, attr) >= horizon:
                out.append(f"{field}[{i}].{attr}: {getattr(item, attr):g} h is not before "
                           f"horizon_h ({horizon:g} h); it will not appear in the results")
    for field in ("generators", "disruptions"):
        for i, item in enumerate(getattr(scenario, field)):
            if item.window.start_h >= horizon:
                out.append(f"{field}[{i}].window.start_h: {item.window.start_h:g} h is not "
                           f"before horizon_h ({horizon:g} h); it never acts")
    tiers = {d.tier for d in scenario.depots}
    default = Dispatch().escalation_delay_h
    for tier, delay in scenario.dispatch.escalation_delay_h.items():
        if tier not in tiers and default.get(tier) != delay:  # a delay set on purpose
            out.append(f"dispatch.escalation_delay_h.{tier}: no depot has tier '{tier}' "
                       f"(tiers present: {', '.join(t for t in TIERS if t in tiers)}); "
                       "the delay never applies")
    out += _shelter_warnings(scenario)
    for field, _ in SITE_FIELDS:
        for i, item in enumerate(getattr(scenario, field)):
            if item.review:
                out.append(f"{field}[{i}] ({item.id}) needs review: {item.review}")
    needed = {n.team for t in scenario.incident_types for n in t.needs}
    for i, base in enumerate(scenario.team_bases):
        for j, group in enumerate(base.teams):
            if group.type not in needed:
                hint = difflib.get_close_matches(group.type, sorted(needed), n=1)
                out.append(f"team_bases[{i}].teams[{j}].type: '{group.type}' — no incident "
                           "type needs this team type, so these teams never work"
                           + (f"; did you mean '{hint[0]}'?" if hint else ""))
    return out


class _CrossRefErrors(ValueError):
    """Carries several (path, value, message) problems through pydantic's error wrapper."""

    def __init__(self, problems: list[tuple[str, Any, str]]) -> None:
        super().__init__("; ".join(p[2] for p in problems))
        self.problems = problems


def _duplicate_ids(field: str, items: Iterable[Any]) -> list[tuple[str, Any, str]]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            out.append((f"{field}[{i}].id", item.id,
                        f"duplicate id (already used by {field}[{seen[item.id]}])"))
        seen.setdefault(item.id, i)
    return out


def _unknown(what: str, value: str, known: Iterable[str]) -> str:
    known = sorted(known)
    hint = difflib.get_close_matches(value, known, n=1)
    suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
    return f"unknown {what}; expected one of {known}{suggestion}"


# ---------------------------------------------------------------------------------------------
# Loading


class _SafeLineLoader(yaml.SafeLoader):
    """Safe loader (no object construction) that rejects duplicate mapping keys."""


def _construct_mapping(loader: _SafeLineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_SafeLineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc})") from None
    try:
        return yaml.load(text, Loader=_SafeLineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise ScenarioError(f"{path}: malformed YAML at {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: malformed YAML: {exc}") from None


def format_validation_error(origin: str, exc: ValidationError, model: type[BaseModel]) -> str:
    """One message listing every problem as ``file: path: value — expected …``."""
    lines = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _CrossRefErrors):
            for path, value, msg in ctx_error.problems:
                lines.append(f"{origin}: {path}: {value!r} — {msg}")
            continue
        path = _loc_to_path(err["loc"])
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            field = str(err["loc"][-1])
            allowed = _allowed_fields(model, err["loc"][:-1])
            hint = difflib.get_close_matches(field, allowed, n=1)
            msg = "unknown field" + (f"; did you mean '{hint[0]}'?" if hint else "")
            msg += f" (allowed: {', '.join(allowed)})" if allowed else ""
            lines.append(f"{origin}: {path}: {msg}")
        elif err["type"] == "missing":
            lines.append(f"{origin}: {path}: required field is missing")
        else:
            text = err["msg"].removeprefix("Value error, ")
            if err["type"] == "value_error" and _allowed_fields(model, err["loc"]):
                lines.append(f"{origin}: {path}: {text}")  # a record's own rule: no dump
                continue
            text = text.removeprefix("Input should be ").removeprefix("expected ")
            lines.append(f"{origin}: {path}: {_short(value)} — expected {text}")
    return "\n".join(dict.fromkeys(lines))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("tuple[float, float]", "int", "function-after[_ordered(), Window]") or (
            isinstance(item, str) and (item.startswith(("function-", "tuple[", "constrained-")))
        ):
            continue  # union-branch labels added by pydantic
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for item in loc:
        if isinstance(item, int) or not (isinstance(current, type) and
                                         issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(item))
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def in_wgs84(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """A file's hand-typed locations in WGS84: a top-level ``crs:`` (wgs84, gcj02, bd09,
    cgcs2000, EPSG:<code>) says what they are in; the key is consumed here."""
    if "crs" not in data:
        return data
    data = dict(data)
    name = data.pop("crs")
    try:
        crs = check_crs(name)
    except ValueError as exc:
        raise ScenarioError(f"{origin}: crs: {_short(name)} — {exc}") from None
    return convert_document(data, crs)


def parse_scenario(data: Any, *, origin: str = "<scenario>", base_dir: Path | None = None
                   ) -> Scenario:
    """Validate a mapping as a scenario; relative network paths resolve against ``base_dir``."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level, "
                            f"got {type(data).__name__}")
    data = in_wgs84(data, origin)
    data = extract(data, origin, lambda d: _validated(d, origin))
    scenario = _validated(data, origin)
    if base_dir is not None:
        scenario = _resolve_paths(scenario, base_dir)
    return scenario


def _resolve_paths(scenario: Scenario, base_dir: Path) -> Scenario:
    net = scenario.network
    updates = {}
    for attr in ("source", "waterways"):
        value = getattr(net, attr)
        if value and ":" not in value[:10] and value != "same" and not Path(value).is_absolute():
            updates[attr] = str((base_dir / value).resolve())
    if not updates:
        return scenario
    return scenario.model_copy(update={"network": net.model_copy(update=updates)})


def _validated(data: dict[str, Any], origin: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(origin, exc, Scenario)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file (safe loading, no object construction)."""
    path = Path(path)
    return parse_scenario(read_yaml(path), origin=str(path), base_dir=path.parent)


def dump_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain JSON-compatible data (saved with every result)."""
    return scenario.model_dump(mode="json")


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the scenario's content (sha256 of canonical JSON)."""
    text = json.dumps(dump_scenario(scenario), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
