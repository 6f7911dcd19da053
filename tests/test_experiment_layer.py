"""The experiment layer as a planner sees it: common random numbers for every stream when
placements change the depots, resume that simulates only what is missing, and rankings, P(best)
and paired differences that point the right way for both directions of the statistic; hazard
weights, factors and their design points by hand; a failed start that leaves nothing behind;
local and Dask workers that give the same numbers."""

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
    fold = ExperimentRun.fold
    monkeypatch.setattr(ExperimentRun, "fold", lambda self: None)  # keep the chunk files
    first = run_experiment(spec, base, out, cache_dir=cache_dir)
    monkeypatch.setattr(ExperimentRun, "fold", fold)
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
    # folded: one file per table, whatever the number of chunks
    assert sorted(p.name for p in chunks.iterdir()) == sorted(
        f"all.{name}.parquet" for name in sim.batch.CHUNK_TABLES)

    spy.calls.clear()
    finished = run_experiment(spec, base, out, cache_dir=cache_dir, resume=True)
    assert spy.calls == [] and finished.timings["replications_simulated"] == 0


def test_two_local_workers_give_the_numbers_of_one(tmp_path: Path, cache_dir: Path,
                                                   default_data: dict) -> None:
    """Chunks spread over two worker processes (each writing its own chunk files) give the
    tables of one process, replication for replication."""
    placements = [{"name": "current"}, {"name": "fewer", "remove": ["kluuvi_point"]}]
    spec = experiment(placements, replications=3, chunk_size=1)
    base = parse_scenario(default_data)
    one = load_results(run_experiment(spec, base, tmp_path / "one", cache_dir=cache_dir).out)
    two = run_experiment(spec, base, tmp_path / "two", workers=2, cache_dir=cache_dir)
    assert two.timings["replications_simulated"] == 6
    for name, table in load_results(two.out).items():
        pd.testing.assert_frame_equal(table, one[name], obj=name)


def test_an_interrupted_fold_loses_and_repeats_nothing(
        tmp_path: Path, cache_dir: Path, default_data: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folded chunks count as done; a fold that fails half-way (disk full after two of its
    four files) leaves every replication readable exactly once, and the next run finishes
    it without simulating anything again."""
    placements = [{"name": "current"}, {"name": "fewer", "remove": ["kluuvi_point"]}]
    base = parse_scenario(default_data)
    six = experiment(placements, replications=6, chunk_size=1)
    reference = load_results(run_experiment(six, base, tmp_path / "ref", cache_dir=cache_dir).out)
    assert reference["relief"].replication.nunique() == 6 and len(reference["incidents"])

    out = tmp_path / "out"
    spy = Spy(monkeypatch)
    real_run = sim.batch.run_replication

    def stops_at_4(world, *, seed, replication):  # type: ignore[no-untyped-def]
        if replication == 4:
            raise KeyboardInterrupt
        return real_run(world, seed=seed, replication=replication)

    monkeypatch.setattr(sim.batch, "run_replication", stops_at_4)
    with pytest.raises(KeyboardInterrupt):  # current: replications 0-3 done, in chunk files
        run_experiment(six, base, out, cache_dir=cache_dir)
    monkeypatch.setattr(sim.batch, "run_replication", real_run)
    assert len(list((out / "chunks").glob("*.parquet"))) == 4 * 4
    ExperimentRun(out, six, base, [], "hash").fold()
    assert sorted(p.name for p in (out / "chunks").iterdir()) == sorted(
        f"all.{name}.parquet" for name in sim.batch.CHUNK_TABLES)
    assert sim.batch.folded_chunks(out / "chunks") == [
        f"current__plan__base__r0000{r}-0000{r}" for r in range(4)]

    real_write = sim.batch.atomic_write

    def disk_full(path: Path, write):  # type: ignore[no-untyped-def]
        if path.name == "all.resources.parquet":
            raise OSError("No space left on device")
        return real_write(path, write)

    spy.calls.clear()
    monkeypatch.setattr(sim.batch, "atomic_write", disk_full)
    with pytest.raises(OSError, match="No space"):
        run_experiment(six, base, out, cache_dir=cache_dir, resume=True)
    monkeypatch.setattr(sim.batch, "atomic_write", real_write)
    assert sorted(r for _, r in spy.calls) == [0, 1, 2, 3, 4, 4, 5, 5]  # only the missing
    assert len(list((out / "chunks").glob("*__r*.parquet"))) == 8 * 4  # not yet folded
    for name, table in load_results(out).items():  # relief: 6 replications in all.*, read once
        pd.testing.assert_frame_equal(table, reference[name], obj=name)
    for name, table in load_results(out, 5, config="fewer__plan__base").items():
        ref = reference[name]
        expected = ref[(ref.replication < 5) & (ref.config == "fewer__plan__base")]
        pd.testing.assert_frame_equal(table, expected.reset_index(drop=True), obj=name)
    assert all(t.empty for t in load_results(out, config="elsewhere").values())

    spy.calls.clear()
    finished = run_experiment(six, base, out, cache_dir=cache_dir, resume=True)
    assert spy.calls == [] and finished.timings["replications_simulated"] == 0
    assert sorted(p.name for p in (out / "chunks").iterdir()) == sorted(
        f"all.{name}.parquet" for name in sim.batch.CHUNK_TABLES)
    for name, table in load_results(out).items():
        pd.testing.assert_frame_equal(table, reference[name], obj=name)


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


def test_workload_of_a_few_placements_and_the_mean_work_per_configuration(
        default_data: dict) -> None:
    """One policy and one variant: ``placements=5`` is five configurations' worth of runs;
    incidents and trips are the mean over configurations (demand ×1 and ×3 here), people
    those of the heaviest one."""
    from sim.experiment import configurations, experiment_workload
    from sim.workload import estimate

    base = parse_scenario(default_data)
    single = experiment([{"name": "a"}, {"name": "b"}, {"name": "c"}], replications=7)
    assert experiment_workload(single, base).runs == 7 * 3
    assert experiment_workload(single, base, placements=5).runs == 7 * 5
    assert experiment_workload(single, base, placements=1).runs == 7

    spec = experiment([{"name": "a"}, {"name": "b", "remove": ["kluuvi_point"]}],
                      replications=3, variants=[{"name": "low"},
                                                {"name": "high", "demand_scale": 3}])
    works = [estimate(c.scenario) for c in configurations(spec, base)]
    assert len(works) == 4 and len({w.trips for w in works}) > 1
    work = experiment_workload(spec, base)
    assert work.runs == 3 * 4
    assert work.incidents == pytest.approx(sum(w.incidents for w in works) / 4, rel=1e-12)
    assert work.trips == pytest.approx(sum(w.trips for w in works) / 4, rel=1e-12)
    assert work.people == max(works, key=lambda w: w.events).people
    assert work.people == estimate(configurations(spec, base)[1].scenario).people  # ×3


# -- (e) hazard weights, factors and their design points ---------------------------------------


def test_hazard_weights_by_hand_in_order_of_frequency() -> None:
    """Annual exceedance 1/2, 1/4, 1/8, 1/16 (listed out of order): given an event at least
    as large as the 2-year one, it is of the 2–4-year size with (1/2 − 1/4) / (1/2) = 1/2,
    4–8 with 1/4, 8–16 with 1/8, ≥ 16 with (1/16 − 0) / (1/2) = 1/8; weights sum to 1 and
    come most frequent first."""
    from sim.experiment import Variant, aep_weights

    variants = [Variant(name=n, annual_exceedance=p)
                for n, p in (("y8", 0.125), ("y2", 0.5), ("y16", 0.0625), ("y4", 0.25))]
    weights = aep_weights(variants)
    assert weights == {"y2": 0.5, "y4": 0.25, "y8": 0.125, "y16": 0.125}
    assert list(weights) == ["y2", "y4", "y8", "y16"]
    assert sum(weights.values()) == 1.0
    # 10-, 20-, 50-, 100-year events: (0.1 − 0.05) / 0.1 = 0.5, 0.3, 0.1, 0.1
    decimal = aep_weights([Variant(name=n, annual_exceedance=p) for n, p in (
        ("h100", 0.01), ("h20", 0.05), ("h10", 0.1), ("h50", 0.02))])
    assert list(decimal) == ["h10", "h20", "h50", "h100"]
    assert decimal == pytest.approx({"h10": 0.5, "h20": 0.3, "h50": 0.1, "h100": 0.1},
                                    abs=1e-15)
    # one hazard: all the weight; a variant without a probability: no weights at all
    assert aep_weights([Variant(name="only", annual_exceedance=0.3)]) == {"only": 1.0}
    assert aep_weights([Variant(name="a", annual_exceedance=0.1), Variant(name="b")]) == {}
    assert aep_weights([Variant(name="b"), Variant(name="a", annual_exceedance=0.1)]) == {}
    assert aep_weights([Variant(name="a")]) == {}
    assert aep_weights([]) == {}


def test_factor_values_at_positions_of_the_unit_interval() -> None:
    from sim.experiment import Factor

    ranged = Factor(path="x", low=2, high=10)
    assert [ranged.at(u) for u in (0.0, 0.25, 0.5, 1.0)] == [2.0, 4.0, 6.0, 10.0]
    from_zero = Factor(path="x", low=0, high=8)
    assert [from_zero.at(u) for u in (0.0, 0.5, 1.0)] == [0.0, 4.0, 8.0]
    to_zero = Factor(path="x", low=-4, high=0)
    assert [to_zero.at(u) for u in (0.0, 0.5, 1.0)] == [-4.0, -2.0, 0.0]
    assert ranged.levels() == [2.0, 10.0]
    assert from_zero.levels() == [0.0, 8.0] and to_zero.levels() == [-4.0, 0.0]
    # levels split the interval equally: [0, ¼) → 1, [¼, ½) → 2, [½, ¾) → 5, [¾, 1] → 10
    levels = Factor(path="x", values=[1, 2, 5, 10])
    positions = (0.0, 0.2499, 0.25, 0.4999, 0.5, 0.74, 0.75, 0.9999, 1.0)
    assert [levels.at(u) for u in positions] == [1, 1, 2, 2, 5, 5, 10, 10, 10]
    assert Factor(path="x", values=[3, 1, 2]).levels() == [3.0, 1.0, 2.0]  # as given
    assert Factor(path="x", values=[0, 1], low=5, high=6).levels() == [0.0, 1.0]
    assert Factor(path="x", values=[7]).at(0.99) == 7.0


PEOPLE_PATH = "people_scale"
TRUCKS_PATH = "depots[id=hakaniemi_city].trucks.count"


def test_a_grid_is_every_combination_of_levels_in_order() -> None:
    from sim.experiment import design_points

    spec = experiment([{"name": "current"}], replications=1, factors=[
        {"path": PEOPLE_PATH, "values": [0.5, 2]},
        {"path": TRUCKS_PATH, "values": [1, 3, 5]},
        {"path": "horizon_h", "low": 12, "high": 24}])  # a range in a grid: its two ends
    points = design_points(spec)
    expected = [{PEOPLE_PATH: p, TRUCKS_PATH: t, "horizon_h": h}
                for p in (0.5, 2.0) for t in (1.0, 3.0, 5.0) for h in (12.0, 24.0)]
    assert points == expected
    assert [list(p) for p in points] == [[PEOPLE_PATH, TRUCKS_PATH, "horizon_h"]] * 12


def test_a_latin_hypercube_hits_each_stratum_once_seeded_by_the_master_seed() -> None:
    from scipy.stats import qmc

    from sim.experiment import design_points

    factors = [{"path": PEOPLE_PATH, "low": 0.5, "high": 2.0},
               {"path": TRUCKS_PATH, "values": [1, 2, 3, 4]},
               {"path": "horizon_h", "low": 10, "high": 30}]
    spec = experiment([{"name": "current"}], replications=1, factors=factors, design="lhs",
                      samples=8)
    points = design_points(spec)
    assert len(points) == 8 and all(list(p) == [PEOPLE_PATH, TRUCKS_PATH, "horizon_h"]
                                    for p in points)
    # each of the 8 strata of each range holds exactly one point
    for path, low, high in ((PEOPLE_PATH, 0.5, 2.0), ("horizon_h", 10, 30)):
        strata = sorted(int((p[path] - low) / (high - low) * 8) for p in points)
        assert strata == list(range(8)), path
    # 8 points over 4 levels: each level twice
    assert sorted(p[TRUCKS_PATH] for p in points) == [1, 1, 2, 2, 3, 3, 4, 4]
    # by hand from the same Latin hypercube, seeded by the master seed
    u = qmc.LatinHypercube(d=3, seed=SEED).random(8)
    assert points == [{PEOPLE_PATH: 0.5 + row[0] * 1.5,
                       TRUCKS_PATH: [1.0, 2.0, 3.0, 4.0][int(row[1] * 4)],
                       "horizon_h": 10 + row[2] * 20} for row in u]
    assert design_points(spec) == points  # reproducible
    other = spec.model_copy(update={"master_seed": SEED + 1})
    assert design_points(other) != points


def trucks(scenario: Scenario) -> int:
    return next(d for d in scenario.depots if d.id == "hakaniemi_city").trucks.count


def test_design_points_are_named_and_set_in_each_configuration(default_data: dict) -> None:
    from sim.experiment import configurations

    base = parse_scenario(default_data)
    factors = [{"path": PEOPLE_PATH, "name": "people", "values": [0.5, 2]},
               {"path": TRUCKS_PATH, "values": [1, 4]}]
    spec = experiment([{"name": "current"}], replications=1, factors=factors)
    configs = configurations(spec, base)
    label = [f"people={p}, {TRUCKS_PATH}={t}" for p in (0.5, 2) for t in (1, 4)]
    assert [c.variant for c in configs] == [f"p{k + 1}: {x}" for k, x in enumerate(label)]
    assert [c.placement for c in configs] == ["current"] * 4
    assert [(c.scenario.people_scale, trucks(c.scenario)) for c in configs] == [
        (0.5, 1), (0.5, 4), (2.0, 1), (2.0, 4)]

    # a named variant keeps its name and its own inputs beside the design point's
    keskusta = "settlements[id=keskusta].people"
    big = experiment([{"name": "current"}], replications=1, factors=factors,
                     variants=[{"name": "big", "set": {keskusta: 5000}}])
    configs = configurations(big, base)
    assert [c.variant for c in configs] == [f"p{k + 1}: big | {x}" for k, x in enumerate(label)]
    assert [(c.scenario.people_scale, trucks(c.scenario)) for c in configs] == [
        (0.5, 1), (0.5, 4), (2.0, 1), (2.0, 4)]
    assert {next(s.people for s in c.scenario.settlements if s.id == "keskusta")
            for c in configs} == {5000}

    # several variants, one of them called "base": each at each point, all named
    two = experiment([{"name": "current"}, {"name": "fewer", "remove": ["kluuvi_point"]}],
                     replications=1, factors=factors[:1],
                     variants=[{"name": "base"}, {"name": "dry", "disruptions": False}])
    configs = configurations(two, base)
    names = ["p1: base | people=0.5", "p1: dry | people=0.5", "p2: base | people=2",
             "p2: dry | people=2"]
    assert [(c.placement, c.variant) for c in configs] == [
        (p, n) for p in ("current", "fewer") for n in names]
    assert [c.scenario.people_scale for c in configs] == [0.5, 0.5, 2.0, 2.0] * 2
    assert [len(c.scenario.disruptions) > 0 for c in configs[:4]] == [True, False] * 2


def test_latin_hypercube_points_are_rounded_for_whole_number_fields(
        default_data: dict) -> None:
    from scipy.stats import qmc

    from sim.experiment import configurations

    base = parse_scenario(default_data)
    spec = experiment([{"name": "current"}], replications=1, design="lhs", samples=5,
                      factors=[{"path": PEOPLE_PATH, "name": "人口倍数", "low": 0.5,
                                "high": 2.0},
                               {"path": TRUCKS_PATH, "name": "trucks", "low": 1, "high": 6}])
    u = qmc.LatinHypercube(d=2, seed=SEED).random(5)
    people = [0.5 + row[0] * 1.5 for row in u]
    counts = [round(1 + row[1] * 5) for row in u]
    configs = configurations(spec, base)
    assert [c.variant for c in configs] == [
        f"p{k + 1}: 人口倍数={people[k]:.4g}, trucks={counts[k]}" for k in range(5)]
    assert [c.scenario.people_scale for c in configs] == people
    got = [trucks(c.scenario) for c in configs]
    assert got == counts and all(type(n) is int for n in got)
    assert len(set(counts)) > 1 and any(p != round(p, 3) for p in people)


def test_factor_paths_are_checked_with_one_message_naming_the_file(default_data: dict) -> None:
    from sim.errors import ScenarioError
    from sim.experiment import Factor, check_factors, configurations

    base = parse_scenario(default_data)
    good = [Factor(path=PEOPLE_PATH, values=[1]), Factor(path=TRUCKS_PATH, values=[1]),
            Factor(path="horizon_h", low=1, high=2)]
    assert check_factors(good, base, "exp.yaml") is None
    assert check_factors([], base, "exp.yaml") is None
    depots = ", ".join(d.id for d in base.depots)
    unknown = [good[0], Factor(path="depots[id=nope].trucks.count", values=[1])]
    with pytest.raises(ScenarioError) as err:
        check_factors(unknown, base, "exp.yaml")
    assert str(err.value) == ("exp.yaml: factors[1].path: depots[id=nope].trucks.count: no item "
                              f"with id 'nope' (items: {depots})")
    text = [good[0], good[1], Factor(path="name", values=[1])]
    with pytest.raises(ScenarioError) as err:
        check_factors(text, base, "exp.yaml")
    assert str(err.value) == "exp.yaml: factors[2].path: name — not a number field"
    # and through the experiment, before any configuration is built
    spec = experiment([{"name": "current"}], replications=1,
                      factors=[{"path": PEOPLE_PATH, "values": [1]},
                               {"path": "name", "values": [1]}])
    with pytest.raises(ScenarioError) as err:
        configurations(spec, base, origin="plans/exp.yaml")
    assert str(err.value) == "plans/exp.yaml: factors[1].path: name — not a number field"


# -- (f) the results store: an attempt that finished nothing leaves nothing behind -------------


def test_a_failed_first_attempt_removes_what_it_wrote(
        tmp_path: Path, cache_dir: Path, default_data: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.files import MARKER

    spec = experiment([{"name": "current"}], replications=2, chunk_size=1)
    base = parse_scenario(default_data)

    def broken(world, *, seed, replication):  # type: ignore[no-untyped-def]
        # as if killed in the middle of an atomic write: a temporary file is left
        (out / "chunks" / ".current__plan__base__r00000-00000.kpis.parquet.tmp").write_bytes(
            b"partial")
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.batch, "run_replication", broken)
    out = tmp_path / "new"
    with pytest.raises(RuntimeError, match="boom"):
        run_experiment(spec, base, out, cache_dir=cache_dir)
    assert not out.exists()  # this run made the folder: gone

    out = tmp_path / "made_by_the_planner"
    out.mkdir()
    with pytest.raises(RuntimeError, match="boom"):
        run_experiment(spec, base, out, cache_dir=cache_dir)
    assert out.is_dir() and list(out.iterdir()) == []  # theirs: kept, and empty again

    # a failure after the first chunk keeps everything: the run can be resumed
    monkeypatch.undo()
    calls: list[int] = []
    genuine = sim.batch.run_replication

    def second_fails(world, *, seed, replication):  # type: ignore[no-untyped-def]
        calls.append(replication)
        if replication == 1:
            raise RuntimeError("boom")
        return genuine(world, seed=seed, replication=replication)

    monkeypatch.setattr(sim.batch, "run_replication", second_fails)
    out = tmp_path / "half"
    with pytest.raises(RuntimeError, match="boom"):
        run_experiment(spec, base, out, cache_dir=cache_dir)
    assert calls == [0, 1]
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "chunks", "manifest.json"])
    assert sorted(p.name for p in (out / "chunks").iterdir()) == [
        f"current__plan__base__r00000-00000.{name}.parquet"
        for name in sorted(sim.batch.CHUNK_TABLES)]
    monkeypatch.undo()
    resumed = run_experiment(spec, base, out, cache_dir=cache_dir, resume=True)
    assert resumed.timings["replications_simulated"] == 1


def store(out: Path, base: Scenario, **extra: object) -> ExperimentRun:
    return ExperimentRun(out, experiment([{"name": "a"}], replications=4, **extra), base, [],
                         "hash")


def test_finished_any_and_discard_if_empty_directly(tmp_path: Path, default_data: dict
                                                     ) -> None:
    from sim.files import MARKER

    base = parse_scenario(default_data)
    out = tmp_path / "out"
    run = store(out, base)
    assert not run.finished_any()  # no folder at all
    (out / "chunks").mkdir(parents=True)
    assert not run.finished_any()  # an empty chunk folder
    (out / "chunks" / "a__r00000-00001.relief.parquet").write_bytes(b"x")
    assert not run.finished_any()  # a chunk without its KPI file is unfinished
    (out / "chunks" / "a__r00000-00001.kpis.parquet").write_bytes(b"x")
    assert run.finished_any()
    (out / MARKER).write_text("{}", encoding="utf-8")
    (out / "manifest.json").write_text("{}", encoding="utf-8")
    run.discard_if_empty(created=True)  # a finished chunk: nothing is touched
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "chunks", "manifest.json"])
    assert len(list((out / "chunks").iterdir())) == 2

    # nothing finished, no manifest or marker written yet: the rest goes quietly
    fresh = tmp_path / "fresh"
    (fresh / "chunks").mkdir(parents=True)
    (fresh / "chunks" / ".a__r00000-00001.relief.parquet.tmp").write_bytes(b"x")
    store(fresh, base).discard_if_empty(created=True)
    assert not fresh.exists()

    # a folder holding something else is never removed (nor is that something)
    shared = tmp_path / "shared"
    (shared / "chunks").mkdir(parents=True)
    (shared / "notes.txt").write_text("mine", encoding="utf-8")
    (shared / "manifest.json").write_text("{}", encoding="utf-8")
    store(shared, base).discard_if_empty(created=True)
    assert [p.name for p in shared.iterdir()] == ["notes.txt"]

    # an unfinished chunk's tables stay (its folder is not empty), the manifest goes
    partial = tmp_path / "partial"
    (partial / "chunks").mkdir(parents=True)
    (partial / "chunks" / "a__r00000-00001.relief.parquet").write_bytes(b"x")
    (partial / "manifest.json").write_text("{}", encoding="utf-8")
    (partial / MARKER).write_text("{}", encoding="utf-8")
    store(partial, base).discard_if_empty(created=False)
    assert [p.name for p in partial.iterdir()] == ["chunks"]
    assert [p.name for p in (partial / "chunks").iterdir()] == [
        "a__r00000-00001.relief.parquet"]


def write_kpis(out: Path, config: str, column: str, values: list[float]) -> None:
    """A finished chunk per replication with the KPI statistic ``column`` given."""
    chunks = out / "chunks"
    chunks.mkdir(parents=True, exist_ok=True)
    for r, value in enumerate(values):
        stem = f"{config}__r{r:05d}-{r:05d}"
        key = pd.DataFrame({"config": [config], "replication": [r]})
        for name in ("relief", "incidents", "resources"):
            key.to_parquet(chunks / f"{stem}.{name}.parquet", index=False)
        kpis = key.assign(kpi="initial_relief", n=10, never=0, mean=np.nan,
                          share_within=np.nan, p95=np.nan)
        kpis[column] = float(value)
        kpis.to_parquet(chunks / f"{stem}.kpis.parquet", index=False)


def test_half_width_is_the_widest_interval_over_the_first_replications(
        tmp_path: Path, default_data: dict) -> None:
    from scipy import stats as sps

    from sim.batch import half_width
    from sim.stats import bootstrap_ci

    base = parse_scenario(default_data)
    # mean hours: 4 replications of a: 1, 2, 3, 4 (s² = 5/3); of b: 0, 0, 6, 6 (s² = 12)
    out = tmp_path / "mean"
    write_kpis(out, "a", "mean", [1, 2, 3, 4, 100, 300])
    write_kpis(out, "b", "mean", [0, 0, 6, 6, 6, 6])
    run = store(out, base, statistic="mean")
    t = float(sps.t.ppf(0.975, 3))
    assert half_width(run, 4) == pytest.approx(t * np.sqrt(12) / 2, rel=1e-12)
    # a: 1, 2 (s = √½, s / √2 = ½); b: 0, 0 (no spread)
    assert half_width(run, 2) == pytest.approx(float(sps.t.ppf(0.975, 1)) / 2, rel=1e-12)
    assert half_width(run, 6) > 100  # a's late replications
    # shares: a percentile bootstrap interval (a t interval would differ)
    out = tmp_path / "share"
    shares = [0.2, 0.6, 0.4, 0.9, 0.0, 0.0, 1.0]
    write_kpis(out, "a", "share_within", shares)
    run = store(out, base)
    expected = bootstrap_ci(np.array(shares[:4])).half_width
    assert half_width(run, 4) == expected
    assert expected != pytest.approx(float(sps.t.ppf(0.975, 3)) * np.std(shares[:4], ddof=1) / 2)
    assert half_width(run, 7) == bootstrap_ci(np.array(shares)).half_width != expected


# -- (g) workers: local processes and Dask ------------------------------------------------------


class Exited(Exception):
    """Raised by a stand-in for ``os._exit``."""


def test_a_local_worker_exits_within_a_second_once_its_parent_is_gone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from sim.batch import _exit_with_parent

    parents = iter([100, 100, 1])  # the parent dies after the second check (re-parented to 1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 10:
            raise AssertionError("never exits")

    def exit_(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(sim.batch, "time", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(sim.batch, "os", SimpleNamespace(getppid=lambda: next(parents),
                                                         _exit=exit_))
    with pytest.raises(Exited) as exited:
        _exit_with_parent(100)
    assert exited.value.args == (1,)  # a failure status
    assert slept == [0.5, 0.5, 0.5]  # checked every half second


def test_a_local_worker_ignores_ctrl_c_watches_its_parent_and_runs_chunks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    from types import SimpleNamespace

    from sim.batch import Chunk, _chunk_in_worker, _init_local_worker

    handlers: list[tuple[object, object]] = []
    threads: list[dict] = []

    class Thread:
        def __init__(self, **kwargs: object) -> None:
            self.kwargs = kwargs

        def start(self) -> None:
            threads.append(self.kwargs)

    monkeypatch.setattr(sim.batch, "signal", SimpleNamespace(
        signal=lambda signum, handler: handlers.append((signum, handler)),
        SIGINT=signal.SIGINT, SIG_IGN=signal.SIG_IGN))
    monkeypatch.setattr(sim.batch, "threading", SimpleNamespace(Thread=Thread))
    world, runs = FakeWorld("w"), fake_run_chunk(monkeypatch)
    _init_local_worker(world, {"a": "scenario a"}, 7, 4242)  # type: ignore[arg-type]
    assert handlers == [(signal.SIGINT, signal.SIG_IGN)]
    assert threads == [{"target": sim.batch._exit_with_parent, "args": (4242,),
                        "daemon": True}]
    assert _chunk_in_worker(Chunk("a", 0, 2)) == ("w", "scenario a", Chunk("a", 0, 2), 7)
    assert runs == [1]


class FakeWorld:
    """Stands for a prepared world: records the scenarios placed on it."""

    def __init__(self, tag: str) -> None:
        self.tag, self.placed = tag, []

    def with_scenario(self, scenario: str) -> tuple[str, str]:
        self.placed.append(scenario)
        return (self.tag, scenario)


def fake_run_chunk(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace run_chunk by one that returns what it was given; a fresh worker state."""
    count = [0]

    def run_chunk(placed, chunk, *, seed):  # type: ignore[no-untyped-def]
        count[0] += 1
        return (*placed, chunk, seed)

    monkeypatch.setattr(sim.batch, "run_chunk", run_chunk)
    monkeypatch.setattr(sim.batch, "_WORKER", {})
    return count


def test_a_dask_worker_sets_up_once_per_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.batch import Chunk, _chunk_on_dask

    fake_run_chunk(monkeypatch)
    first, second = FakeWorld("w1"), FakeWorld("w2")
    payload = (first, {"a": "A", "b": "B"}, 7)
    assert _chunk_on_dask(payload, Chunk("a", 0, 2)) == ("w1", "A", Chunk("a", 0, 2), 7)
    assert _chunk_on_dask(payload, Chunk("a", 2, 4)) == ("w1", "A", Chunk("a", 2, 4), 7)
    assert _chunk_on_dask(payload, Chunk("b", 0, 2)) == ("w1", "B", Chunk("b", 0, 2), 7)
    assert _chunk_on_dask(payload, Chunk("a", 4, 5)) == ("w1", "A", Chunk("a", 4, 5), 7)
    assert first.placed == ["A", "B"]  # each configuration placed once on this worker
    # another experiment's payload on the same worker: set up afresh
    other = (second, {"a": "A2"}, 8)
    assert _chunk_on_dask(other, Chunk("a", 0, 1)) == ("w2", "A2", Chunk("a", 0, 1), 8)
    assert _chunk_on_dask(other, Chunk("a", 1, 2)) == ("w2", "A2", Chunk("a", 1, 2), 8)
    assert second.placed == ["A2"] and first.placed == ["A", "B"]


def test_dask_gives_the_same_numbers_as_a_local_run(
        tmp_path: Path, cache_dir: Path, default_data: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import distributed
    from dask.utils import parse_timedelta

    spec = experiment([{"name": "current"}, {"name": "fewer", "remove": ["kluuvi_point"]}],
                      replications=2, chunk_size=1)
    base = parse_scenario(default_data)
    local = run_experiment(spec, base, tmp_path / "local", cache_dir=cache_dir)
    connects: list[tuple[tuple, dict]] = []
    scatters: list[dict] = []
    submits: list[tuple[object, dict]] = []

    class Client(distributed.Client):  # the real client, recording how it is asked
        def __init__(self, *args: object, **kwargs: object) -> None:
            connects.append((args, kwargs))
            assert args == (address,)  # never a new cluster of its own
            super().__init__(*args, **kwargs)

        def scatter(self, data, **kwargs):  # type: ignore[no-untyped-def]
            scatters.append(kwargs)
            return super().scatter(data, **kwargs)

        def submit(self, func, *args, **kwargs):  # type: ignore[no-untyped-def]
            submits.append((args[1], kwargs))
            return super().submit(func, *args, **kwargs)

    monkeypatch.setattr(distributed, "Client", Client)
    progress: list[tuple[int, int]] = []
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        run = run_experiment(spec, base, tmp_path / "dask", cache_dir=cache_dir,
                             scheduler=address,
                             progress=lambda done, total: progress.append((done, total)))
    assert run.timings["replications_simulated"] == 4 and run.replications == 2
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    ours, theirs = load_results(local.out), load_results(run.out)
    for name, table in ours.items():
        assert len(table) > 0
        pd.testing.assert_frame_equal(theirs[name], table, obj=name)
    # one connection with a 20 s timeout; the world shipped to every worker once; each chunk
    # its own task (not merged with another by its arguments)
    assert len(connects) == 1 and list(connects[0][1]) == ["timeout"]
    assert parse_timedelta(connects[0][1]["timeout"]) == 20
    assert scatters == [{"broadcast": True}]
    assert sorted(chunk.name for chunk, _ in submits) == sorted(
        f"{p}__plan__base__r{r:05d}-{r:05d}" for p in ("current", "fewer") for r in (0, 1))
    assert [kwargs for _, kwargs in submits] == [{"pure": False}] * 4


def test_dask_errors_name_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import distributed

    from sim.batch import Chunk, _dask
    from sim.errors import ReliefsimError

    def refuse(address: str, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(distributed, "Client", refuse)
    stream = _dask(None, {}, 1, [Chunk("a", 0, 1)], "tcp://10.0.0.9:8786")  # type: ignore
    with pytest.raises(ReliefsimError) as err:
        next(stream)
    assert str(err.value) == "--scheduler tcp://10.0.0.9:8786: cannot connect (connection refused)"
    monkeypatch.setitem(sys.modules, "distributed", None)  # not installed
    with pytest.raises(ReliefsimError) as err:
        next(_dask(None, {}, 1, [], "tcp://10.0.0.9:8786"))  # type: ignore[arg-type]
    assert str(err.value) == "--scheduler needs dask[distributed] installed"


def test_the_scheduler_timeout_comes_from_the_environment(monkeypatch) -> None:
    from sim.batch import scheduler_timeout_s
    from sim.errors import ReliefsimError

    monkeypatch.delenv("RELIEFSIM_SCHEDULER_TIMEOUT_S", raising=False)
    assert scheduler_timeout_s() == 20.0
    monkeypatch.setenv("RELIEFSIM_SCHEDULER_TIMEOUT_S", "2.5")
    assert scheduler_timeout_s() == 2.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        monkeypatch.setenv("RELIEFSIM_SCHEDULER_TIMEOUT_S", bad)
        with pytest.raises(ReliefsimError, match="RELIEFSIM_SCHEDULER_TIMEOUT_S"):
            scheduler_timeout_s()


def test_variants_set_every_disruption_share_and_placements_refuse_a_shelter_twice(
        default_data: dict) -> None:
    """A variant's ``disruption_share`` is the share of every disruption; a placement adding
    a shelter whose id exists is refused, naming the id."""
    from sim.errors import ScenarioError
    from sim.experiment import configurations

    base = parse_scenario(default_data)
    assert len(base.disruptions) == 2
    spec = experiment([{"name": "current"}], replications=1,
                      variants=[{"name": "half", "disruption_share": 0.3}])
    (config,) = configurations(spec, base)
    assert [d.share for d in config.scenario.disruptions] == [0.3, 0.3]
    again = experiment([{"name": "more", "add_shelters": [
        {**default_data["shelters"][0], "name": "again"}]}], replications=1)
    with pytest.raises(ScenarioError, match="add_shelters: shelter id 'ressu_school' already "
                                            "exists"):
        configurations(again, base)


def test_the_manifest_keeps_versions_and_a_mixed_folder_names_both_hashes(
        tmp_path: Path, cache_dir: Path, default_data: dict) -> None:
    """The results folder records the package versions; resuming it with another experiment
    is refused with the hash it holds and the new one; a resume that simulates nothing
    spends no simulation time."""
    import json

    from sim.errors import ReliefsimError
    from sim.experiment import experiment_hash

    base = parse_scenario(default_data)
    spec = experiment([{"name": "current"}], replications=1, chunk_size=1)
    run = run_experiment(spec, base, tmp_path / "out", cache_dir=cache_dir)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    assert {"numpy", "simpy"} <= set(manifest["versions"])
    again = run_experiment(spec, base, tmp_path / "out", cache_dir=cache_dir, resume=True)
    assert again.timings["replications_simulated"] == 0
    assert 0.0 <= again.timings["simulate_s"] < 0.5
    other = experiment([{"name": "current"}], replications=1, chunk_size=1, master_seed=7)
    with pytest.raises(ReliefsimError) as refused:
        run_experiment(other, base, tmp_path / "out", cache_dir=cache_dir, resume=True)
    assert manifest["experiment_hash"] == run.hash
    assert run.hash in str(refused.value) and experiment_hash(other, base) in str(refused.value)
