"""Depot placement: candidates from a list and from OSM, static models, verification by
simulation, GeoJSON output — on the embedded default's real network."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import load_experiment
from sim.optimize import candidate_sites, solve_static
from sim.world import build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped default experiment with 4 replications, its base made absolute."""
    directory = tmp_path_factory.mktemp("optimize")
    spec = yaml.safe_load((ROOT / "experiments" / "helsinki_depot_sites.yaml").read_text("utf-8"))
    spec["base"] = str(ROOT / "scenarios" / "helsinki_storm.yaml")
    spec["replications"] = 4
    spec["chunk_size"] = 2
    path = directory / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    return path


def test_candidates_come_from_the_list_and_from_osm(small: Path, tmp_path: Path) -> None:
    experiment, base = load_experiment(small)
    world = build_world(base, cache_dir=tmp_path)
    candidates = candidate_sites(world, experiment.optimize)
    assert candidates.fixed == tuple(range(len(base.depots)))
    assert "keskusta" in candidates.names
    assert any(name.startswith("osm:") for name in candidates.names)
    assert len(set(candidates.nodes.tolist())) == len(candidates.nodes)  # one site per node


def test_static_p_median_picks_the_site_with_least_weighted_time(small: Path,
                                                                 tmp_path: Path) -> None:
    experiment, base = load_experiment(small)
    world = build_world(base, cache_dir=tmp_path)
    candidates = candidate_sites(world, experiment.optimize)
    solutions = solve_static(world, candidates, model="p_median", p=1, top=3, standard_h=0.05)
    objectives = [s.objective for s in solutions]
    assert objectives == sorted(objectives) and solutions[0].status == "optimal"
    # brute force over every single new site, existing depots open
    demand = [world.node(s.id) for s in base.settlements]
    people = [s.people for s in base.settlements]
    cost, _ = world.roads.matrix(candidates.nodes, demand)
    fixed = list(candidates.fixed)
    best = min(sum(w * min(cost[[*fixed, i], j]) for j, w in enumerate(people))
               for i in range(len(candidates.names)) if i not in fixed)
    assert solutions[0].objective == pytest.approx(best)


def test_optimize_command_reports_both_rankings(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["optimize", str(small), "--model", "p_median", "--p", "1",
                                      "--top", "2", "--out", str(out), "--cache-dir",
                                      str(tmp_path / "cache")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig")
    assert list(ranking.static_rank) == [1, 2]
    assert ranking.objective.is_monotonic_increasing
    assert ranking.share_within.between(0, 1).all() and ranking.p_best.notna().all()
    # each option costs its site's build cost + 10 years × (8 + 5) 万元 (keskusta's own 200)
    for r in ranking.itertuples():
        assert r.cost_wan == (200 if r.sites == "keskusta" else 120) + 10 * 13
    summary = pd.read_parquet(out / "simulation" / "summary.parquet")
    assert set(summary.placement) == {"current", "static_rank1", "static_rank2"}
    sites = json.loads((out / "sites.geojson").read_text("utf-8"))
    new = [f for f in sites["features"] if not f["properties"]["existing"]]
    assert len(new) == 2 and all(len(f["geometry"]["coordinates"]) == 2 for f in new)


def test_optimize_needs_an_optimize_section(small: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(small.read_text("utf-8"))
    del spec["optimize"]
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    result = CliRunner().invoke(app, ["optimize", str(path)])
    assert result.exit_code == 2
    assert "no 'optimize' section" in result.output
