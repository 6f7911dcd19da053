"""Never lose a user's files, never accept nonsense silently (issue #13): output folders,
numeric domains, pre-run warnings, workload limits, interrupted experiments, permissions,
strict JSON and precise messages — each as a user meets them on the command line."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.files import MARKER
from sim.scenario import parse_scenario
from sim.workload import EVENTS_PER_INCIDENT, estimate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "helsinki_storm.yaml"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("safety-cache"))


@pytest.fixture
def base() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with a hash of its content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def umask() -> Iterator[Any]:
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


# -- --out never deletes or renames what reliefsim did not write --------------------------------


def test_run_refuses_a_user_folder_and_leaves_it_untouched(tmp_path: Path, cache: str) -> None:
    mine = tmp_path / "my_documents"
    mine.mkdir()
    (mine / "plan.docx").write_bytes(b"draft")
    (mine / "notes").mkdir()
    (mine / "notes" / "a.txt").write_text("keep", encoding="utf-8")
    before = snapshot(mine)
    result = invoke("run", str(DEFAULT), "--out", str(mine), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "is not empty and is not a reliefsim results folder" in result.output
    assert "never deletes or replaces files it did not write" in result.output
    assert snapshot(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_documents"]  # no temp left


def test_run_out_dot_refuses_the_working_directory(tmp_path: Path, cache: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "networks").mkdir()
    (tmp_path / "networks" / "cache.pkl").write_bytes(b"precious")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = invoke("run", str(DEFAULT), "--out", ".", "--cache-dir", cache)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert snapshot(tmp_path) == before


def test_run_refuses_an_existing_file_as_out(tmp_path: Path, cache: str) -> None:
    target = tmp_path / "results.csv"
    target.write_text("mine", encoding="utf-8")
    result = invoke("run", str(DEFAULT), "--out", str(target), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "is an existing file, not a folder" in result.output
    assert target.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]  # no .old rename


def test_rerun_replaces_only_its_own_files(tmp_path: Path, cache: str) -> None:
    out = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache,
                  "--seed", "3").exit_code == 0
    own = set(json.loads((out / MARKER).read_text(encoding="utf-8"))["files"])
    assert {"summary.json", "kpis.csv", "relief.parquet"} <= own
    (out / "my_note.txt").write_text("keep me", encoding="utf-8")
    first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache,
                  "--seed", "4").exit_code == 0
    assert (out / "my_note.txt").read_text(encoding="utf-8") == "keep me"
    second = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (first["seed"], second["seed"]) == (3, 4)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_failed_rewrite_keeps_the_previous_results(tmp_path: Path, cache: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    before = snapshot(out)
    import sim.results

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sim.results, "write_json", broken)
    result = invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache, "--seed", "9")
    assert result.exit_code == 2 and "error: disk full" in result.output  # one message
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_report_and_gis_never_replace_a_user_file(tmp_path: Path, cache: str) -> None:
    out = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    theirs = tmp_path / "report.html"
    theirs.write_text("their report", encoding="utf-8")
    result = invoke("report", str(out), "--out", str(theirs), "--cache-dir", cache)
    assert result.exit_code == 2 and "was not written by reliefsim" in result.output
    assert theirs.read_text(encoding="utf-8") == "their report"
    gpkg = tmp_path / "layers.gpkg"
    gpkg.write_bytes(b"not ours")
    assert invoke("gis", str(out), "--out", str(gpkg), "--cache-dir", cache).exit_code == 2
    assert gpkg.read_bytes() == b"not ours"
    ours = tmp_path / "drafts" / "gis.gpkg"  # a file reliefsim wrote may be rewritten
    for _ in range(2):
        assert invoke("gis", str(out), "--out", str(ours), "--cache-dir", cache).exit_code == 0
    assert sorted(p.name for p in ours.parent.iterdir()) == [MARKER, "gis.gpkg"]


# -- numbers with a domain, booleans that are not numbers --------------------------------------


@pytest.mark.parametrize(("path", "value", "message"), [
    ("settlements.0.people", True, "settlements[0].people: True — expected a number, not "
                                   "true/false"),
    ("settlements.0.people", 10**12, "settlements[0].people: 1000000000000 — expected less "
                                     "than or equal to 100000000"),
    ("depots.0.trucks.capacity_kg", float("inf"), "depots[0].trucks.capacity_kg: inf — "
                                                  "expected a finite number"),
    ("horizon_h", 1e7, "horizon_h: 10000000.0 — expected less than or equal to 8760"),
    ("generators.0.rate_per_h", 1e9, "generators[0].rate_per_h: 1000000000.0 — expected less "
                                     "than or equal to 1000"),
    ("depots.0.stock.kit", True, "depots[0].stock: {'kit': True, 'quilt': 600, 'tent': 100} — "
                                 "expected a number at 'kit', not true/false"),
    ("commodities.0.main", 1, "commodities[0].main: 1 — expected true or false"),
])
def test_out_of_domain_numbers_exit_2_with_one_message(
        tmp_path: Path, cache: str, base: dict[str, Any], path: str, value: Any,
        message: str) -> None:
    data = copy.deepcopy(base)
    node: Any = data
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[leaf] = value
    scenario = write(tmp_path / "s.yaml", data)
    out = tmp_path / "out"
    result = invoke("run", str(scenario), "--out", str(out), "--cache-dir", cache)
    assert result.exit_code == 2
    assert f"error: {scenario}: {message}" in result.output.replace("\n", "")
    assert not out.exists()


@pytest.mark.parametrize("seed", ["-1", str(2**63), "abc"])
def test_bad_seeds_are_refused_by_the_command_line(tmp_path: Path, seed: str) -> None:
    result = CliRunner().invoke(app, ["run", str(DEFAULT), "--seed", seed, "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 2 and "--seed" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_replications_out_of_domain_write_no_manifest(tmp_path: Path, cache: str) -> None:
    (tmp_path / "base.yaml").write_text(DEFAULT.read_text(encoding="utf-8"), encoding="utf-8")
    experiment = write(tmp_path / "e.yaml", {"name": "e", "base": "base.yaml",
                                             "replications": 10**9,
                                             "placements": [{"name": "current"}]})
    out = tmp_path / "out"
    result = invoke("compare", str(experiment), "--out", str(out), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "replications: 1000000000 — expected less than or equal to 100000" in result.output
    assert not out.exists()


# -- warnings before the run: relief that cannot happen ---------------------------------------


def test_validate_warns_about_relief_that_cannot_happen(tmp_path: Path, cache: str,
                                                        base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    for depot in data["depots"]:
        depot["stock"].pop("tent", None)
        depot.get("production_per_h", {}).pop("tent", None)
    data["depots"][0]["trucks"]["capacity_kg"] = 1
    data["depots"][1]["trucks"]["count"] = 0
    data["settlements"][0]["onset_h"] = data["horizon_h"]
    data["team_bases"][1]["teams"].append({"type": "medcal", "count": 1})
    result = invoke("validate", str(write(tmp_path / "s.yaml", data)), "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", "")
    assert "commodities[2] (tent): no depot holds or produces it, so nobody can get effective " \
        "relief" in text
    assert "depots[0].trucks.capacity_kg: 1 kg cannot carry one unit of kit (6 kg)" in text
    assert f"depots[1] ({data['depots'][1]['id']}) holds stock but has no trucks" in text
    assert "settlements[0].onset_h: 48 h is not before horizon_h (48 h)" in text
    assert "team_bases[1].teams[1].type: 'medcal' — no incident type needs this team type" \
        in text and "did you mean 'medical'?" in text


def test_no_trucks_at_all_is_warned(tmp_path: Path, cache: str, base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    for depot in data["depots"]:
        depot["trucks"]["count"] = 0
    result = invoke("validate", str(write(tmp_path / "s.yaml", data)), "--cache-dir", cache)
    assert result.exit_code == 0
    assert "no depot has trucks (depots[*].trucks.count): no relief can be delivered" in \
        result.output.replace("\n", "")


def test_the_shipped_scenarios_warn_only_about_what_they_mean(cache: str) -> None:
    """Both scenarios flood one of their own depots on purpose (a stress test of relief)."""
    expected = {"nanjing_xuanwu_flood.yaml": [
        "warning: depots[1] (hanzhongmen_street) lies inside the closure area "
        "'hanzhongmen_underpass_waterlogged' (1 h–9 h): it may be cut off or unusable"],
                "helsinki_storm.yaml": [
        "warning: depots[2] (makasiinit_county) lies inside the closure area "
        "'harbour_underpass_flooded' (0.5 h–8 h): it may be cut off or unusable"]}
    for name, warnings in expected.items():
        result = invoke("validate", str(ROOT / "scenarios" / name), "--cache-dir", cache)
        assert result.exit_code == 0
        found = [line for line in result.output.replace("\n", " ").split("warning: ")[1:]]
        assert [f"warning: {w.split(' ok ')[0].split('服务范围')[0].strip()}"
                for w in found] == warnings, name
        assert "服务范围（属地）" in result.output


# -- work beyond the limits needs --yes -------------------------------------------------------


def test_workload_estimate_counts_expected_incidents(base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["horizon_h"] = 10.0
    data["incidents"] = data["incidents"][:2]
    for inc in data["incidents"]:
        inc["time_h"] = 1.0
    data["generators"] = [{**data["generators"][0], "rate_per_h": 3.0,
                           "window": {"start_h": 4.0, "end_h": 20.0}}]
    work = estimate(parse_scenario(data))
    assert work.incidents == 2 + 3.0 * (10.0 - 4.0)
    assert work.events >= work.incidents * EVENTS_PER_INCIDENT


def test_a_run_estimated_beyond_the_limits_needs_yes(tmp_path: Path, cache: str,
                                                    base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["horizon_h"] = 8760
    data["generators"][0]["rate_per_h"] = 1000
    data["generators"][0]["window"] = {"start_h": 0}
    scenario = write(tmp_path / "s.yaml", data)
    out = tmp_path / "out"
    started = time.monotonic()
    result = invoke("run", str(scenario), "--out", str(out), "--cache-dir", cache)
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    text = result.output.replace("\n", "")
    assert "is estimated at" in text and "add --yes to run it anyway" in text
    assert not out.exists()


# -- interrupted experiments: no orphans, nothing that blocks the next run --------------------


def small_experiment(folder: Path, replications: int = 12) -> Path:
    base = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    base["horizon_h"] = 24
    write(folder / "base.yaml", base)
    return write(folder / "experiment.yaml", {
        "name": "safety", "base": "base.yaml", "replications": replications, "master_seed": 5,
        "chunk_size": 1, "placements": [
            {"name": "current"},
            {"name": "central", "add": [{"id": "central", "tier": "county",
                                         "location": [24.9409, 60.1687],
                                         "stock": {"kit": 3000}, "trucks": {"count": 2}}]}]})


def compare_cmd(experiment: Path, out: Path, cache: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "compare", str(experiment), "--out", str(out),
            "--cache-dir", cache, *extra]


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(c) for c in text}
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_a_failed_scheduler_leaves_nothing_behind(tmp_path: Path, cache: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELIEFSIM_SCHEDULER_TIMEOUT_S", "2")  # (20 by default)
    experiment = small_experiment(tmp_path, replications=2)
    out = tmp_path / "out"
    result = invoke("compare", str(experiment), "--out", str(out), "--cache-dir", cache,
                    "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "cannot connect" in result.output
    assert not out.exists()
    assert invoke("compare", str(experiment), "--out", str(out), "--cache-dir",
                  cache).exit_code == 0


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_compare_leaves_no_orphans_and_resumes_identically(
        tmp_path: Path, cache: str, sig: signal.Signals) -> None:
    experiment = small_experiment(tmp_path)
    reference = tmp_path / "reference"
    assert invoke("compare", str(experiment), "--out", str(reference), "--cache-dir",
                  cache).exit_code == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen(compare_cmd(experiment, out, cache, "--workers", "2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("*.kpis.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    workers = children(proc.pid)
    assert len(workers) >= 2, "the pool's worker processes"
    os.kill(proc.pid, sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "--resume" in stderr
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers):
        assert time.monotonic() < deadline, "orphaned workers still running"
        time.sleep(0.1)
    done = len(list((out / "chunks").glob("*.kpis.parquet")))
    assert 0 < done < 24, "interrupted part-way"
    resumed = subprocess.run(compare_cmd(experiment, out, cache, "--resume"),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    for name in ("replications.parquet", "summary.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(reference / name),
                                      pd.read_parquet(out / name))


# -- permissions follow the umask --------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outputs_follow_the_umask(tmp_path: Path, cache: str, umask: Any, mask: int) -> None:
    umask(mask)
    run_dir = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(run_dir), "--cache-dir", cache).exit_code == 0
    experiment = small_experiment(tmp_path, replications=2)
    assert invoke("compare", str(experiment), "--out", str(tmp_path / "exp"), "--cache-dir",
                  cache).exit_code == 0
    assert invoke("gis", str(run_dir), "--cache-dir", cache).exit_code == 0
    for root in (run_dir, tmp_path / "exp"):
        for path in [root, *root.rglob("*")]:
            want = (0o777 if path.is_dir() else 0o666) & ~mask
            assert stat.S_IMODE(path.stat().st_mode) == want, path


# -- strict JSON, censored results -------------------------------------------------------------


def test_summary_is_strict_json_and_counts_people_never_relieved(
        tmp_path: Path, cache: str, base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    far = data["settlements"][0]
    far["onset_h"] = data["horizon_h"] - 0.01  # appears just before the end: nobody reaches it
    out = tmp_path / "run"
    assert invoke("run", str(write(tmp_path / "s.yaml", data)), "--out", str(out),
                  "--cache-dir", cache).exit_code == 0

    def strict(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"),
                         parse_constant=strict)
    initial = next(k for k in summary["kpis"] if k["kpi"] == "initial_relief")
    assert initial["never"] >= far["people"]
    assert initial["max"] is None  # inf becomes null; "never" says how many
    relief = pd.read_parquet(out / "relief.parquet")
    served = relief[relief.initial_h < float("inf")]
    assert initial["mean"] == pytest.approx(
        (served.initial_h * served.people).sum() / served.people.sum())
    assert initial["never"] == relief[relief.initial_h == float("inf")].people.sum()


# -- precise messages --------------------------------------------------------------------------


def test_errors_name_the_field_that_points_to_the_network(tmp_path: Path, cache: str,
                                                          base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["network"]["source"] = "nowhere.osm"
    scenario = write(tmp_path / "s.yaml", data)
    result = invoke("validate", str(scenario), "--cache-dir", cache)
    assert result.exit_code == 2
    assert f"{scenario}: network.source: " in result.output and "nowhere.osm" in result.output
    data["network"]["source"] = "ftp://example.org/x.osm"
    result = invoke("validate", str(write(tmp_path / "s.yaml", data)), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "unknown scheme 'ftp:'" in result.output.replace("\n", "")


def test_experiment_errors_are_one_short_line(tmp_path: Path, cache: str) -> None:
    experiment = small_experiment(tmp_path)
    data = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    data["baseline"] = "nowhere"
    result = invoke("validate", str(write(experiment, data)), "--cache-dir", cache)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(" ".join(lines)) < 300, result.output
    assert "baseline 'nowhere' is not a placement" in " ".join(lines)


def test_messages_keep_their_brackets_and_end_with_a_newline(tmp_path: Path,
                                                             base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["settlements"][0]["location"] = [200, 100]
    scenario = write(tmp_path / "s.yaml", data)
    result = subprocess.run([sys.executable, "-m", "sim", "validate", str(scenario),
                             "--schema-only"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "expected [lon, lat] with lon in -180..180" in result.stderr.replace("\n", "")
    assert result.stderr.endswith("\n") and "Traceback" not in result.stderr


def test_validate_checks_an_experiment_and_every_placement(tmp_path: Path, cache: str) -> None:
    experiment = small_experiment(tmp_path)
    data = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    data["placements"][1]["add"][0]["location"] = [10.0, 50.0]
    result = invoke("validate", str(write(experiment, data)), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "placement 'central': depots[" in result.output and "outside the network's area" \
        in result.output.replace("\n", "")


def test_a_variant_that_breaks_a_domain_names_placement_and_variant(tmp_path: Path,
                                                                    cache: str) -> None:
    experiment = small_experiment(tmp_path)
    data = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    data["variants"] = [{"name": "huge", "demand_scale": 1000}]
    base = yaml.safe_load((tmp_path / "base.yaml").read_text(encoding="utf-8"))
    base["settlements"][0]["people"] = 500_000
    write(tmp_path / "base.yaml", base)
    result = invoke("validate", str(write(experiment, data)), "--cache-dir", cache)
    assert result.exit_code == 2
    assert "placements[0] with variants[0] (huge): settlements[0].people: 500000000 — " \
        "expected less than or equal to 100000000" in result.output.replace("\n", "")


def test_an_experiment_estimated_beyond_the_limits_needs_yes(tmp_path: Path,
                                                             cache: str) -> None:
    experiment = small_experiment(tmp_path)
    base = yaml.safe_load((tmp_path / "base.yaml").read_text(encoding="utf-8"))
    base["generators"][0]["rate_per_h"] = 100
    write(tmp_path / "base.yaml", base)
    data = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    data["replications"] = 100_000
    out = tmp_path / "out"
    result = invoke("compare", str(write(experiment, data)), "--out", str(out), "--cache-dir",
                    cache)
    assert result.exit_code == 2
    text = result.output.replace("\n", "")
    assert "is estimated at ≈ 5,873,184,000 simulation events (16.3 h on one core)" in text
    assert "add --yes" in text
    assert not out.exists()


def test_results_written_before_markers_existed_are_still_ours(tmp_path: Path,
                                                               cache: str) -> None:
    out = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    assert invoke("gis", str(out), "--cache-dir", cache).exit_code == 0
    (out / MARKER).unlink()  # as an older reliefsim left it: summary.json, no marker
    assert invoke("gis", str(out), "--cache-dir", cache).exit_code == 0
    (out / MARKER).unlink()
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    assert (out / MARKER).exists() and (out / "results.gpkg").exists()


# -- review findings: outputs through links, '.', edits, stale files, other people's manifests --


def test_compare_never_deletes_a_users_manifest(tmp_path: Path, cache: str) -> None:
    experiment = small_experiment(tmp_path, replications=2)
    mine = tmp_path / "userdir"
    mine.mkdir()
    (mine / "manifest.json").write_text('{"my": "notes"}', encoding="utf-8")
    before = snapshot(mine)
    result = invoke("compare", str(experiment), "--out", str(mine), "--cache-dir", cache)
    assert result.exit_code == 2 and "not a reliefsim results folder" in result.output
    assert snapshot(mine) == before


def test_out_dot_in_an_empty_folder_and_out_through_a_link(
        tmp_path: Path, cache: str, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "emptyhere"
    here.mkdir()
    monkeypatch.chdir(here)
    for _ in range(2):  # and again into its own results
        assert invoke("run", str(DEFAULT), "--out", ".", "--cache-dir", cache).exit_code == 0
    assert (here / "summary.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    real.mkdir()
    assert invoke("run", str(DEFAULT), "--out", str(link), "--cache-dir", cache).exit_code == 0
    assert link.is_symlink() and (real / "summary.json").exists()
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "nowhere")
    result = invoke("run", str(DEFAULT), "--out", str(broken), "--cache-dir", cache)
    assert result.exit_code == 2 and "broken symbolic link" in result.output


def test_an_edited_output_is_never_overwritten(tmp_path: Path, cache: str) -> None:
    ledger = tmp_path / "desk" / "台账.xlsx"
    assert invoke("export-ledger", str(DEFAULT), "--out", str(ledger)).exit_code == 0
    assert invoke("export-ledger", str(DEFAULT), "--out", str(ledger)).exit_code == 0  # ours
    from openpyxl import load_workbook

    book = load_workbook(ledger)
    book.worksheets[0]["B2"] = "PLANNER-EDIT"
    book.save(ledger)
    edited = ledger.read_bytes()
    result = invoke("export-ledger", str(DEFAULT), "--out", str(ledger))
    assert result.exit_code == 2 and "has changed since reliefsim wrote it" in result.output
    assert ledger.read_bytes() == edited


def test_a_rerun_removes_its_stale_outputs_but_keeps_edited_ones(tmp_path: Path,
                                                                 cache: str) -> None:
    out = tmp_path / "run"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    assert invoke("gis", str(out), "--cache-dir", cache).exit_code == 0
    assert invoke("report", str(out), "--cache-dir", cache).exit_code == 0
    (out / "report_zh.html").write_text("my notes on the old run", encoding="utf-8")
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache,
                  "--seed", "8").exit_code == 0
    assert not (out / "results.gpkg").exists()  # derived from the old run: removed
    assert (out / "report_zh.html").read_text(encoding="utf-8") == "my notes on the old run"


def test_legacy_results_stay_usable_after_gis(tmp_path: Path, cache: str) -> None:
    out = tmp_path / "legacy"
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0
    (out / MARKER).unlink()
    assert invoke("gis", str(out), "--cache-dir", cache).exit_code == 0
    assert invoke("run", str(DEFAULT), "--out", str(out), "--cache-dir", cache).exit_code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_place_is_refused_before_any_work(tmp_path: Path, cache: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = invoke("run", str(DEFAULT), "--out", str(locked / "run"), "--cache-dir", cache)
    assert result.exit_code == 2 and "permission denied" in result.output


def test_a_month_of_calls_that_outpace_the_teams_needs_yes(tmp_path: Path, cache: str,
                                                          base: dict[str, Any]) -> None:
    """Dispatch cost grows with incidents × backlog; a linear estimate let this run for
    hours without asking."""
    data = copy.deepcopy(base)
    data["horizon_h"] = 168
    for g in data["generators"]:
        if g["type"] == "road_traffic":
            g["rate_per_h"], g["window"] = 1000, {"start_h": 0}
    result = invoke("run", str(write(tmp_path / "s.yaml", data)), "--out",
                    str(tmp_path / "out"), "--cache-dir", cache)
    assert result.exit_code == 2 and "add --yes" in result.output.replace("\n", "")
