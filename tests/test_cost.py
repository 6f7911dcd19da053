"""Cost of options and the Pareto front (issue #17, part 6)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.cost import pareto_front, scenario_cost
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=8),
       st.booleans())
def test_the_front_is_exactly_the_non_dominated_options(points: list, higher: bool) -> None:
    costs, values = [float(c) for c, _ in points], [float(v) for _, v in points]
    front = pareto_front(costs, values, higher_is_better=higher)

    def better(a: float, b: float) -> bool:
        return a > b if higher else a < b

    for i, (c, v) in enumerate(zip(costs, values, strict=True)):
        dominated = any(cj <= c and (vj == v or better(vj, v)) and (cj < c or better(vj, v))
                        for j, (cj, vj) in enumerate(zip(costs, values, strict=True)) if j != i)
        assert front[i] == (not dominated)
    assert any(front)  # someone is always on the front


def test_cost_over_the_planning_period_by_hand() -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["depots"][0]["cost"] = {"build_wan": 50, "annual_wan": 5, "holding_wan": 2}
    data["depots"][1]["cost"] = {"annual_wan": 1.5}
    scenario = parse_scenario(data)
    assert scenario_cost(scenario, 10) == pytest.approx(50 + 10 * 7 + 10 * 1.5)
    data["depots"][1]["cost"] = {"build_wan": -1}
    with pytest.raises(Exception, match=r"depots\[1\]\.cost\.build_wan"):
        parse_scenario(data)


def test_compare_reports_cost_per_gain_and_the_front(tmp_path: Path) -> None:
    """A free copy of the current layout, an expensive useless extra point, and a cheap
    central warehouse: the front holds the cheapest of equals and the better one."""
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    far = {"id": "useless", "tier": "county", "location": [24.9515, 60.1787],
           "stock": {"kit": 1}, "trucks": {"count": 0}, "cost": {"build_wan": 500}}
    central = {"id": "central", "tier": "county", "location": [24.9409, 60.1687],
               "stock": {"kit": 3000, "quilt": 2500, "tent": 600},
               "trucks": {"count": 3, "capacity_kg": 6000},
               "cost": {"build_wan": 80, "annual_wan": 4, "holding_wan": 2}}
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "name": "c", "base": "base.yaml", "replications": 3, "master_seed": 4,
        "cost_years": 5, "placements": [{"name": "current"}, {"name": "useless", "add": [far]},
                                        {"name": "central", "add": [central]}]},
        allow_unicode=True), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "exp.yaml"), "--out",
                                      str(out)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    summary = pd.read_parquet(out / "summary.parquet")
    rows = summary[summary.kpi == "initial_relief"].set_index("placement")
    assert rows.cost_wan.to_dict() == {"current": 0.0, "useless": 500.0,
                                       "central": 80 + 5 * 6}
    assert not rows.loc["useless", "pareto"] and rows.loc["current", "pareto"]
    gain = rows.loc["central", "diff_mean"] * 100
    if gain > 0:
        assert rows.loc["central", "cost_per_gain_wan"] == pytest.approx(110 / gain)
        assert rows.loc["central", "pareto"]
    assert "帕累托前沿" in result.output
    figures = CliRunner().invoke(app, ["figures", str(out), "--out", str(tmp_path / "f"),
                                       "--format", "png"])
    assert figures.exit_code == 0 and (tmp_path / "f" / "pareto.png").exists()
