"""Uncertain inputs (issue #17, part 1): distributions in place of numbers, checked when read,
drawn per replication from streams keyed by path (common random numbers across placements),
with the right distributions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.experiment import configurations, load_experiment
from sim.metrics import kpis
from sim.run import run_replication
from sim.scenario import dump_scenario, parse_scenario
from sim.uncertainty import draw, drawn_values, get_path, set_path
from sim.world import World

ROOT = Path(__file__).resolve().parents[1]
NANJING = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"
ALPHA = 1e-4
"""Each distribution test fails by chance with this probability (two-sided KS test)."""


@pytest.fixture
def data() -> dict[str, Any]:
    return yaml.safe_load(NANJING.read_text(encoding="utf-8"))


def uncertain(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["settlements"][0]["people"] = {"dist": "triangular", "low": 1000, "mode": 1500,
                                        "high": 2500}
    data["disruptions"][0]["window"] = {
        "start_h": {"dist": "uniform", "low": 0.5, "high": 2.0},
        "duration_h": {"dist": "lognormal", "median": 6.0, "sigma": 0.4, "high": 20.0}}
    data["depots"][4]["no_show_prob"] = {"dist": "truncnormal", "mean": 0.2, "sd": 0.1,
                                         "low": 0.0, "high": 0.6}
    data["depots"][4]["activation_delay_h"] = {"dist": "choice", "values": [1, 2, 4],
                                               "weights": [1, 2, 1]}
    data["people_scale"] = {"dist": "uniform", "low": 0.8, "high": 1.3}
    return data


def test_reading_puts_central_values_in_place_and_records_paths(data: dict) -> None:
    scenario = parse_scenario(uncertain(data))
    assert sorted(scenario.uncertain) == sorted([
        "settlements[id=wulaocun].people",
        "disruptions[id=hanzhongmen_underpass_waterlogged].window.start_h",
        "disruptions[id=hanzhongmen_underpass_waterlogged].window.duration_h",
        "depots[id=supermarket_contract].no_show_prob",
        "depots[id=supermarket_contract].activation_delay_h", "people_scale"])
    assert scenario.settlements[0].people == 1500  # the mode
    window = scenario.disruptions[0].window
    assert (window.start_h, window.duration_h, window.end_h) == (1.25, 6.0, 7.25)
    assert scenario.depots[4].activation_delay_h == 2.0  # the most likely choice
    assert scenario.people_scale == pytest.approx(1.05)
    assert parse_scenario(dump_scenario(scenario)) == scenario  # saved with results, re-read


@pytest.mark.parametrize(("field", "spec", "message"), [
    ("people", {"dist": "triangular", "low": 10, "mode": 5, "high": 20},
     r"settlements\[id=wulaocun\]\.people: .*low ≤ mode ≤ high"),
    ("people", {"dist": "gamma", "shape": 2},
     r"settlements\[id=wulaocun\]\.people: .*triangular, uniform, truncnormal, lognormal"),
    ("people", {"dist": "lognormal", "median": 100, "sigma": 1},
     r"high: Field required"),
    ("people", {"dist": "choice", "values": [1, 2], "weights": [1]}, r"one weight ≥ 0 per"),
    ("people", {"dist": "uniform", "low": 10, "high": 2e8},
     r"people: its high value 2e\+08 is not a valid value here:\n.*expected less than or "
     r"equal to 100000000"),
    ("onset_h", {"dist": "uniform", "low": -1, "high": 2},
     r"onset_h: its low value -1 is not a valid value here"),
])
def test_bad_distributions_get_one_precise_message(data: dict, field: str, spec: dict,
                                                   message: str) -> None:
    data["settlements"][0][field] = spec
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_an_uncertain_end_before_a_fixed_start_is_caught(data: dict) -> None:
    data["disruptions"][0]["window"] = {"start_h": {"dist": "uniform", "low": 1, "high": 12},
                                        "end_h": 9}
    with pytest.raises(ScenarioError, match=r"(?s)start_h: its high value 12 .*must be after"):
        parse_scenario(data)


def test_uncertain_paths_given_by_hand_must_name_numbers(data: dict) -> None:
    data["uncertain"] = {"settlements[id=nowhere].people": {"dist": "uniform", "low": 1,
                                                             "high": 2}}
    with pytest.raises(ScenarioError, match=r"no item with id 'nowhere' \(items: wulaocun"):
        parse_scenario(data)
    data["uncertain"] = {"name": {"dist": "uniform", "low": 1, "high": 2}}
    with pytest.raises(ScenarioError, match="not a number field"):
        parse_scenario(data)


def test_paths_get_and_set_by_id_index_and_type() -> None:
    doc = {"team_bases": [{"id": "b", "teams": [{"type": "fire", "count": 2}]}],
           "generators": [{"rate_per_h": 0.5}]}
    assert get_path(doc, "team_bases[id=b].teams[type=fire].count") == 2
    set_path(doc, "generators[0].rate_per_h", 0.7)
    assert doc["generators"][0]["rate_per_h"] == 0.7
    with pytest.raises(KeyError, match="index 3 beyond the 1 items"):
        get_path(doc, "generators[3].rate_per_h")


def test_draws_differ_by_replication_repeat_exactly_and_keep_whole_people(data: dict) -> None:
    scenario = parse_scenario(uncertain(data))
    first, again, other = draw(scenario, 7, 0), draw(scenario, 7, 0), draw(scenario, 7, 1)
    assert first == again and first != other
    assert not first.uncertain and first.people_scale == 1.0  # concrete
    values = drawn_values(scenario.uncertain, 7, 0)
    scale = values["people_scale"]
    assert isinstance(values["settlements[id=wulaocun].people"], int)
    assert first.settlements[0].people == max(1, round(
        values["settlements[id=wulaocun].people"] * scale))
    assert first.settlements[1].people == round(900 * scale)  # 三条巷 scaled too
    window = first.disruptions[0].window
    assert window.end_h == pytest.approx(window.start_h + window.duration_h)


def test_inputs_a_configuration_removed_are_skipped(data: dict) -> None:
    """A variant without closures or a placement without the contract depot still draws the
    other inputs, the same values."""
    scenario = parse_scenario(uncertain(data))
    without = scenario.model_copy(update={"disruptions": [], "depots": scenario.depots[:4]})
    for r in range(3):
        assert draw(without, 7, r).settlements == draw(scenario, 7, r).settlements


def test_common_random_numbers_across_placements(data: dict) -> None:
    """The draws are keyed by path, not by position: adding or removing depots before the
    contract depot leaves its draws (and every other) unchanged."""
    scenario = parse_scenario(uncertain(data))
    moved = dump_scenario(scenario)
    moved["depots"] = [moved["depots"][4], *moved["depots"][2:4]]  # two removed, reordered
    other = parse_scenario(moved)
    for r in range(5):
        assert drawn_values(other.uncertain, 7, r) == drawn_values(scenario.uncertain, 7, r)
        assert (draw(other, 7, r).depots[0].no_show_prob
                == draw(scenario, 7, r).depots[4].no_show_prob)


@pytest.mark.parametrize(("spec", "law"), [
    ({"dist": "triangular", "low": 1, "mode": 2, "high": 5}, stats.triang(0.25, loc=1, scale=4)),
    ({"dist": "uniform", "low": 2, "high": 3}, stats.uniform(2, 1)),
    ({"dist": "truncnormal", "mean": 1, "sd": 2, "low": 0, "high": 4},
     stats.truncnorm(-0.5, 1.5, loc=1, scale=2)),
    ({"dist": "lognormal", "median": 3, "sigma": 0.5, "high": 6}, None),
])
def test_each_distribution_is_drawn_right(spec: dict, law: Any) -> None:
    """3,000 replications' draws against the distribution (Kolmogorov–Smirnov, false failure
    ALPHA); the lognormal cut at ``high`` against its conditional CDF."""
    draws = np.array([drawn_values({"onset_h": spec}, 11, r)["onset_h"] for r in range(3000)])
    if spec["dist"] == "lognormal":
        full = stats.lognorm(0.5, scale=3)
        cdf = lambda x: full.cdf(x) / full.cdf(6)  # noqa: E731
        assert draws.max() <= 6
        assert stats.kstest(draws, cdf).pvalue > ALPHA
    else:
        assert stats.kstest(draws, law.cdf).pvalue > ALPHA


def test_choice_frequencies_follow_the_weights() -> None:
    spec = {"dist": "choice", "values": [1, 2, 4], "weights": [1, 2, 1]}
    draws = [drawn_values({"x": spec}, 3, r)["x"] for r in range(4000)]
    counts = [draws.count(v) for v in (1, 2, 4)]
    assert stats.chisquare(counts, [1000, 2000, 1000]).pvalue > ALPHA


# == end to end ===============================================================================


def test_run_draws_its_inputs_and_says_which(data: dict, tmp_path: Path) -> None:
    path = tmp_path / "uncertain.yaml"
    path.write_text(yaml.safe_dump(uncertain(data), allow_unicode=True), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    drawn = summary["drawn_inputs"]
    assert drawn == drawn_values(parse_scenario(uncertain(data)).uncertain, 7, 0)
    people = sum(s["people"] for s in json.loads(json.dumps(summary))["scenario_definition"][
        "settlements"])
    assert summary["resources"]["people_affected"] != people or drawn["people_scale"] == 1.0


def test_experiment_placements_see_the_same_draws(data: dict, tmp_path: Path,
                                                  nanjing_world: World) -> None:
    base = tmp_path / "uncertain.yaml"
    base.write_text(yaml.safe_dump(uncertain(data), allow_unicode=True), encoding="utf-8")
    spec = tmp_path / "exp.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "u", "base": base.name, "replications": 3, "master_seed": 5,
        "baseline": "current",
        "placements": [{"name": "current"}, {"name": "no_point", "remove": ["wulaocun_point"]}]},
        allow_unicode=True), encoding="utf-8")
    experiment, scenario = load_experiment(spec)
    configs = configurations(experiment, scenario, origin=str(spec))
    for r in range(3):
        affected = set()
        for config in configs:
            world = nanjing_world.with_scenario(config.scenario)
            result = run_replication(world, seed=experiment.master_seed, replication=r)
            affected.add(next(k for k in kpis(result.records, result_scenario(world, r))
                              if k.kpi == "initial_relief").n)
        assert len(affected) == 1  # the same people in every placement


def result_scenario(world: World, replication: int) -> Any:
    from sim.run import drawn_world

    return drawn_world(world, 5, replication).scenario


@pytest.fixture(scope="module")
def nanjing_world(tmp_path_factory: pytest.TempPathFactory, nanjing_scenario: Any) -> World:
    from sim.world import build_world

    return build_world(nanjing_scenario, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("spec", [
    {"dist": "triangular", "low": 1, "mode": 1, "high": 5},
    {"dist": "uniform", "low": -2, "high": 3},
    {"dist": "truncnormal", "mean": 10, "sd": 5, "low": 0, "high": 4},
    {"dist": "lognormal", "median": 3, "sigma": 2, "low": 1, "high": 4},
    {"dist": "choice", "values": [2, 7, 11], "weights": [0, 1, 1]},
])
def test_draws_stay_in_bounds(spec: dict) -> None:
    """Even where most of the mass lies outside the bounds (a normal centred above its
    range, a wide lognormal), every draw is inside; a zero-weight choice is never drawn."""
    draws = np.array([drawn_values({"x": spec}, 5, r)["x"] for r in range(2000)])
    if spec["dist"] == "choice":
        assert set(draws) <= {7, 11} and set(draws) == {7, 11}
    else:
        assert draws.min() >= spec["low"] and draws.max() <= spec["high"]
        assert draws.max() - draws.min() > 0.5 * (spec["high"] - spec["low"])
