"""One replication end to end: model → records → KPIs, and saving it as a run directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.metrics import (
    Kpi,
    evacuation_summary,
    kpi_table,
    kpis,
    person_relief,
    resource_summary,
)
from sim.model import Records, simulate
from sim.results import write_run
from sim.scenario import dump_scenario, scenario_hash
from sim.shortfalls import shortfalls
from sim.uncertainty import draw, drawn_values, is_uncertain
from sim.walking import walk_basis
from sim.world import World, service_table

__all__ = ["RunResult", "drawn_world", "run_outputs", "run_replication", "save_run"]


@dataclass(frozen=True)
class RunResult:
    """The records of one replication and what they say about the targets."""

    seed: int
    replication: int
    policy: str
    records: Records
    relief: pd.DataFrame
    kpis: list[Kpi]
    resources: dict[str, float]
    shortfalls: pd.DataFrame | None = None
    """Why targets fail (settlement × commodity; with ``explain=True``)."""


def run_replication(world: World, *, seed: int | None = None, replication: int = 0,
                    policy: str | None = None, explain: bool = False,
                    progress: Callable[[float], None] | None = None) -> RunResult:
    """Simulate one replication and measure it (``explain``: and say why targets fail)."""
    seed = world.scenario.seed if seed is None else seed
    world = drawn_world(world, seed, replication)
    scenario = world.scenario
    policy = policy or scenario.dispatch.policy
    records = simulate(world, seed=seed, replication=replication, policy=policy,
                       progress=progress)
    relief = person_relief(records, scenario)
    return RunResult(seed, replication, policy, records, relief, kpis(records, scenario, relief),
                     resource_summary(records, scenario),
                     shortfalls(records, scenario, world.service) if explain else None)


def drawn_world(world: World, seed: int, replication: int) -> World:
    """The world with the replication's draws of the scenario's uncertain inputs (itself when
    nothing is uncertain)."""
    if not is_uncertain(world.scenario):
        return world
    return world.with_scenario(draw(world.scenario, seed, replication),
                               origin=f"replication {replication}")


def save_run(out: Path, world: World, result: RunResult) -> Path:
    """Write records (Parquet + CSV), KPIs and summary.json (hash, seed, versions)."""
    tables, summary = run_outputs(world, result)
    return write_run(out, tables=tables, summary=summary)


def run_outputs(world: World, result: RunResult
                ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """A run's tables (records, relief, KPIs, shortfalls) and its summary."""
    scenario = world.scenario
    tables: dict[str, pd.DataFrame] = dict(result.records.tables())
    tables["relief"] = result.relief
    tables["kpis"] = kpi_table(result.kpis)
    if result.shortfalls is not None:
        tables["shortfalls"] = result.shortfalls
    summary = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": result.seed,
        "replication": result.replication,
        "policy": result.policy,
        "horizon_h": scenario.horizon_h,
        "network": {"source": world.road.report.source, "nodes": world.road.report.n_nodes,
                    "edges": world.road.report.n_edges, "key": world.road.key},
        "kpis": kpi_table(result.kpis).to_dict(orient="records"),
        "resources": result.resources,
        "drawn_inputs": drawn_values(scenario.uncertain, result.seed, result.replication),
        "shortfalls": ([] if result.shortfalls is None
                       else result.shortfalls.to_dict(orient="records")),
        "service_areas": [row._asdict() for row in service_table(world)],
        "evacuation": _evacuation(world, result.records),
        "life_circle": _life_circle(world, tables),
        "warnings": world.warnings,
        "scenario_definition": dump_scenario(scenario),
    }
    return tables, summary


def _life_circle(world: World, tables: dict[str, pd.DataFrame]) -> dict[str, Any] | None:
    """The 15-minute life-support circle of the layout (a property of the depots and
    shelters, the same in every replication): adds the table ``life_circle`` and returns its
    summary — shares of people within ``targets.life_circle_min`` minutes' walk of a
    stockpile point and of a shelter with room, against ``targets.life_circle_share``."""
    scenario = world.scenario
    if not scenario.settlements or not (scenario.depots or scenario.shelters):
        return None
    from sim.walking import life_circle, life_circle_kpi, life_circle_share
    from sim.world import attach_walk

    targets = scenario.targets
    frame = life_circle(attach_walk(world), minutes=targets.life_circle_min,
                        kmh=scenario.evacuation_settings.walk_kmh)
    tables["life_circle"] = frame
    kpi = life_circle_kpi(frame, targets)
    return {"minutes": targets.life_circle_min, "required": targets.life_circle_share,
            "stockpile_share": kpi.share_within,
            "shelter_share": life_circle_share(frame, of="shelter"), "passed": bool(kpi.passed),
            "walk_basis": frame.attrs["basis"], "walk_kmh": frame.attrs["kmh"]}


def _evacuation(world: World, records: Records) -> dict[str, Any] | None:
    """The run's evacuation figures, with what walking times were measured on."""
    found = evacuation_summary(records, world.scenario)
    if found is None:
        return None
    return {**found, "walk_basis": walk_basis(world),
            "walk_kmh": world.scenario.evacuation_settings.walk_kmh}
