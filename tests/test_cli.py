"""The command line as a user runs it: exit codes, messages, files written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "helsinki_storm.yaml"
runner = CliRunner()


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.getbasetemp() / "cli-cache")


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_on_every_command() -> None:
    for args in ([], ["validate"], ["run"], ["compare"], ["optimize"], ["figures"], ["report"],
                 ["gis"], ["validate-model"], ["network"], ["network", "info"],
                 ["network", "fetch"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_validate_default_scenario(cache: str) -> None:
    result = invoke("validate", str(DEFAULT), "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_validate_broken_scenario_exits_2_with_one_message(tmp_path: Path, cache: str) -> None:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["depots"][2]["stock"]["kit"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("validate", str(bad), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "depots[2].stock.kit: -5" in result.output
    assert "Traceback" not in result.output


def test_site_outside_the_network_area(tmp_path: Path, cache: str) -> None:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["settlements"][1]["location"] = [25.5, 60.3]
    bad = tmp_path / "far.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("validate", str(bad), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "settlements[1].location: [25.5, 60.3] — outside the network's area" in result.output


def test_missing_network_file(tmp_path: Path, cache: str) -> None:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["network"]["source"] = "nowhere.osm"
    bad = tmp_path / "nonet.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("validate", str(bad), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "nowhere.osm" in result.output


def test_network_info_on_the_nanjing_extract(shared_data: Path, cache: str) -> None:
    result = invoke("network", "info", str(shared_data / "osm" / "nanjing_xuanwu.osm"),
                    "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    assert "322" in result.output  # nodes of the largest strongly connected component
    assert "dropped" in result.output and "residential" in result.output


def test_network_info_on_a_scenario_lists_sites(cache: str) -> None:
    result = invoke("network", "info", str(DEFAULT), "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    assert "hakaniemi_city" in result.output


def test_run_writes_tables_summary_and_prints_targets(tmp_path: Path, cache: str) -> None:
    out = tmp_path / "run"
    result = invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache, "--seed", "5")
    assert result.exit_code == 0, result.output
    kpis = ("initial_relief", "effective_relief", "inland_river_arrival", "sea_arrival",
            "fires_out_24h")
    for kpi in kpis:  # the table folds long ids at 80 columns
        assert kpi[:12] in result.output.replace("│", "").replace(" ", "")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [k["kpi"] for k in summary["kpis"]][:5] == list(kpis)
    assert summary["seed"] == 5 and len(summary["scenario_hash"]) == 16
    assert summary["versions"]["simpy"] and summary["versions"]["reliefsim"]
    # the printed verdicts are the summary's, in order (n/a where nothing was measured)
    verdicts = [m for m in re.findall(r"PASS|FAIL|n/a", result.output)]
    assert verdicts == [{True: "PASS", False: "FAIL", None: "n/a"}[k["passed"]]
                        for k in summary["kpis"]]
    # the written tables are the records of the same replication run in-process
    from sim.run import run_replication
    from sim.scenario import load_scenario
    from sim.world import build_world

    same = run_replication(build_world(load_scenario(DEFAULT), cache_dir=Path(cache)), seed=5)
    expected = {**same.records.tables(), "relief": same.relief}
    for table in ("deliveries", "incidents", "ledger", "relief"):
        frame = pd.read_parquet(out / f"{table}.parquet")
        pd.testing.assert_frame_equal(frame, expected[table].reset_index(drop=True),
                                      check_dtype=False)
        assert len(frame) == len(pd.read_csv(out / f"{table}.csv", encoding="utf-8-sig"))
    relief = pd.read_parquet(out / "relief.parquet")
    assert relief.people.sum() == sum(
        s["people"] for s in yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))["settlements"])
    again = tmp_path / "again"
    invoke("run", str(DEFAULT), "--out", str(again), "--cache-dir", cache, "--seed", "5")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "deliveries.parquet"),
                                  pd.read_parquet(again / "deliveries.parquet"))


def test_run_rejects_an_unknown_policy(cache: str) -> None:
    result = invoke("run", str(DEFAULT), "--policy", "random", "--cache-dir", cache)
    assert result.exit_code == 2
    assert "expected one of ['fcfs', 'nearest_idle', 'plan']" in result.output


def test_kaiping_offline_says_so_and_how_to_use_a_local_extract(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import osmnx as ox

    def offline(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    result = invoke("validate", str(ROOT / "scenarios" / "kaiping_typhoon.yaml"),
                    "--cache-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "开平市" in result.output and "no internet" in result.output
    assert ".osm.pbf" in result.output
    assert "Traceback" not in result.output


def test_validate_model_quick_prints_every_check_and_passes(cache: str) -> None:
    result = invoke("validate-model", "--quick", "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    assert "checks passed" in result.output and "FAIL" not in result.output


def test_figures_on_a_missing_directory_exits_2(tmp_path: Path) -> None:
    result = invoke("figures", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "results directory not found" in result.output


def test_kaiping_compare_offline_writes_nothing(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    import osmnx as ox

    def offline(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    out = tmp_path / "out"
    result = invoke("compare", str(ROOT / "experiments" / "kaiping_warehouse_sites.yaml"),
                    "--out", str(out), "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 2 and "no internet" in result.output
    assert not out.exists()
