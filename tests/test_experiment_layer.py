"""The experiment layer as a planner sees it: common random numbers for every stream when
placements change the depots, resume that simulates only what is missing, and rankings, P(best)
and paired differences that point the right way for both directions of the statistic."""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim.batch
from sim.batch import ExperimentRun, load_results, run_experiment
from sim.compare import summarise
from sim.experiment import Experiment, replication_values
from sim.model.records import Records
from sim.scenario import Scenario, parse_scenario, scenario_hash

ROOT = Path(__file__).resolve().parents[1]
SEED = 11
TOWN_AND_COUNTY = ["kaartinkaupunki_point", "kluuvi_point", "makasiinit_county"]
ALL_DEPOTS = [*TOWN_AND_COUNTY, "hakaniemi_city", "narinkka_supplier"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("experiment-layer-cache")


@pytest.fixture(scope="module")
def default_data() -> dict:
    data = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    data["horizon_h"] = 24
    return data


def experiment(placements: list[dict], *, replications: int, chunk_size: int = 2,
               **extra: object) -> Experiment:
    return Experiment.model_validate({
        "name": "layer", "base": "<memory>", "replications": replications,
        "master_seed": SEED, "chunk_size": chunk_size, "baseline": placements[0]["name"],
        "placements": placements, **extra})


class Spy:
    """Wraps ``sim.batch.run_replication`` (workers=1 runs in this process): which
    configuration and replication was simulated, and its records."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int]] = []  # (scenario hash, replication)
        self.records: dict[tuple[str, int], Records] = {}
        real = sim.batch.run_replication

        def spy(world, *, seed, replication):  # type: ignore[no-untyped-def]
            assert seed == SEED  # every configuration runs on the master seed
            result = real(world, seed=seed, replication=replication)
            key = (scenario_hash(world.scenario), replication)
            self.calls.append(key)
            self.records[key] = result.records
            return result

        monkeypatch.setattr(sim.batch, "run_replication", spy)

    def by_config(self, run: ExperimentRun) -> dict[str, dict[int, Records]]:
        ids = {scenario_hash(c.scenario): c.id for c in run.configs}
        out: dict[str, dict[int, Records]] = defaultdict(dict)
        for (digest, r), records in self.records.items():
            out[ids[digest]][r] = records
        return out


# -- (a) common random numbers for every stream -----------------------------------------------


def crn_base(default_data: dict) -> Scenario:
    """The default with two unreliable contract depots — one listed first, one last — and a
    closure of a random half of the roads near the centre (so all four streams draw)."""
    data = copy.deepcopy(default_data)
    data["depots"].insert(0, {
        "id": "early_supplier", "tier": "enterprise", "kind": "contract",
        "location": [24.9440, 60.1700], "stock": {"kit": 400}, "activation_delay_h": 2,
        "no_show_prob": 0.5, "trucks": {"count": 1, "capacity_kg": 3000}})
    data["depots"][-1]["no_show_prob"] = 0.5  # narinkka_supplier
    data["disruptions"].append({"id": "random_blockages", "window": {"start_h": 1, "end_h": 6},
                                "near": [24.945, 60.170], "radius_m": 400, "share": 0.5})
    return parse_scenario(data)


CRN_PLACEMENTS = [
    {"name": "current"},
    {"name": "added", "add": [
        {"id": "pop_up", "tier": "enterprise", "kind": "contract", "location": [24.9400, 60.1660],
         "stock": {"kit": 300}, "activation_delay_h": 1, "no_show_prob": 0.5},
        {"id": "central", "tier": "county", "location": [24.9409, 60.1687],
         "stock": {"kit": 3000, "quilt": 2500, "tent": 600}}]},
    # removing the first-listed depots shifts the index (and draw order) of all the others
    {"name": "removed", "remove": ["early_supplier", "kaartinkaupunki_point"]},
    {"name": "moved", "move": {"narinkka_supplier": [24.9409, 60.1687],
                               "hakaniemi_city": [24.9473, 60.1708]}},
]


def activated(records: Records) -> dict[str, bool]:
    """Contract depots that showed up (their activation delay is well inside the horizon)."""
    return {row.depot: bool(row.activated) for row in records.ledger
            if row.commodity == "kit" and row.depot in {
                "early_supplier", "narinkka_supplier", "pop_up"}}


def test_every_random_stream_is_common_across_added_removed_and_moved_depots(
        tmp_path: Path, cache_dir: Path, default_data: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    reps = 8
    spy = Spy(monkeypatch)
    run = run_experiment(experiment(CRN_PLACEMENTS, replications=reps, chunk_size=4),
                         crn_base(default_data), tmp_path / "out", cache_dir=cache_dir)
    got = spy.by_config(run)
    assert sorted(got) == sorted(c.id for c in run.configs) and len(got) == 4
    base_id = "current__plan__base"
    shows = {r: activated(got[base_id][r]) for r in range(reps)}

    for cid, per_rep in got.items():
        assert sorted(per_rep) == list(range(reps))
        for r, records in per_rep.items():
            base = got[base_id][r]
            # incident stream (ids, types, places, call times) and the rescue that follows
            # depends on no depot: the whole table is the same …
            pd.testing.assert_frame_equal(records.table("incidents"), base.table("incidents"),
                                          obj=f"{cid} r{r} incidents")
            # … including the work-time draws (work starts on scene, fires are computed)
            mine, theirs = records.table("incidents"), base.table("incidents")
            work = mine.type != "forest_fire"
            np.testing.assert_array_equal((mine.done_h - mine.on_scene_h)[work],
                                          (theirs.done_h - theirs.on_scene_h)[work])
            # the random share of closed roads is drawn per disruption id
            pd.testing.assert_frame_equal(records.table("closures"), base.table("closures"),
                                          obj=f"{cid} r{r} closures")
            # a contract depot kept by the placement shows up (or not) exactly as in the base
            mine_shows = activated(records)
            for depot in mine_shows.keys() & shows[r].keys():
                assert mine_shows[depot] == shows[r][depot], (cid, r, depot)

    # The draws above must vary, or equality would prove nothing.
    for depot in ("early_supplier", "narinkka_supplier"):
        assert {shows[r][depot] for r in range(reps)} == {True, False}, depot
    pop_up = {activated(got["added__plan__base"][r])["pop_up"] for r in range(reps)}
    assert pop_up == {True, False}
    # independent streams per contract depot, not one shared draw
    assert [shows[r]["early_supplier"] for r in range(reps)] != [
        shows[r]["narinkka_supplier"] for r in range(reps)]
    blocked = {got[base_id][r].table("closures").set_index("disruption").edges[
        "random_blockages"] for r in range(reps)}
    assert len(blocked) > 1
    calls = {tuple(got[base_id][r].table("incidents").call_h) for r in range(reps)}
    assert len(calls) == reps

    # and the stored results carry the same incident stream for every configuration
    incidents = load_results(run.out)["incidents"]
    stored = {cid: g.drop(columns="config").reset_index(drop=True)
              for cid, g in incidents.groupby("config")}
    assert len(stored) == 4 and len(stored[base_id]) > reps
    for cid, table in stored.items():
        pd.testing.assert_frame_equal(table, stored[base_id], obj=cid)


# -- (b) resume simulates only the missing chunks ---------------------------------------------


def test_resume_simulates_exactly_the_missing_chunks(
        tmp_path: Path, cache_dir: Path, default_data: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    placements = [{"name": "current"}, {"name": "fewer", "remove": ["kluuvi_point"]}]
    spec = experiment(placements, replications=6, chunk_size=2)
    base = parse_scenario(default_data)
    out = tmp_path / "out"
    spy = Spy(monkeypatch)
    first = run_experiment(spec, base, out, cache_dir=cache_dir)
    assert first.timings["replications_simulated"] == 12 and len(spy.calls) == 12
    reference = load_results(out)
    hashes = {c.id: scenario_hash(c.scenario) for c in first.configs}

    chunks = out / "chunks"
    # a chunk without its KPI file is unfinished; a chunk with none of its files is missing
    (chunks / "current__plan__base__r00002-00003.kpis.parquet").unlink()
    for path in chunks.glob("fewer__plan__base__r00004-00005.*.parquet"):
        path.unlink()
    (chunks / ".left-by-a-killed-run.kpis.parquet.tmp").write_bytes(b"partial")
    spy.calls.clear()
    resumed = run_experiment(spec, base, out, cache_dir=cache_dir, resume=True)
    assert sorted(spy.calls) == sorted([
        (hashes["current__plan__base"], 2), (hashes["current__plan__base"], 3),
        (hashes["fewer__plan__base"], 4), (hashes["fewer__plan__base"], 5)])
    assert resumed.timings["replications_simulated"] == 4 and resumed.replications == 6
    assert not list(chunks.glob(".*.tmp"))
    again = load_results(out)
    for name, table in reference.items():
        pd.testing.assert_frame_equal(again[name], table, obj=name)

    spy.calls.clear()
    finished = run_experiment(spec, base, out, cache_dir=cache_dir, resume=True)
    assert spy.calls == [] and finished.timings["replications_simulated"] == 0


# -- (c) rankings, P(best) and paired differences point the right way --------------------------


RANKED_PLACEMENTS = [
    {"name": "current"},
    # better: one well-stocked central depot with a large fleet (everyone served, soon)
    {"name": "fast", "remove": ALL_DEPOTS, "add": [
        {"id": "central", "tier": "county", "location": [24.9409, 60.1687],
         "stock": {"kit": 9000, "quilt": 9000, "tent": 2500},
         "trucks": {"count": 12, "capacity_kg": 8000, "load_h": 0.3, "unload_h": 0.2}}]},
    # worse: the town points hold everything but have one truck each (everyone served, late)
    {"name": "slow", "stock": {
        "kaartinkaupunki_point": {"kit": 4000, "quilt": 4000, "tent": 1000},
        "kluuvi_point": {"kit": 4000, "quilt": 4000, "tent": 1000}}},
    {"name": "none", "remove": ALL_DEPOTS},  # nobody gets relief
]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, default_data: dict
           ) -> tuple[ExperimentRun, dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("ranked") / "out"
    data = {**default_data, "handout": {"people_per_h_per_point": None},  # arrival decides
            "targets": {"initial_relief_h": 5.0}}  # so that shares tell the placements apart
    run = run_experiment(experiment(RANKED_PLACEMENTS, replications=6, chunk_size=3),
                         parse_scenario(data), out, cache_dir=cache_dir)
    return run, load_results(out, run.replications)


def with_statistic(run: ExperimentRun, statistic: str, drop: tuple[str, ...] = ()
                   ) -> ExperimentRun:
    """The same results judged on another statistic (optionally without some placements)."""
    spec = run.experiment.model_copy(update={"statistic": statistic})
    configs = [c for c in run.configs if c.placement not in drop]
    return ExperimentRun(run.out, spec, run.base, configs, run.hash, run.replications)


def rows(summary: pd.DataFrame, kpi: str = "initial_relief") -> pd.DataFrame:
    return summary[summary.kpi == kpi].set_index("placement")


def hand_differences(run: ExperimentRun, kpis: pd.DataFrame) -> dict[str, float]:
    values = replication_values(kpis, run.experiment).pivot(
        index="replication", columns="config", values="value")
    base = values["current__plan__base"]
    return {c.placement: float((values[c.id] - base).mean()) for c in run.configs}


def test_share_within_higher_is_better(ranked: tuple[ExperimentRun, dict[str, pd.DataFrame]]
                                       ) -> None:
    run, tables = ranked
    assert run.experiment.statistic == "share_within" and not run.experiment.lower_is_better
    got = rows(summarise(run, tables))
    share = got.share_within
    assert share["fast"] > share["current"] > share["slow"] > share["none"] == 0.0
    # fast has the highest share in every replication, so it wins every paired resample
    assert got.p_best.to_dict() == {"current": 0.0, "fast": 1.0, "slow": 0.0, "none": 0.0}
    ranking = got.sort_values("p_best", ascending=False).index.tolist()  # as the report does
    assert ranking[0] == "fast"
    # paired differences: placement − baseline, per replication
    hand = hand_differences(run, tables["kpis"])
    assert hand["none"] == pytest.approx(-share["current"], abs=1e-12)
    for placement, expected in hand.items():
        assert got.diff_mean[placement] == pytest.approx(expected, abs=1e-12), placement
    assert (got.diff_mean["current"], got.diff_ci_low["current"],
            got.diff_ci_high["current"]) == (0.0, 0.0, 0.0)
    assert got.diff_ci_low["fast"] > 0
    assert got.diff_ci_high["slow"] < 0 and got.diff_ci_high["none"] < 0
    # P(best) is reported for the experiment's KPI only
    assert rows(summarise(run, tables), "effective_relief").p_best.isna().all()


@pytest.mark.parametrize("statistic", ["mean", "p95"])
def test_time_statistics_lower_is_better(
        ranked: tuple[ExperimentRun, dict[str, pd.DataFrame]], statistic: str) -> None:
    run, tables = ranked
    # 'none' serves nobody: its mean and p95 are infinite (tested on its own below)
    drop = ("none",) if statistic == "mean" else ()
    judged = with_statistic(run, statistic, drop=drop)
    assert judged.experiment.lower_is_better
    kpis = tables["kpis"][~tables["kpis"].config.isin([f"{p}__plan__base" for p in drop])]
    got = rows(summarise(judged, {**tables, "kpis": kpis}))
    values = replication_values(kpis, judged.experiment).groupby("config").value.mean()
    assert (values["fast__plan__base"] < values["current__plan__base"]
            < values["slow__plan__base"])
    expected = {"current": 0.0, "fast": 1.0, "slow": 0.0, "none": 0.0}
    assert got.p_best.to_dict() == {p: expected[p] for p in got.index}
    hand = hand_differences(judged, kpis)
    for placement in ("current", "fast", "slow"):
        assert got.diff_mean[placement] == pytest.approx(hand[placement], abs=1e-12)
    assert got.diff_ci_high["fast"] < 0 < got.diff_ci_low["slow"]  # later is worse


# With statistic 'mean', a replication that left anyone unserved counts as infinitely late
# (sim.experiment.censored_mean): the mean over those served would reward leaving people out.


def test_mean_ranking_does_not_reward_leaving_people_unserved(
        tmp_path: Path, cache_dir: Path, default_data: dict) -> None:
    # the city depot alone, as stocked now: fast for those it reaches, 1800 never served
    spec = experiment([RANKED_PLACEMENTS[1],
                       {"name": "city_only", "remove": [*TOWN_AND_COUNTY, "narinkka_supplier"]}],
                      replications=6, chunk_size=3, statistic="mean")
    run = run_experiment(spec, parse_scenario(default_data), tmp_path / "out",
                         cache_dir=cache_dir)
    kpis = load_results(run.out, 6)["kpis"]
    initial = kpis[kpis.kpi == "initial_relief"].set_index(["config", "replication"])
    assert (initial.never.loc["city_only__plan__base"] == 1800).all()
    assert (initial.never.loc["fast__plan__base"] == 0).all()
    got = rows(summarise(run, load_results(run.out, 6)))
    assert got.p_best["fast"] > got.p_best["city_only"]


def test_mean_ranking_survives_a_placement_that_serves_nobody(
        ranked: tuple[ExperimentRun, dict[str, pd.DataFrame]]) -> None:
    run, tables = ranked
    got = rows(summarise(with_statistic(run, "mean"), tables))
    assert got.p_best.to_dict() == {"current": 0.0, "fast": 1.0, "slow": 0.0, "none": 0.0}


# -- (d) reading experiments and their workload -----------------------------------------------


def test_an_experiment_file_must_be_a_mapping_and_its_crs_known(tmp_path: Path) -> None:
    from sim.errors import ScenarioError
    from sim.experiment import load_experiment

    listed = tmp_path / "list.yaml"
    listed.write_text("- name: x\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{listed}: expected a mapping of experiment"):
        load_experiment(listed)
    bad_crs = tmp_path / "crs.yaml"
    bad_crs.write_text("name: x\ncrs: mars\nbase: b.yaml\nplacements: [{name: a}]\n",
                       encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{bad_crs}: crs: 'mars'"):
        load_experiment(bad_crs)


def test_replications_without_anyone_to_judge_are_left_out() -> None:
    """A KPI with no people or incidents in a replication (n = 0) gives no value there."""
    kpis = pd.DataFrame({
        "config": ["a", "a", "b"], "replication": [0, 1, 0],
        "kpi": ["sea_arrival"] * 3, "n": [2, 0, 1], "never": [0, 0, 0],
        "mean": [1.0, np.nan, 3.0], "share_within": [1.0, np.nan, 0.0], "p95": [1.5, 0, 3]})
    spec = Experiment.model_validate({"name": "x", "base": "b", "kpi": "sea_arrival",
                                      "placements": [{"name": "a"}]})
    values = replication_values(kpis, spec)
    assert values.to_dict("list") == {"config": ["a", "b"], "replication": [0, 0],
                                      "value": [1.0, 0.0]}


def test_workload_counts_every_configuration_at_its_most_replications(
        default_data: dict) -> None:
    from sim.experiment import experiment_workload
    from sim.workload import estimate

    base = parse_scenario(default_data)
    spec = experiment([{"name": "a"}, {"name": "b"}, {"name": "c"}], replications=7,
                      policies=["plan", "fcfs"],
                      sequential={"half_width": 0.01, "batch": 5, "max_replications": 40})
    work = experiment_workload(spec, base)
    assert work.runs == 40 * 3 * 2
    assert work.people == estimate(base).people
    assert experiment_workload(spec, base, placements=10).runs == 40 * 10 * 2
