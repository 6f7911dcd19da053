"""Candidate screening (#16 item 5): sites inside hazard zones or closure areas, or far from
the roads, are flagged by validate and left out of optimize with their reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import OptimizeSpec
from sim.network import haversine_m
from sim.optimize import candidate_sites
from sim.scenario import parse_scenario
from sim.world import build_world

ROOT = Path(__file__).resolve().parents[1]
UNDERPASS = [[24.9480, 60.1640], [24.9535, 60.1640], [24.9535, 60.1675], [24.9480, 60.1675]]
"""The embedded Helsinki scenario's flooded-underpass closure polygon (0.5–8 h)."""


@pytest.fixture
def base() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))


def test_validate_flags_sites_in_closure_areas_and_hazard_zones(tmp_path: Path,
                                                                base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["depots"][0]["location"] = [24.9500, 60.1655]  # inside the underpass closure
    data["shelters"] = [{"id": "gym", "location": [24.9330, 60.1700], "capacity_people": 500}]
    data["hazard_zones"] = [{"id": "lowland", "kind": "flood", "polygon": [
        [24.9320, 60.1690], [24.9340, 60.1690], [24.9340, 60.1710], [24.9320, 60.1710]]}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--cache-dir",
                                      str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", "")
    depot = data["depots"][0]["id"]
    assert f"depots[0] ({depot}) lies inside the closure area 'harbour_underpass_flooded' " \
        "(0.5 h–8 h): it may be cut off or unusable" in text
    assert "shelters[0] (gym) lies inside the flood zone 'lowland'" in text
    # and the shipped county warehouse, which the scenario floods on purpose
    assert "depots[2] (makasiinit_county) lies inside the closure area " \
        "'harbour_underpass_flooded'" in text
    assert text.count("lies inside") == 3  # nothing else is flagged


def test_optimize_leaves_out_hazardous_and_remote_candidates(base: dict[str, Any],
                                                             tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["network"]["snap_warn_m"] = 60
    data["hazard_zones"] = [{"id": "lowland", "polygon": [
        [24.9320, 60.1690], [24.9340, 60.1690], [24.9340, 60.1710], [24.9320, 60.1710]]}]
    world = build_world(parse_scenario(data), cache_dir=tmp_path / "cache")
    road = world.road
    fine = [24.9464, 60.1732]  # the kaisaniemi settlement: on a road, outside every area
    # a point 0.003° of latitude (≈ 330 m) north of the northernmost road node: off the roads
    top = int(np.argmax(road.lat))
    remote = [float(road.lon[top]), float(road.lat[top]) + 0.003]
    assert haversine_m(*remote, road.lon, road.lat).min() > 300
    spec = OptimizeSpec.model_validate({
        "new_depot": {"id": "new", "location": fine},
        "candidates": [{"name": "fine", "location": fine},
                       {"name": "in the underpass", "location": [24.9500, 60.1655]},
                       {"name": "lowland", "location": [24.9330, 60.1700]},
                       {"name": "remote", "location": remote}]})
    candidates = candidate_sites(world, spec)
    reasons = dict(candidates.excluded)
    assert "fine" in candidates.names and not set(reasons) & set(candidates.names)
    assert reasons["in the underpass"] == \
        "closure area 'harbour_underpass_flooded' (0.5 h–8 h)"
    assert reasons["lowland"].startswith("flood zone 'lowland'; ")  # and off the roads
    assert reasons["remote"].endswith("m from the nearest road (network.snap_warn_m 60 m)")
    assert int(reasons["remote"].split(" m ")[0]) > 300
