"""Experiments: CRN, determinism across backends, kill + resume, refusing to mix, statistics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.batch import load_results, run_experiment
from sim.compare import finish_experiment
from sim.errors import ReliefsimError, ScenarioError
from sim.experiment import load_experiment
from sim.stats import bootstrap_ci, p_best, paired_difference, t_ci

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("experiment-cache")


def small_experiment(directory: Path, *, replications: int = 4, chunk_size: int = 2,
                     **extra: object) -> Path:
    """Two placements of the embedded default over 24 h, written next to its base."""
    base = yaml.safe_load((ROOT / "scenarios" / "helsinki_storm.yaml").read_text("utf-8"))
    base["horizon_h"] = 24
    (directory / "base.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    spec = {
        "name": "test", "base": "base.yaml", "replications": replications,
        "master_seed": 11, "chunk_size": chunk_size, "baseline": "current",
        "placements": [
            {"name": "current"},
            {"name": "central", "add": [{
                "id": "central", "tier": "county", "location": [24.9409, 60.1687],
                "stock": {"kit": 3000, "quilt": 2500, "tent": 600},
                "trucks": {"count": 2, "capacity_kg": 6000}}]},
        ],
        **extra,
    }
    path = directory / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    return path


def run(path: Path, out: Path, cache_dir: Path, **kwargs: object) -> pd.DataFrame:
    experiment, base = load_experiment(path)
    finished = run_experiment(experiment, base, out, cache_dir=cache_dir, **kwargs)
    finish_experiment(finished, cache_dir=cache_dir)
    return pd.read_parquet(out / "replications.parquet")


def test_shipped_experiments_validate() -> None:
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        experiment, _ = load_experiment(path)
        assert len(experiment.placements) >= 2 or experiment.factors, path  # compare or vary


def test_bad_experiment_messages(tmp_path: Path) -> None:
    path = small_experiment(tmp_path)
    spec = yaml.safe_load(path.read_text("utf-8"))
    spec["placements"][1]["move"] = {"nowhere_depot": [24.94, 60.17]}
    spec["kpi"] = "initial_relif"
    path.write_text(yaml.safe_dump(spec), "utf-8")
    with pytest.raises(ScenarioError, match="kpi 'initial_relif' unknown"):
        load_experiment(path)
    spec["kpi"] = "initial_relief"
    path.write_text(yaml.safe_dump(spec), "utf-8")
    with pytest.raises(ScenarioError, match=r"placements\[1\]\.move\.nowhere_depot: unknown depot"):
        load_experiment(path)


@pytest.mark.slow
def test_same_numbers_on_one_and_two_workers_and_dask(tmp_path: Path, cache_dir: Path) -> None:
    path = small_experiment(tmp_path)
    one = run(path, tmp_path / "one", cache_dir, workers=1)
    two = run(path, tmp_path / "two", cache_dir, workers=2)
    pd.testing.assert_frame_equal(one, two)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        dask = run(path, tmp_path / "dask", cache_dir, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(one, dask)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one" / "summary.parquet"),
                                  pd.read_parquet(tmp_path / "dask" / "summary.parquet"))
    local, remote = load_results(tmp_path / "one"), load_results(tmp_path / "dask")
    for name, table in local.items():
        pd.testing.assert_frame_equal(table, remote[name], obj=name)
    assert len(one) == 4 * 2 * one.kpi.nunique()


def test_placements_see_identical_incident_streams(tmp_path: Path, cache_dir: Path) -> None:
    path = small_experiment(tmp_path)
    run(path, tmp_path / "out", cache_dir)
    incidents = load_results(tmp_path / "out")["incidents"]
    streams = {cfg: g[["replication", "incident", "type", "call_h"]].sort_values(
        ["replication", "incident"]).reset_index(drop=True) for cfg, g in
        incidents.groupby("config")}
    first, *others = streams.values()
    assert len(streams) == 2 and len(first) > 0
    for other in others:
        pd.testing.assert_frame_equal(first, other)
    per_rep = first.groupby("replication").call_h.apply(tuple)
    assert per_rep.nunique() == len(per_rep)  # replications differ from each other


def test_results_are_a_few_files_and_each_example_run_reads_as_its_own_run(
        tmp_path: Path, cache_dir: Path) -> None:
    """Chunks are folded (one file per table) and the example runs of all configurations
    share one folder, yet ``runs/CONFIG`` reads exactly as a run saved on its own."""
    from sim.experiment import configurations
    from sim.figures import read_run
    from sim.run import run_replication, save_run
    from sim.world import build_world

    path = small_experiment(tmp_path, replications=3, chunk_size=1)
    out = tmp_path / "out"
    run(path, out, cache_dir)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert [f for f in files if f.startswith("chunks")] == [
        f"chunks/all.{name}.parquet" for name in ("incidents", "kpis", "relief", "resources")]
    examples = [f for f in files if f.startswith("runs")]
    assert "runs/examples.json" in examples and not any(f.count("/") > 1 for f in examples)
    assert len(files) <= 50

    experiment, base = load_experiment(path)
    world = build_world(base, cache_dir=cache_dir)
    for config in configurations(experiment, base):
        placed = world.with_scenario(config.scenario)
        alone = tmp_path / f"alone-{config.id}"
        save_run(alone, placed, run_replication(placed, seed=experiment.master_seed,
                                                replication=0))
        summary, scenario, tables = read_run(out / "runs" / config.id)
        summary_alone, scenario_alone, tables_alone = read_run(alone)
        assert scenario == scenario_alone and sorted(tables) == sorted(tables_alone)
        for key in ("seed", "replication", "kpis", "resources", "scenario_hash"):
            assert summary[key] == summary_alone[key], key
        for name, table in tables_alone.items():
            pd.testing.assert_frame_equal(tables[name], table, check_dtype=False, obj=name)
    with pytest.raises(ReliefsimError, match="not a run directory"):
        read_run(out / "runs" / "no_such_configuration")
    # the commands that take a results folder (figures, report, gis) take an example run too
    from sim.cli import _results

    first = configurations(experiment, base)[0].id
    assert _results(out / "runs" / first) == out / "runs" / first
    with pytest.raises(ReliefsimError, match="not found"):
        _results(tmp_path / "nowhere" / first)


def test_refuses_to_mix_or_overwrite(tmp_path: Path, cache_dir: Path) -> None:
    path = small_experiment(tmp_path, replications=2)
    run(path, tmp_path / "out", cache_dir)
    experiment, base = load_experiment(path)
    with pytest.raises(ReliefsimError, match="--resume"):
        run_experiment(experiment, base, tmp_path / "out", cache_dir=cache_dir)
    changed = small_experiment(tmp_path, replications=3)
    experiment, base = load_experiment(changed)
    with pytest.raises(ReliefsimError, match="different experiment"):
        run_experiment(experiment, base, tmp_path / "out", cache_dir=cache_dir, resume=True)


def _compare_cmd(path: Path, out: Path, cache_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "compare", str(path), "--out", str(out),
            "--cache-dir", str(cache_dir), *extra]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_run_resumes_to_identical_results(tmp_path: Path, cache_dir: Path,
                                                 sig: signal.Signals) -> None:
    path = small_experiment(tmp_path, replications=8, chunk_size=1)
    reference = run(path, tmp_path / "reference", cache_dir)
    out = tmp_path / "killed"
    # (a shell's background job ignores Ctrl-C, and so would the child: give it back)
    proc = subprocess.Popen(_compare_cmd(path, out, cache_dir), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("*.kpis.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "--resume" in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    done = len(list((out / "chunks").glob("*.kpis.parquet")))
    assert 0 < done < 16, "the run must be interrupted part-way"
    again = subprocess.run(_compare_cmd(path, out, cache_dir), capture_output=True, text=True)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = subprocess.run(_compare_cmd(path, out, cache_dir, "--resume"), capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(reference, pd.read_parquet(out / "replications.parquet"))
    assert not list((out / "chunks").glob(".*.tmp"))
    keys = load_results(out)["kpis"][["config", "replication", "kpi"]]
    assert not keys.duplicated().any()


def _largest_half_width(out: Path, replications: int) -> float:
    """The stopping rule by hand: the widest t half-width of the mean initial relief over
    configurations, on the first ``replications``."""
    kpis = load_results(out)["kpis"]
    rows = kpis[(kpis.kpi == "initial_relief") & (kpis.n > 0)
                & (kpis.replication < replications)]
    return max(t_ci(g["mean"].to_numpy()).half_width for _, g in rows.groupby("config"))


def test_sequential_adds_replications_until_precise(tmp_path: Path, cache_dir: Path) -> None:
    # Never precise enough: stops at the cap, having simulated every batch once.
    capped = small_experiment(tmp_path, replications=2, sequential={
        "half_width": 1e-6, "batch": 2, "max_replications": 6}, statistic="mean")
    experiment, base = load_experiment(capped)
    done = run_experiment(experiment, base, tmp_path / "capped", cache_dir=cache_dir)
    assert done.replications == 6 and done.timings["replications_simulated"] == 2 * 6
    width = {k: _largest_half_width(tmp_path / "capped", k) for k in (2, 4, 6)}
    # (here about 5.15, 0.75 and 0.47 h: the contract no-show moves the mean by 0.8 h)
    assert width[2] > width[4] > width[6] > 1e-6
    # A target between two successive half-widths stops at exactly the first count that
    # meets it, below the cap (8): after 2, 4 or 6 replications.
    for target, expected in [(width[2] * 1.01, 2), ((width[2] + width[4]) / 2, 4),
                             ((width[4] + width[6]) / 2, 6)]:
        path = small_experiment(tmp_path, replications=2, sequential={
            "half_width": target, "batch": 2, "max_replications": 8}, statistic="mean")
        experiment, base = load_experiment(path)
        got = run_experiment(experiment, base, tmp_path / f"stop{expected}",
                             cache_dir=cache_dir)
        assert got.replications == expected, (target, width)
        assert got.timings["replications_simulated"] == 2 * expected
        assert load_results(got.out)["kpis"].replication.max() == expected - 1


# -- statistics -------------------------------------------------------------------------------


def test_t_interval_covers_a_known_mean_at_its_nominal_rate() -> None:
    """Normal data, n = 10: the t interval covers 95 %; a z interval (1.96 · s/√n) only
    P(|T_9| < 1.96) = 91.8 %. With 4000 trials the coverage has binomial sd
    √(0.95 · 0.05 / 4000) = 0.34 %: the band [94 %, 96 %] is ±2.9 sd (a correct interval
    fails it for ≈ 0.4 % of seeds; this seed is fixed) and z lies 6.5 sd below it."""
    rng = np.random.default_rng(1)
    trials, hits = 4000, 0
    for x in rng.normal(2.0, 3.0, size=(trials, 10)):
        ci = t_ci(x)
        hits += ci.low <= 2.0 <= ci.high
    assert 0.94 <= hits / trials <= 0.96


def test_bootstrap_interval_of_a_share_covers_the_true_share() -> None:
    """Percentile bootstrap of a mean share, n = 25 from Beta(8, 2): its coverage is known to
    fall short of 95 % at this n; 20 000 trials measured 93.0 %. With 2000 trials (binomial sd
    0.57 %) the band [91.2 %, 94.8 %] is ±3.2 sd; a 90 % interval (tails of 1 − level instead
    of (1 − level)/2) covers ≈ 87 % and falls outside."""
    rng = np.random.default_rng(2)
    trials, hits = 2000, 0
    for _ in range(trials):
        ci = bootstrap_ci(rng.beta(8, 2, size=25), resamples=1000)  # mean 0.8
        hits += ci.low <= 0.8 <= ci.high
    assert 0.912 <= hits / trials <= 0.948


def test_paired_difference_and_p_best() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(10, 3, size=40)  # shared noise (CRN)
    a, b = common, common - 0.5 + rng.normal(0, 0.1, size=40)
    diff = paired_difference(b, a)
    # paired: half-width ≈ 2.02 · 0.1/√40 = 0.032; unpaired it would be ≈ 1.3
    assert diff.low < -0.5 < diff.high and diff.half_width < 0.05 and diff.high < 0
    assert diff.mean == pytest.approx(float(np.mean(b - a)), abs=1e-12)
    assert paired_difference(a, b).mean == pytest.approx(-diff.mean, abs=1e-12)
    # b is lower in every paired resample (0.5 against noise of sd 0.1/√40)
    assert p_best({"a": a, "b": b}, lower_is_better=True) == {"a": 0.0, "b": 1.0}
    assert p_best({"a": a, "b": b}, lower_is_better=False) == {"a": 1.0, "b": 0.0}


def test_compare_precision_from_the_command_line(tmp_path: Path, cache_dir: Path) -> None:
    """``--precision`` adds chunks until the widest half-width meets it (or the maximum), says
    what it reached, and the manifest and report keep it."""
    import json

    from typer.testing import CliRunner

    from sim.cli import app
    from sim.report import write_report

    path = small_experiment(tmp_path, replications=2, statistic="mean")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "compare", str(path), "--out", str(out), "--precision", "1e-6",
        "--max-replications", "6", "--cache-dir", str(cache_dir), "--lang", "en"],
        env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == 6  # never that precise: stopped at the maximum
    reached = _largest_half_width(out, 6)
    assert manifest["precision"] == {"half_width": pytest.approx(reached), "goal": 1e-6,
                                     "max_replications": 6}
    assert f"half-width {reached:.4g} h after 6 replications" in result.output
    assert "not met" in result.output
    report = write_report(out, tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert f"±{reached:.4g} h (goal ±1e-06 h)" in report
    bad = CliRunner().invoke(app, ["compare", str(path), "--out", str(tmp_path / "x"),
                                   "--max-replications", "6"])
    assert bad.exit_code == 2 and "applies with --precision only" in bad.output
