"""Hazard variants with return periods, inputs set by path, and honest rankings (issue #17,
parts 2, 3 and 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from sim.batch import load_results, run_experiment
from sim.cli import app
from sim.compare import EXPECTED, summarise
from sim.errors import ScenarioError
from sim.experiment import Experiment, Variant, aep_weights, configurations, replication_values
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base() -> Any:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    data["handout"] = {"people_per_h_per_point": None}
    return parse_scenario(data)


def experiment(**extra: Any) -> Experiment:
    return Experiment.model_validate({
        "name": "hazards", "base": "<memory>", "replications": 4, "master_seed": 3,
        "chunk_size": 2, "placements": [{"name": "current"},
                                        {"name": "fewer", "remove": ["kluuvi_point"]}],
        **extra})


def test_weights_from_annual_exceedance_by_hand() -> None:
    """10-, 50- and 100-year events (0.1, 0.02, 0.01): given at least a 10-year event, it is
    one of 10–50 years with (0.1 − 0.02) / 0.1 = 0.8, 50–100 with 0.1, ≥ 100 with 0.1."""
    variants = [Variant(name=n, annual_exceedance=p)
                for n, p in (("h50", 0.02), ("h10", 0.1), ("h100", 0.01))]
    assert aep_weights(variants) == pytest.approx({"h10": 0.8, "h50": 0.1, "h100": 0.1})
    assert aep_weights([Variant(name="a")]) == {}
    with pytest.raises(ValueError, match="some variants only"):
        experiment(variants=[{"name": "a", "annual_exceedance": 0.1}, {"name": "b"}])
    with pytest.raises(ValueError, match="must differ"):
        experiment(variants=[{"name": "a", "annual_exceedance": 0.1},
                             {"name": "b", "annual_exceedance": 0.1}])


def test_variants_set_inputs_by_path(base: Any) -> None:
    spec = experiment(variants=[
        {"name": "big", "set": {
            "settlements[id=keskusta].people": 5000,
            "depots[id=hakaniemi_city].trucks.count": 7,
            "people_scale": {"dist": "uniform", "low": 1.1, "high": 1.4}}}])
    (config, _) = configurations(spec, base)
    s = config.scenario
    assert next(x for x in s.settlements if x.id == "keskusta").people == 5000
    assert next(d for d in s.depots if d.id == "hakaniemi_city").trucks.count == 7
    assert s.people_scale == pytest.approx(1.25) and "people_scale" in s.uncertain
    bad = experiment(variants=[{"name": "typo", "set": {"settlements[id=nowhere].people": 1}}])
    with pytest.raises(ScenarioError, match=r"variants\[0\]\.set: .*no item with id 'nowhere'"):
        configurations(bad, base)
    out_of_range = experiment(variants=[{"name": "x", "set": {
        "settlements[id=keskusta].people": {"dist": "uniform", "low": 1, "high": 2e9}}}])
    with pytest.raises(ScenarioError, match="its high value 2e\\+09 is not a valid value"):
        configurations(out_of_range, base)


@pytest.fixture(scope="module")
def hazard_run(tmp_path_factory: pytest.TempPathFactory, base: Any) -> tuple[Any, dict]:
    spec = experiment(variants=[
        {"name": "h20", "annual_exceedance": 0.05, "set": {"people_scale": 0.8}},
        {"name": "h100", "annual_exceedance": 0.01, "set": {"people_scale": 1.6}}])
    out = tmp_path_factory.mktemp("hazards") / "out"
    run = run_experiment(spec, base, out, cache_dir=tmp_path_factory.mktemp("cache"))
    return run, load_results(out, run.replications)


def test_expected_rows_weight_each_replication_over_the_hazards(hazard_run: tuple) -> None:
    """The 'expected' row of a placement is, replication by replication, 0.8 × its 20-year
    value + 0.2 × its 100-year value; its share, mean and difference follow from those."""
    run, tables = hazard_run
    summary = summarise(run, tables)
    kpis = tables["kpis"]
    values = replication_values(kpis, run.experiment).pivot(index="replication",
                                                             columns="config", values="value")
    share = kpis[kpis.kpi == "initial_relief"].pivot(index="replication", columns="config",
                                                     values="share_within")
    for placement in ("current", "fewer"):
        row = summary[(summary.kpi == "initial_relief") & (summary.placement == placement)
                      & (summary.variant == EXPECTED)].iloc[0]
        mixed = (0.8 * share[f"{placement}__plan__h20"] + 0.2 * share[f"{placement}__plan__h100"])
        assert row.share_within == pytest.approx(mixed.mean())
    row = summary[(summary.kpi == "initial_relief") & (summary.placement == "fewer")
                  & (summary.variant == EXPECTED)].iloc[0]
    diff = (0.8 * (values["fewer__plan__h20"] - values["current__plan__h20"])
            + 0.2 * (values["fewer__plan__h100"] - values["current__plan__h100"]))
    assert row.diff_mean == pytest.approx(diff.mean())
    expected = summary[(summary.kpi == "initial_relief") & (summary.variant == EXPECTED)]
    assert expected.p_best.sum() == pytest.approx(1.0)


def test_options_that_cannot_be_told_apart_are_reported_as_such(
        tmp_path: Path, base: Any) -> None:
    """Two identical placements are indistinguishable (both ≈ best, no order by input); a
    placement without any depot is not."""
    spec = Experiment.model_validate({
        "name": "ties", "base": "<memory>", "replications": 4, "master_seed": 3,
        "chunk_size": 2, "placements": [
            {"name": "current"}, {"name": "same_again"},
            {"name": "none", "remove": [d.id for d in base.depots]}]})
    run = run_experiment(spec, base, tmp_path / "out", cache_dir=tmp_path / "cache")
    summary = summarise(run, load_results(tmp_path / "out", run.replications))
    chosen = summary[summary.kpi == "initial_relief"].set_index("placement")
    assert chosen.same_as_best.to_dict() == {"current": True, "same_again": True,
                                             "none": False}
    assert chosen.loc["current", "p_best"] == pytest.approx(chosen.loc["same_again", "p_best"])


def test_compare_prints_hazards_and_ties(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "name": "cli", "base": "base.yaml", "replications": 2, "master_seed": 1,
        "placements": [{"name": "current"}, {"name": "twin"}],
        "variants": [{"name": "常遇", "annual_exceedance": 0.1},
                     {"name": "罕遇", "annual_exceedance": 0.01, "set": {"people_scale": 2}}]},
        allow_unicode=True), "utf-8")
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "exp.yaml"), "--out",
                                      str(tmp_path / "out"), "--lang", "en"],
                                     env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Variant: expected (weighted by annual exceedance)" in result.output
    assert "indistinguishable (paired differences not significant): current, twin" in (
        result.output.replace("\n", " "))


def test_shipped_nanjing_experiment_has_hazards_and_uncertain_inputs() -> None:
    from sim.experiment import load_experiment

    spec, scenario = load_experiment(ROOT / "experiments" / "nanjing_street_points.yaml")
    assert len(spec.variants) >= 2 and aep_weights(spec.variants)
    for config in configurations(spec, scenario):
        uncertain = set(config.scenario.uncertain)
        assert "people_scale" in uncertain
        assert any(p.endswith("window.duration_h") for p in uncertain)
