"""Fuzzing the scenario and experiment loaders with mutations of the shipped files: any mutation
either validates (and then runs) or exits 2 with one message — never a traceback, never longer
than a few seconds — and the user's folder is left as it was."""

from __future__ import annotations

import copy
import hashlib
import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app

pytestmark = pytest.mark.slow  # minutes under mutation testing; covers the loaders, not the model

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "helsinki_storm.yaml"
EXPERIMENT = ROOT / "experiments" / "helsinki_depot_sites.yaml"
SECONDS = 5.0
"""'A few seconds': the most one command on a mutated file may take."""

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-5, 5), max_size=2),
    st.sampled_from([0, -1, 1e308, -0.0, 5e-324, 2**70, "1e9", "[1, 2]", "builtin:x", 1e7,
                     [0, 0], [200, 100], "", "::", {"dist": "uniform"}]))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a YAML document: keys of mappings and items of lists."""
    found = []
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def mutate(document: Any, data: st.DataObject) -> Any:
    """One to three random edits: delete, replace by an odd value, rename a key (typo),
    duplicate a list item, or add an unknown key."""
    doc = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        places = paths(doc)
        if not places:
            break
        where = data.draw(st.sampled_from(places), label="path")
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        key = where[-1]
        action = data.draw(st.sampled_from(["delete", "replace", "replace", "rename",
                                            "duplicate", "unknown"]), label="action")
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = data.draw(ODD_VALUES, label="value")
        elif action == "rename" and isinstance(parent, dict):
            parent[str(key)[:-1] + "x"] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif action == "unknown" and isinstance(parent[key], dict):
            parent[key]["stok"] = 1
    return doc


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def check(args: list[str], folder: Path, written: Path) -> int:
    """Run one command: exit 0 or 2 with one message, in time, folder untouched."""
    before = {k: v for k, v in snapshot(folder).items() if k != written.name}
    started = time.monotonic()
    result = CliRunner().invoke(app, args)
    took = time.monotonic() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args[0]} raised on {written.read_text(encoding='utf-8')}"
                             ) from result.exception
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("error: "), result.output
    assert took < SECONDS, f"{args[0]} took {took:.1f} s"
    after = {k: v for k, v in snapshot(folder).items() if k != written.name}
    assert after == before, "the user's folder changed"
    return result.exit_code


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "notes.txt").write_text("the user's own file", encoding="utf-8")
    cache = str(tmp_path_factory.mktemp("fuzz-cache"))
    # the experiment's base scenario beside it, as shipped
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / SCENARIO.name).write_text(SCENARIO.read_text("utf-8"), "utf-8")
    CliRunner().invoke(app, ["validate", str(SCENARIO), "--cache-dir", cache])  # warm cache
    return folder, cache


def safe_dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


FUZZ = settings(deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
"""Deterministic in CI; a fixture shared across examples (the folder is checked each time)."""


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_mutated_scenarios_validate_or_exit_2(workspace: tuple[Path, str],
                                              data: st.DataObject) -> None:
    folder, cache = workspace
    document = mutate(yaml.safe_load(SCENARIO.read_text(encoding="utf-8")), data)
    written = folder / "scenario.yaml"
    written.write_text(safe_dump(document), encoding="utf-8")
    code = check(["validate", str(written), "--cache-dir", cache], folder, written)
    if code == 0 and isinstance(document, dict) and _short(document):
        # valid: it must also run (into a folder of its own) or refuse with one message
        out = folder.parent / f"{folder.name}-run"
        check(["run", str(written), "--out", str(out), "--cache-dir", cache], folder, written)


def _short(document: dict[str, Any]) -> bool:
    """Runs are checked where they take well under a second (short horizons)."""
    horizon = document.get("horizon_h", 72)
    return isinstance(horizon, int | float) and not isinstance(horizon, bool) and \
        math.isfinite(horizon) and horizon <= 48


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_mutated_experiments_validate_or_exit_2(workspace: tuple[Path, str],
                                                data: st.DataObject) -> None:
    folder, cache = workspace
    shipped = yaml.safe_load(EXPERIMENT.read_text(encoding="utf-8"))
    shipped.setdefault("variants", [{"name": "wet", "demand_scale": 1.5, "stock_scale": 0.8,
                                     "disruption_share": 0.3}])
    document = mutate(shipped, data)
    written = folder / "experiments" / "experiment.yaml"
    written.parent.mkdir(exist_ok=True)
    written.write_text(safe_dump(document), encoding="utf-8")
    check(["validate", str(written), "--cache-dir", cache], folder, written)
