"""Factors in experiments (grid, Latin hypercube) and global sensitivity (issue #17, parts 3
and 4): a synthetic case where one factor dominates and one cannot matter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.experiment import Experiment, configurations, design_points, load_experiment
from sim.scenario import parse_scenario
from sim.sensitivity import sensitivity

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = "people_scale"
MOBILISE = "team_bases[id=kamppi_ems].teams[type=medical].mobilisation_h"
"""Rescue teams' mobilisation: relief does not use them, so it cannot move relief."""


@pytest.fixture(scope="module")
def base() -> Any:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    return parse_scenario(data)


def experiment(factors: list[dict], **extra: Any) -> Experiment:
    return Experiment.model_validate({
        "name": "factors", "base": "<memory>", "replications": 2, "master_seed": 9,
        "placements": [{"name": "current"}], "factors": factors, **extra})


def test_a_full_factorial_grid_and_a_latin_hypercube(base: Any) -> None:
    grid = experiment([{"path": PEOPLE, "values": [0.5, 1, 2]},
                       {"path": "depots[id=hakaniemi_city].trucks.count", "values": [1, 5]}])
    points = design_points(grid)
    assert len(points) == 6 and {p[PEOPLE] for p in points} == {0.5, 1, 2}
    configs = configurations(grid, base)
    assert len(configs) == 6
    trucks = sorted(next(d for d in c.scenario.depots if d.id == "hakaniemi_city").trucks.count
                    for c in configs)
    assert trucks == [1, 1, 1, 5, 5, 5]
    lhs = experiment([{"path": PEOPLE, "low": 0.5, "high": 2.0},
                      {"path": "depots[id=hakaniemi_city].trucks.count", "low": 1, "high": 6}],
                     design="lhs", samples=10)
    values = pd.DataFrame(design_points(lhs))
    # one point in each tenth of each range (Latin hypercube)
    assert sorted(((values[PEOPLE] - 0.5) / 1.5 * 10).astype(int)) == list(range(10))
    counts = [next(d for d in c.scenario.depots if d.id == "hakaniemi_city").trucks.count
              for c in configurations(lhs, base)]
    assert all(isinstance(n, int) and 1 <= n <= 6 for n in counts)  # rounded whole trucks


def test_bad_factors_get_one_precise_message(base: Any) -> None:
    with pytest.raises(ScenarioError, match=r"factors\[0\]\.path: .*no item with id 'nope'"):
        configurations(experiment([{"path": "depots[id=nope].trucks.count",
                                    "values": [1]}]), base)
    with pytest.raises(ScenarioError, match=r"factors\[0\]\.path: name — not a number"):
        configurations(experiment([{"path": "name", "values": [1]}]), base)
    with pytest.raises(ValueError, match=r"give values .* or low and high"):
        experiment([{"path": PEOPLE}])
    with pytest.raises(ScenarioError, match="a range low–high is needed"):
        sensitivity(experiment([{"path": PEOPLE, "values": [1, 2]}]), base)


@pytest.mark.parametrize(("method", "main"), [("morris", "mu_star"), ("sobol", "ST")])
def test_sensitivity_ranks_the_dominant_factor_first(base: Any, tmp_path: Path, method: str,
                                                     main: str) -> None:
    """People scaled 0.5–3× decide whether relief is in time; the medical teams'
    mobilisation cannot touch relief: its index is exactly 0, the people's clearly above."""
    spec = experiment([{"path": PEOPLE, "name": "people", "low": 0.5, "high": 3.0},
                       {"path": MOBILISE, "name": "mobilise", "low": 0.05, "high": 1.0}])
    result = sensitivity(spec, base, method=method, samples=4, replications=1,
                         cache_dir=tmp_path)
    rows = result.indices[(result.indices.kpi == "initial_relief")
                          & (result.indices["index"] == main)].set_index("factor")
    assert rows.loc["mobilise", "value"] == pytest.approx(0.0, abs=1e-12)
    assert rows.loc["people", "value"] > rows.loc["people", "conf"] > 0
    share = result.sample["initial_relief_share_within"]
    assert share.max() > share.min()  # the people factor moves it
    points = 4 * 3 if method == "morris" else 4 * 4
    assert len(result.sample) == points


def test_sensitivity_command_writes_indices_and_figures(base: Any, tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "name": "s", "base": "base.yaml", "replications": 1, "master_seed": 2,
        "placements": [{"name": "current"}],
        "factors": [{"path": PEOPLE, "name": "受灾人口倍数", "low": 0.5, "high": 3},
                    {"path": MOBILISE, "name": "医疗队出动时间", "low": 0.05, "high": 1}]},
        allow_unicode=True), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sensitivity", str(tmp_path / "exp.yaml"), "--samples",
                                      "3", "--replications", "1", "--out", str(out)],
                                env={"COLUMNS": "150"})
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["index"]) == {"mu_star", "sigma"} and "受灾人口倍数" in set(table.factor)
    assert (out / "sensitivity_initial_relief.png").stat().st_size > 10_000
    assert (out / "sensitivity_initial_relief.svg").exists()
    assert "受灾人口倍数" in result.output
    experiment_spec, _ = load_experiment(tmp_path / "exp.yaml")
    assert len(pd.read_csv(out / "sample.csv")) == 3 * (len(experiment_spec.factors) + 1)
    bad = CliRunner().invoke(app, ["sensitivity", str(tmp_path / "exp.yaml"), "--method",
                                   "fast", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "expected one of ['morris', 'sobol']" in bad.output
