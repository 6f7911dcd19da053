"""Experiment files: a base scenario, named placements, policies and variants, replications.

An experiment expands into *configurations* (placement × policy × variant); each is a full
scenario derived from the base. Every configuration runs the same replication indices with
the same master seed, so all of them see the same incidents and random draws (common random
numbers) and their differences are paired.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    Field,
    PositiveFloat,
    ValidationError,
    model_validator,
)

from sim.errors import ScenarioError
from sim.metrics import KPI_NAMES
from sim.scenario import (
    Cost,
    Depot,
    Location,
    PositiveHours,
    Probability,
    Scenario,
    Seed,
    Shelter,
    _Model,
    _validated,
    format_validation_error,
    in_wgs84,
    load_scenario,
    read_yaml,
)
from sim.uncertainty import extract, number_at, rounded, set_path
from sim.workload import Workload, estimate

__all__ = [
    "Config",
    "Experiment",
    "Factor",
    "aep_weights",
    "censored_mean",
    "check_factors",
    "configurations",
    "design_points",
    "experiment_hash",
    "experiment_workload",
    "load_experiment",
    "replication_values",
]


MAX_REPLICATIONS = 100_000
"""Replications of one configuration: intervals are tight long before this many."""
MAX_SCALE = 1000.0
"""A demand or stock scale factor of a variant."""


class Placement(_Model):
    """A set of depot sites with their stock, as changes to the base scenario's depots (and
    shelters added, ``add_shelters``)."""

    name: str
    description: str = ""
    remove: list[str] = Field(default_factory=list)
    add: list[Depot] = Field(default_factory=list)
    move: dict[str, Location] = Field(default_factory=dict)
    stock: dict[str, dict[str, float]] = Field(default_factory=dict)
    add_shelters: list[Shelter] = Field(default_factory=list)


class Variant(_Model):
    """A scenario variant for sensitivity: demand, stock, contract reliability, closures."""

    name: str
    demand_scale: Annotated[float, Field(gt=0, le=MAX_SCALE)] = 1.0
    stock_scale: Annotated[float, Field(ge=0, le=MAX_SCALE)] = 1.0
    no_show_prob: Probability | None = None
    disruption_share: Probability | None = None
    disruptions: bool = True
    set: dict[str, Any] = Field(default_factory=dict)
    """Inputs by path, each a number or a distribution: ``people_scale``,
    ``disruptions[id=underpass].window.duration_h``, ``depots[id=d].trucks.count`` …"""
    annual_exceedance: Annotated[float, Field(gt=0, le=1)] | None = None
    """A hazard variant's annual exceedance probability (a 50-year flood: 0.02); with it on
    every variant, results are also weighted over the hazards (README, "Hazard variants")."""


class Factor(_Model):
    """An input varied across the experiment, by path: its ``values`` (levels of a full
    factorial grid) or its range ``low``–``high`` (a Latin-hypercube sample, and
    ``reliefsim sensitivity``)."""

    path: str
    name: str = ""
    values: list[float] | None = Field(default=None, min_length=1)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _levels_or_range(self) -> Factor:
        ranged = self.low is not None and self.high is not None
        if self.values is None and not ranged:
            raise ValueError("give values (grid levels) or low and high (a range)")
        if ranged and not float(self.low or 0) < float(self.high or 0):
            raise ValueError(f"expected low < high, got low {self.low}, high {self.high}")
        return self

    @property
    def label(self) -> str:
        return self.name or self.path

    def levels(self) -> list[float]:
        return list(self.values) if self.values is not None else [float(self.low or 0),
                                                                 float(self.high or 0)]

    def at(self, u: float) -> float:
        """The value at quantile ``u`` of the factor: its range, or its levels equally."""
        if self.values is None:
            return float(self.low or 0) + u * (float(self.high or 0) - float(self.low or 0))
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]


class Sequential(_Model):
    """Add replications in batches until the chosen KPI's CI half-width is small enough."""

    half_width: PositiveFloat
    batch: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 10
    max_replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 200


class Candidate(_Model):
    name: str
    location: Location
    cost: Cost | None = None
    """This site's cost (万元), when it differs from ``new_depot.cost``."""


class OsmCandidates(_Model):
    """Candidate sites taken from OSM features of the base network's extract."""

    tags: dict[str, list[str]] = Field(
        default_factory=lambda: {"building": ["warehouse"], "landuse": ["industrial"],
                                 "amenity": ["school"], "leisure": ["stadium", "sports_centre"]})
    limit: Annotated[int, Field(ge=1, le=10_000)] = 60


class OptimizeSpec(_Model):
    """Where a new depot (or shelter) may go and what it holds, for ``reliefsim optimize``.

    ``travel``: the cost matrix is driving time on the open road network (``drive``) or
    walking time (``walk``, :func:`sim.walking.walk_times_h`: the extract's pedestrian
    network at 4.5 km/h) — stockpile points of the 15-minute life-support circle are sited by
    walking. ``sites``: site ``depots`` (``new_depot``) or ``shelters`` (``new_shelter``;
    the existing shelters with room stay open)."""

    new_depot: Depot | None = None
    new_shelter: Shelter | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    osm: OsmCandidates | None = None
    standard_h: PositiveHours = 0.25
    keep_existing: bool = True
    replaces: list[str] = Field(
        default_factory=list, description="existing depots the new site(s) would replace")
    travel: Literal["drive", "walk"] = "drive"
    sites: Literal["depots", "shelters"] = "depots"

    @model_validator(mode="after")
    def _some_candidates(self) -> OptimizeSpec:
        if not self.candidates and self.osm is None:
            raise ValueError("give candidate sites: 'candidates' and/or 'osm'")
        if self.sites == "depots" and self.new_depot is None:
            raise ValueError("give new_depot: what a new depot holds (sites: depots)")
        if self.sites == "shelters":
            if self.new_shelter is None:
                raise ValueError("give new_shelter: a new shelter's capacity (sites: shelters)")
            if self.replaces or not self.keep_existing:
                raise ValueError("sites: shelters keeps every existing shelter: leave out "
                                 "replaces and keep_existing")
        return self


class Experiment(_Model):
    name: str
    description: str = ""
    base: str
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 20
    master_seed: Seed = 1
    placements: list[Placement] = Field(min_length=1)
    baseline: str | None = None
    policies: list[Literal["plan", "fcfs", "nearest_idle"]] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    kpi: str = "initial_relief"
    statistic: Literal["share_within", "mean", "p95"] = "share_within"
    chunk_size: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 5
    sequential: Sequential | None = None
    optimize: OptimizeSpec | None = None
    cost_years: Annotated[int, Field(ge=1, le=100)] = 10
    """Planning period over which depots' annual costs count (README, "Cost")."""
    factors: list[Factor] = Field(default_factory=list)
    design: Literal["grid", "lhs"] = "grid"
    samples: Annotated[int, Field(ge=1, le=10_000)] = 16
    """Design points of a Latin-hypercube sample (``design: lhs``)."""

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        names = [p.name for p in self.placements]
        if len(set(names)) != len(names):
            raise ValueError(f"placement names must be unique (got {names})")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not a placement; expected one of "
                             f"{names}")
        if self.kpi not in KPI_NAMES and not self.kpi.endswith("_arrival"):
            raise ValueError(f"kpi {self.kpi!r} unknown; expected one of {list(KPI_NAMES)} "
                             "or an incident type's '<type>_arrival'")
        variants = [v.name for v in self.variants]
        if len(set(variants)) != len(variants):
            raise ValueError(f"variant names must be unique (got {variants})")
        given = [v.annual_exceedance for v in self.variants if v.annual_exceedance is not None]
        if given and len(given) != len(self.variants):
            raise ValueError("annual_exceedance is given for some variants only; give it for "
                             "every hazard variant (or none)")
        if len(set(given)) != len(given):
            raise ValueError(f"annual_exceedance must differ between variants (got {given})")
        if given and self.factors:
            raise ValueError("hazard variants (annual_exceedance) and factors in one "
                             "experiment are not supported; run them as two experiments")
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            raise ValueError(f"factor paths must be unique (got {paths})")
        return self

    @property
    def baseline_name(self) -> str:
        return self.baseline or self.placements[0].name

    @property
    def lower_is_better(self) -> bool:
        return self.statistic != "share_within"


@dataclass(frozen=True)
class Config:
    """One configuration of an experiment and the scenario it runs."""

    id: str
    placement: str
    policy: str
    variant: str
    scenario: Scenario


def load_experiment(path: str | Path) -> tuple[Experiment, Scenario]:
    """Load an experiment file and its base scenario (path relative to the experiment)."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of experiment fields at the top level")
    data = in_wgs84(data, str(path))
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(str(path), exc, Experiment)) from None
    base_path = (path.parent / experiment.base).resolve()
    base = load_scenario(base_path)
    configurations(experiment, base, origin=str(path))  # every placement must apply cleanly
    return experiment, base


def configurations(experiment: Experiment, base: Scenario, *, origin: str = "<experiment>"
                   ) -> list[Config]:
    """All placement × policy × variant configurations, in a stable order."""
    policies = experiment.policies or [base.dispatch.policy]
    variants = experiment.variants or [Variant(name="base")]
    if experiment.factors:
        variants = _designed(experiment, base, variants, origin)
    configs = []
    for i, placement in enumerate(experiment.placements):
        placed = _apply_placement(base, placement, f"{origin}: placements[{i}]")
        for policy in policies:
            for j, variant in enumerate(variants):
                where = f"{origin}: placements[{i}] with variants[{j}] ({variant.name})"
                try:
                    scenario = _apply_variant(placed, variant, f"{origin}: variants[{j}]")
                    scenario = scenario.model_copy(update={
                        "dispatch": scenario.dispatch.model_copy(update={"policy": policy})})
                    scenario = Scenario.model_validate(scenario.model_dump())
                except ValidationError as exc:
                    raise ScenarioError(format_validation_error(where, exc, Scenario)) from None
                cid = _slug(f"{placement.name}__{policy}__{variant.name}")
                configs.append(Config(cid, placement.name, policy, variant.name, scenario))
    return configs


def design_points(experiment: Experiment) -> list[dict[str, float]]:
    """The experiment's factor values per design point: every combination of levels
    (``grid``), or ``samples`` points of a Latin hypercube over the ranges (``lhs``, seeded
    by the master seed)."""
    factors = experiment.factors
    if experiment.design == "grid":
        return [dict(zip((f.path for f in factors), combo, strict=True))
                for combo in itertools.product(*(f.levels() for f in factors))]
    from scipy.stats import qmc

    sample = qmc.LatinHypercube(d=len(factors), seed=experiment.master_seed).random(
        experiment.samples)
    return [{f.path: f.at(u) for f, u in zip(factors, row, strict=True)} for row in sample]


def check_factors(factors: list[Factor], scenario: Scenario, origin: str) -> None:
    """Every factor's path names a number field of ``scenario`` (one message if not)."""
    data = scenario.model_dump()
    for i, f in enumerate(factors):
        try:
            number_at(data, f.path)
        except KeyError as exc:
            raise ScenarioError(f"{origin}: factors[{i}].path: {exc.args[0]}") from None
        except TypeError as exc:
            raise ScenarioError(f"{origin}: factors[{i}].path: {exc}") from None


def _designed(experiment: Experiment, base: Scenario, variants: list[Variant], origin: str
              ) -> list[Variant]:
    """Each variant at each design point of the factors (their paths checked first)."""
    check_factors(experiment.factors, base, origin)
    out = []
    for k, raw in enumerate(design_points(experiment)):
        point = {path: rounded(path, x) for path, x in raw.items()}
        label = ", ".join(f"{f.label}={point[f.path]:.4g}" for f in experiment.factors)
        for v in variants:
            name = label if len(variants) == 1 and v.name == "base" else f"{v.name} | {label}"
            out.append(v.model_copy(update={
                "name": f"p{k + 1}: {name}",
                "set": {**v.set, **point}}))
    return out


def _apply_placement(base: Scenario, placement: Placement, where: str) -> Scenario:
    depots = {d.id: d for d in base.depots}
    for key, ids in (("remove", placement.remove), ("move", placement.move),
                     ("stock", placement.stock)):
        for depot_id in ids:
            if depot_id not in depots:
                raise ScenarioError(f"{where}.{key}.{depot_id}: unknown depot; expected one of "
                                    f"{sorted(depots)}")
    for depot_id in dict.fromkeys(placement.remove):
        if placement.remove.count(depot_id) > 1:
            raise ScenarioError(f"{where}.remove: {depot_id!r} is listed "
                                f"{placement.remove.count(depot_id)} times; expected once")
        for key in ("move", "stock"):
            if depot_id in getattr(placement, key):
                raise ScenarioError(f"{where}.{key}.{depot_id}: the depot is also removed; "
                                    "expected it in one of remove or " + key)
        del depots[depot_id]
    for depot_id, location in placement.move.items():
        depots[depot_id] = depots[depot_id].model_copy(update={"location": location})
    for depot_id, stock in placement.stock.items():
        depots[depot_id] = depots[depot_id].model_copy(update={"stock": dict(stock)})
    for depot in placement.add:
        if depot.id in depots:
            raise ScenarioError(f"{where}.add: depot id {depot.id!r} already exists")
        depots[depot.id] = depot
    data = base.model_dump()
    data["depots"] = [d.model_dump() for d in depots.values()]
    shelters = {s.id for s in base.shelters}
    for shelter in placement.add_shelters:
        if shelter.id in shelters:
            raise ScenarioError(f"{where}.add_shelters: shelter id {shelter.id!r} already "
                                "exists")
        shelters.add(shelter.id)
        data["shelters"].append(shelter.model_dump())
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(where, exc, Scenario)) from None


def _apply_variant(scenario: Scenario, variant: Variant, where: str = "<variant>"
                   ) -> Scenario:
    data = scenario.model_dump()
    for s in data["settlements"]:
        s["people"] = max(1, round(s["people"] * variant.demand_scale))
    for d in data["depots"]:
        d["stock"] = {c: q * variant.stock_scale for c, q in d["stock"].items()}
        if variant.no_show_prob is not None and d["kind"] != "physical":
            d["no_show_prob"] = variant.no_show_prob
    if not variant.disruptions:
        data["disruptions"] = []
    elif variant.disruption_share is not None:
        for d in data["disruptions"]:
            d["share"] = variant.disruption_share
    if variant.set:
        for path, value in variant.set.items():
            try:
                set_path(data, path, value)
            except KeyError as exc:
                raise ScenarioError(f"{where}.set: {exc.args[0]}") from None
            if not isinstance(value, dict):
                data["uncertain"].pop(path, None)  # fixed in this variant
        data = extract(data, f"{where}.set", lambda d: _validated(d, where))
    return Scenario.model_validate(data)


def aep_weights(variants: list[Variant]) -> dict[str, float]:
    """Weights of hazard variants from their annual exceedance probabilities p₁ > p₂ > …:
    (pᵢ − pᵢ₊₁) / p₁ (pₙ₊₁ = 0), the chance that a year's event is of variant i's size given
    that one at least as large as the most frequent occurs. Empty unless every variant has
    one."""
    if not variants or any(v.annual_exceedance is None for v in variants):
        return {}
    ordered = sorted(variants, key=lambda v: -float(v.annual_exceedance or 0))
    p = [float(v.annual_exceedance or 0) for v in ordered] + [0.0]
    return {v.name: (p[i] - p[i + 1]) / p[0] for i, v in enumerate(ordered)}


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE)


def experiment_hash(experiment: Experiment, base: Scenario) -> str:
    """Hash of everything that decides the numbers: the experiment and its base scenario."""
    from sim.scenario import dump_scenario

    payload = {"experiment": experiment.model_dump(mode="json"),
               "base": dump_scenario(base)}
    payload["experiment"].pop("description", None)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]



def experiment_workload(experiment: Experiment, base: Scenario, *,
                        placements: int | None = None) -> Workload:
    """The most work the experiment may do: every configuration (or ``placements`` ×
    policies × variants of them) × its largest number of replications."""
    configs = configurations(experiment, base)
    if placements is not None:
        per = max(len(configs) // len(experiment.placements), 1)
        configs = configs[:per] * placements
    most = max(experiment.replications,
               experiment.sequential.max_replications if experiment.sequential else 0)
    works = [estimate(c.scenario) for c in configs]
    heaviest = max(works, key=lambda w: w.events)
    return Workload(incidents=sum(w.incidents for w in works) / len(works),
                    trips=sum(w.trips for w in works) / len(works),
                    people=heaviest.people, runs=most * len(works))


def replication_values(kpis: pd.DataFrame, experiment: Experiment, kpi: str | None = None
                       ) -> pd.DataFrame:
    """config, replication, value: the experiment's statistic of one KPI per replication.

    A replication that left anyone unserved within the horizon has an infinite ``mean``: the
    KPI's mean over those served would reward leaving people out."""
    kpi = kpi or experiment.kpi
    rows = kpis[(kpis.kpi == kpi) & (kpis.n > 0)]
    value = rows[experiment.statistic].to_numpy(dtype=float)
    if experiment.statistic == "mean":
        value = censored_mean(rows)
    return rows[["config", "replication"]].assign(value=value)


def censored_mean(kpis: pd.DataFrame) -> np.ndarray:
    """Each row's mean time, infinite when some were never served (``never`` > 0)."""
    return np.where(kpis.never.to_numpy() > 0, np.inf, kpis["mean"].to_numpy(dtype=float))
