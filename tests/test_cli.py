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
NANJING = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"
runner = CliRunner()
WIDE = {"COLUMNS": "250"}
"""Wide enough that no table folds a name across lines."""
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+")


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.getbasetemp() / "cli-cache")


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False, env=env)


def scenario_ids(scenario: object) -> set[str]:
    """Every id a scenario gives: settlements, depots, commodities, incident types,
    disruptions."""
    return {x.id for field in ("settlements", "depots", "commodities", "incident_types",
                               "disruptions") for x in getattr(scenario, field)}


def ids_in(text: str, ids: set[str]) -> list[str]:
    """The ids that occur in ``text`` as whole words."""
    return sorted(i for i in ids
                  if re.search(rf"(?<![A-Za-z0-9_]){re.escape(i)}(?![A-Za-z0-9_])", text))


def scenario_texts(scenario: object) -> str:
    """Every string a scenario holds (names, areas, descriptions), one per line."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(scenario.model_dump())  # type: ignore[attr-defined]
    return "\n".join(found)


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
    assert "通过" in result.output and "服务范围" in result.output
    result = invoke("validate", str(DEFAULT), "--cache-dir", cache, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "Service areas" in result.output


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
                    "--cache-dir", cache, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "322" in result.output  # nodes of the largest strongly connected component
    assert "dropped" in result.output and "residential" in result.output


def test_network_info_on_a_scenario_lists_sites(cache: str) -> None:
    result = invoke("network", "info", str(DEFAULT), "--cache-dir", cache, env=WIDE)
    assert result.exit_code == 0, result.output
    assert "市级应急物资储备库" in result.stdout  # hakaniemi_city, by its name
    assert "hakaniemi_city" not in result.stdout and "道路网络" in result.stdout


def test_run_writes_tables_summary_and_prints_targets(tmp_path: Path, cache: str) -> None:
    from sim.glossary import kpi_label

    out = tmp_path / "run"
    result = invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache, "--seed", "5",
                    "--lang", "en", env=WIDE)
    assert result.exit_code == 0, result.output
    kpis = ("initial_relief", "effective_relief", "inland_river_arrival", "sea_arrival",
            "fires_out_24h")
    for kpi in kpis:  # by name, never by id
        assert kpi_label(kpi, "en") in result.stdout and kpi not in result.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [k["kpi"] for k in summary["kpis"]][:5] == list(kpis)
    assert summary["seed"] == 5 and len(summary["scenario_hash"]) == 16
    assert summary["versions"]["simpy"] and summary["versions"]["reliefsim"]
    # the printed verdicts are the summary's, in order (none where nothing was measured)
    table, _, circle = result.stdout.partition("share of people within")
    verdicts = [m for m in re.findall(r"PASS|FAIL|no such incidents", table)]
    assert verdicts == [{True: "PASS", False: "FAIL", None: "no such incidents"}[k["passed"]]
                        for k in summary["kpis"]]
    assert ("PASS" if summary["life_circle"]["passed"] else "FAIL") in circle
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
    result = invoke("validate-model", "--quick", "--cache-dir", cache, "--lang", "en")
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


# -- the plans' terms, one language at a time, names never ids (issue #18) --------------------


def test_run_in_chinese_says_what_the_plans_say_by_name(tmp_path: Path, cache: str) -> None:
    from sim.scenario import load_scenario

    result = invoke("run", str(NANJING), "--out", str(tmp_path / "run"), "--cache-dir", cache,
                    env=WIDE)  # --lang zh is the default
    assert result.exit_code == 0, result.output
    text = result.stdout  # the tables and summary lines (warnings go to stderr)
    for term in ("受灾群众基本生活初步救助时间", "8小时内得到初步救助的人口比例", "小时",
                 "达标率", "未达标", "无此类事件", "村（社区）级储备点", "未达标原因",
                 "交通中断路段", "汉中门"):
        assert term in text, term
    assert re.search(r"\d+\.\d%", text)  # shares as percentages
    assert ids_in(text, scenario_ids(load_scenario(NANJING))) == []
    assert ids_in(text, {"initial_relief", "effective_relief", "inf", "nan", "plan"}) == []
    assert "∞" not in text and not re.search(r"\d h\b", text)  # 小时, never h
    # every table heading is Chinese: no English word outside the scenario's own texts
    english = set(re.findall(r"[A-Za-z]{3,}", text)) - set(re.findall(
        r"[A-Za-z]{3,}", scenario_texts(load_scenario(NANJING))))
    assert english <= {"tmp", "pytest", "run", "root", "test"} | set(
        re.findall(r"[A-Za-z]{3,}", str(tmp_path))), english


def test_run_in_english_has_chinese_only_inside_scenario_names(tmp_path: Path,
                                                               cache: str) -> None:
    from sim.scenario import load_scenario

    result = invoke("run", str(NANJING), "--out", str(tmp_path / "run"), "--cache-dir", cache,
                    "--lang", "en", env=WIDE)
    assert result.exit_code == 0, result.output
    text = result.stdout
    for term in ("time to initial basic-living relief",
                 "share of people with initial relief within 8 h", "FAIL", "Why targets fail",
                 "village/community point", "closed roads"):
        assert term in text, term
    names = scenario_texts(load_scenario(NANJING))
    assert [run for run in CJK.findall(text) if run not in names] == []
    # (the incident type 'sea' is also the English word of "on-scene arrival, sea …")
    assert ids_in(text, scenario_ids(load_scenario(NANJING)) - {"sea"}) == []


def test_compare_prints_one_block_per_variant_by_name(tmp_path: Path, cache: str) -> None:
    from sim.scenario import load_scenario

    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["horizon_h"] = 24
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    central = {"id": "central_wh", "name": "中心综合仓库", "tier": "county",
               "location": [24.9409, 60.1687], "stock": {"kit": 3000, "quilt": 2500, "tent": 600},
               "trucks": {"count": 3, "capacity_kg": 6000},
               "cost": {"build_wan": 80, "annual_wan": 4, "holding_wan": 2}}
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "name": "小试验", "base": "scenario.yaml", "replications": 2, "master_seed": 1,
        "placements": [{"name": "现状布局"}, {"name": "新建中心仓库", "add": [central]}],
        "variants": [{"name": "常遇", "annual_exceedance": 0.1},
                     {"name": "罕遇", "annual_exceedance": 0.01, "set": {"people_scale": 2}}]},
        allow_unicode=True), "utf-8")
    result = invoke("compare", str(tmp_path / "exp.yaml"), "--out", str(tmp_path / "out"),
                    "--cache-dir", cache, env=WIDE)
    assert result.exit_code == 0, result.output
    text = result.stdout
    variants = ("常遇", "罕遇", "按年超越概率加权的期望值")
    for variant in variants:  # one table and one verdict per variant, never one ranking
        assert text.count(f"情景：{variant} — 8小时内得到初步救助的人口比例") == 1, variant
        assert text.count(f"受灾群众基本生活初步救助时间最优方案（{variant}）") == 1, variant
        assert f"帕累托前沿（{variant}，" in text
    assert text.count("┏") == len(variants) + 1  # and the overview of every target
    for term in ("为最优方案的概率", "费用（万元）", "新建中心仓库", "现状布局",
                 "≈ 与最优无显著差异"):
        assert term in text, term
    ids = scenario_ids(load_scenario(DEFAULT)) | {"central_wh", "base", "expected",
                                                  "initial_relief", "plan"}
    assert ids_in(text, ids) == []
    english = invoke("compare", str(tmp_path / "exp.yaml"), "--out", str(tmp_path / "out"),
                     "--resume", "--cache-dir", cache, "--lang", "en", env=WIDE)
    assert english.exit_code == 0, english.output
    assert "Variant: expected (weighted by annual exceedance)" in english.stdout
    assert "P(best)" in english.stdout and "为最优方案的概率" not in english.stdout


def test_a_bad_language_is_one_clear_error(tmp_path: Path) -> None:
    for args in (["run", str(DEFAULT)], ["compare", str(DEFAULT)], ["validate", str(DEFAULT)],
                 ["figures", str(tmp_path)]):
        result = invoke(*args, "--lang", "fr")
        assert result.exit_code == 2, args
        assert result.output == "error: --lang: 'fr' — expected one of ['en', 'zh']\n", args


def test_run_prints_shelters_and_the_life_circle_by_name(tmp_path: Path) -> None:
    """An evacuation run prints each shelter's capacity, people assigned and peak, the totals
    and the 15-minute circle's shares — by name, in Chinese."""
    from sim.scenario import load_scenario

    path = ROOT / "scenarios" / "nanjing_evacuation.yaml"
    result = invoke("run", str(path), "--out", str(tmp_path / "run"),
                    "--cache-dir", str(tmp_path / "cache"), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text("utf-8"))
    scenario = load_scenario(path)
    for row in summary["evacuation"]["shelters"]:
        name = next(s.name for s in scenario.shelters if s.id == row["shelter"])
        line = next(x for x in out.splitlines() if name in x)
        assert f"{row['capacity']:,}" in line and f"{row['peak']:,}" in line
        assert row["shelter"] not in out
    assert f"已入住避难场所人数：{summary['evacuation']['people_sheltered']:,}" in out
    share = summary["life_circle"]["stockpile_share"]
    assert f"15分钟内可步行到达储备点的人口比例：{share:.1%}" in out.replace("\n", "")
