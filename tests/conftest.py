"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

#: Reference data for tests (CI has it at ../shared); never copied into the repository.
#: ``RELIEFSIM_SHARED_DATA`` points elsewhere (mutation testing runs from a copy of the repo).
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
