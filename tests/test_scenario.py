"""Scenario schema: shipped files validate; every kind of bad input gets one precise message."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario import load_scenario, parse_scenario, scenario_hash

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "helsinki_storm.yaml"


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def error_of(data: dict, tmp_path: Path) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.commodities and scenario.name


def test_defaults_are_the_plan_targets(base: dict) -> None:
    data = copy.deepcopy(base)
    data.pop("targets")
    targets = parse_scenario(data).targets
    assert (targets.initial_relief_h, targets.effective_relief_h) == (8, 10)
    assert (targets.inland_river_arrival_h, targets.sea_arrival_h) == (1, 2)
    assert (targets.fire_out_h, targets.fire_out_share) == (24, 0.95)


def test_missing_field(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    del data["depots"][2]["location"]
    assert "depots[2].location: required field is missing" in error_of(data, tmp_path)


def test_negative_stock_names_path_value_and_expectation(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][2]["stock"]["kit"] = -5
    msg = error_of(data, tmp_path)
    assert "depots[2].stock.kit: -5 — expected greater than or equal to 0" in msg


def test_wrong_type(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["settlements"][0]["people"] = "many"
    assert "settlements[0].people: 'many' — expected a valid integer" in error_of(data, tmp_path)


def test_negative_count(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][0]["trucks"]["count"] = -1
    assert "depots[0].trucks.count: -1 — expected greater than or equal to 0" in error_of(
        data, tmp_path)


def test_unknown_commodity(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][1]["stock"]["quilts"] = 10
    msg = error_of(data, tmp_path)
    assert "depots[1].stock.quilts: 'quilts' — unknown commodity" in msg
    assert "did you mean 'quilt'?" in msg


def test_unknown_team_type(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["team_bases"][1]["teams"][0]["type"] = "medic"
    msg = error_of(data, tmp_path)
    assert "generators[1].type: 'flood_rescue' — built-in incident type 'flood_rescue' needs " \
        "'medical' teams, but no team base provides them" in msg
    assert "did you mean 'medical' for team_bases[1].teams[0].type ('medic')?" in msg
    own = copy.deepcopy(base)
    own["incident_types"] = [{"id": "evacuation", "needs": [{"team": "bus"}]}]
    own["incidents"][0]["type"] = "evacuation"
    assert "incident_types[id=evacuation].needs[0].team: 'bus' — unknown team type (no base " \
        "provides it)" in error_of(own, tmp_path)


def test_a_scenario_without_a_main_commodity_is_an_error(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    for c in data["commodities"]:
        c["main"] = False
    assert "commodities: ['kit', 'quilt', 'tent'] — no commodity is marked 'main: true'" in \
        error_of(data, tmp_path)


def test_unknown_incident_type(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["incidents"][0]["type"] = "building_colapse"
    msg = error_of(data, tmp_path)
    assert "incidents[0].type: 'building_colapse' — unknown incident type" in msg
    assert "did you mean 'building_collapse'?" in msg


def test_coordinates_out_of_range(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["settlements"][3]["location"] = [60.17, 24.94]  # swapped; lat 24.94 is fine, lon too
    data["settlements"][4]["location"] = [24.94, 160.17]
    msg = error_of(data, tmp_path)
    assert "settlements[4].location: [24.94, 160.17] — expected [lon, lat]" in msg
    assert "lon/lat look swapped?" in msg


def test_duplicate_ids(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["settlements"][2]["id"] = data["settlements"][0]["id"]
    msg = error_of(data, tmp_path)
    assert "settlements[2].id: 'kaartinkaupunki' — duplicate id (already used by settlements[0])" \
        in msg


def test_time_window_that_ends_before_it_starts(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["disruptions"][0]["window"] = {"start_h": 6, "end_h": 2}
    msg = error_of(data, tmp_path)
    assert "disruptions[0].window" in msg
    assert "end_h (2.0) must be after start_h (6.0)" in msg


def test_unknown_key_suggests_the_right_one(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][0]["stok"] = data["depots"][0].pop("stock")
    msg = error_of(data, tmp_path)
    assert "depots[0].stok: unknown field; did you mean 'stock'?" in msg


def test_several_problems_in_one_message(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][0]["stock"]["kit"] = -1
    data["settlements"][1]["people"] = 0
    msg = error_of(data, tmp_path)
    assert "depots[0].stock.kit" in msg and "settlements[1].people" in msg


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nnetwork:\n  source: builtin:helsinki\n  speeds: [1, 2\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.yaml: malformed YAML at line \d+"):
        load_scenario(path)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: x\nname: y\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"line 2.*duplicate key 'name'"):
        load_scenario(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="malformed YAML"):
        load_scenario(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(path)


def test_contract_fields_only_on_contract_depots(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["depots"][0]["no_show_prob"] = 0.3
    assert "apply only to kind: contract" in error_of(data, tmp_path)


def test_relative_network_path_resolves_against_the_file(base: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["network"]["source"] = "maps/area.osm"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_scenario(path).network.source == str((tmp_path / "maps" / "area.osm").resolve())


def test_hash_is_stable_and_content_sensitive(base: dict) -> None:
    a = parse_scenario(copy.deepcopy(base))
    b = parse_scenario(copy.deepcopy(base))
    assert scenario_hash(a) == scenario_hash(b)
    changed = copy.deepcopy(base)
    changed["depots"][0]["stock"]["kit"] += 1
    assert scenario_hash(parse_scenario(changed)) != scenario_hash(a)
