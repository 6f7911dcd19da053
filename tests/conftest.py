"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import Phase, settings

# Mutation testing (tools/mutation.py) only needs to know that a test fails: no shrinking, no
# example database shared between mutants, and the same examples every run (derandomized), so
# that a mutant is never "killed" by a rare example the clean run did not draw.
settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          database=None, derandomize=True)

#: Reference data for tests (CI has it at ../shared); never copied into the repository.
#: ``RELIEFSIM_SHARED_DATA`` points elsewhere (mutation testing runs from a copy of the repo).
# Command output is read at a fixed width, whatever runs the tests (a terminal, a pipe, or a
# pytest-xdist worker, where rich cannot see a terminal and would fold tables at 80 columns).
os.environ.setdefault("COLUMNS", "250")

SHARED_DATA = Path(os.environ.get("RELIEFSIM_SHARED_DATA")
                   or Path(__file__).resolve().parents[1].parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; skips the test when the reference data is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared is absent)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def load_test_network(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., object]:
    """``load(name, kind="road")`` for "nanjing_xuanwu", "wuhan_optics_valley" or "helsinki";
    prepared once per session (cache in a tmp dir); skips when ../shared is absent."""
    from sim.network import load_network

    cache_dir = tmp_path_factory.mktemp("network-cache")
    loaded: dict[tuple[str, str], object] = {}

    def load(name: str, kind: str = "road") -> object:
        if (name, kind) not in loaded:
            if name == "helsinki":
                source: str | Path = "builtin:helsinki"
            else:
                source = SHARED_DATA / "osm" / f"{name}.osm"
                if not source.is_file():
                    pytest.skip(f"reference OSM extract not found: {source}")
            loaded[(name, kind)] = load_network(source, cache_dir=cache_dir, kind=kind)
        return loaded[(name, kind)]

    return load


@pytest.fixture
def write_osm(tmp_path: Path) -> Callable[..., Path]:
    """``write_osm(nodes, ways, name="t.osm")``: a small OSM XML file in ``tmp_path``.

    ``nodes``: {id: (lon, lat)}; ``ways``: [(way_id, [node ids], {tag: value})].
    """

    def write(nodes: dict[int, tuple[float, float]],
              ways: list[tuple[int, list[int], dict[str, str]]], name: str = "t.osm") -> Path:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
        lines += [f'  <node id="{i}" lon="{lon}" lat="{lat}"/>' for i, (lon, lat) in nodes.items()]
        for way_id, refs, tags in ways:
            lines.append(f'  <way id="{way_id}">')
            lines += [f'    <nd ref="{r}"/>' for r in refs]
            lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            lines.append("  </way>")
        lines.append("</osm>")
        path = tmp_path / name
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def nanjing_scenario() -> object:
    """The shipped Nanjing scenario (its network, builtin:nanjing, ships with the package)."""
    from sim.scenario import load_scenario

    return load_scenario(Path(__file__).resolve().parents[1] / "scenarios"
                         / "nanjing_xuanwu_flood.yaml")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The embedded Helsinki scenario on its network (modules place their own scenarios on
    it with ``world.with_scenario``)."""
    from sim.validation import default_world

    return default_world(tmp_path_factory.mktemp("world-cache"))


@pytest.fixture(scope="session")
def nodes(world: object) -> list[list[float]]:
    """Road node coordinates of the Helsinki network (a site placed there snaps onto it)."""
    net = world.road  # type: ignore[attr-defined]
    return [[float(net.lon[i]), float(net.lat[i])] for i in range(net.n_nodes)]


@pytest.fixture
def rebuilt_from(tmp_path: Path) -> Callable[..., tuple[dict, dict]]:
    """``rebuilt_from(original, source, sheets)``: import each section of the workbook or
    GeoPackage ``source`` (sheet or layer per section) into ``original`` stripped of those
    sections (and of the incidents that need their teams), put the incidents back, and return
    both scenarios' dumps (team order within a base normalised: one header row orders the team
    columns of every base alike, and that order means nothing — ties go by unit name)."""
    import yaml
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.scenario import dump_scenario, load_scenario

    def rebuild(original: dict, source: Path, sheets: dict[str, str]) -> tuple[dict, dict]:
        def write(name: str, data: dict) -> Path:
            path = tmp_path / name
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            return path

        kept = ("incidents", "generators")
        target = write("rebuilt.yaml", {k: v for k, v in original.items()
                                        if k not in (*sheets, *kept)})
        for section, sheet in sheets.items():
            if original.get(section):
                result = CliRunner().invoke(app, ["import", section, str(source), "--sheet",
                                                  sheet, "--into", str(target)])
                assert result.exit_code == 0, result.output
        rebuilt = yaml.safe_load(target.read_text(encoding="utf-8"))
        rebuilt.update({k: original[k] for k in kept if k in original})
        dumps = (dump_scenario(load_scenario(write("rebuilt.yaml", rebuilt))),
                 dump_scenario(load_scenario(write("original.yaml", original))))
        for data in dumps:
            for base in data["team_bases"]:
                base["teams"].sort(key=lambda g: g["type"])
        return dumps

    return rebuild
