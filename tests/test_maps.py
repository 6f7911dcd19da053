"""The static plan map (sim.maps, issue #18): furniture, names, legends and the grey style,
on the embedded Nanjing scenario and the Wuhan extract."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.glossary import MAP_LABELS, label
from sim.maps import LABEL_GID, NORTH_GID, relief_map
from sim.model.disruptions import disruption_edges
from sim.run import run_replication
from sim.scenario import dump_scenario, load_scenario, parse_scenario
from sim.world import World, build_world

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NANJING = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"
ID_FIELDS = ("settlements", "depots", "team_bases", "water_stations", "helipads", "shelters",
             "disruptions", "hazard_zones")


def closed_edges(world: World, seed: int) -> np.ndarray:
    edges = [disruption_edges(world, d, seed, 0) for d in world.scenario.disruptions
             if d.factor is None]
    return np.unique(np.concatenate(edges)) if edges else np.zeros(0, dtype=int)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("maps-cache")


@pytest.fixture(scope="module")
def nanjing(cache_dir: Path) -> tuple[World, Any, np.ndarray]:
    world = build_world(load_scenario(NANJING), cache_dir=cache_dir)
    result = run_replication(world)
    return world, result.relief, closed_edges(world, result.seed)


def drawn(fig: Any) -> Any:
    fig.canvas.draw()
    return fig


@pytest.fixture(scope="module")
def maps(nanjing: tuple[World, Any, np.ndarray]) -> Iterator[dict[str, Any]]:
    import matplotlib.pyplot as plt

    world, relief, closed = nanjing
    figures = {"zh": drawn(relief_map(world, relief, closed, "zh")),
               "en": drawn(relief_map(world, relief, closed, "en")),
               "grey": drawn(relief_map(world, relief, closed, "zh", grey=True))}
    figures["zh"].savefig("/tmp/map_zh.png", dpi=300, bbox_inches="tight")
    figures["grey"].savefig("/tmp/map_grey.png", dpi=300, bbox_inches="tight")
    yield figures
    for fig in figures.values():
        plt.close(fig)


def texts(fig: Any) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def legend_texts(fig: Any) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def labels(fig: Any) -> list[Any]:
    return [t for t in fig.axes[0].texts if t.get_gid() == LABEL_GID]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_has_scale_bar_north_arrow_attribution_and_degree_ticks(maps: dict[str, Any],
                                                                    lang: str) -> None:
    from matplotlib_scalebar.scalebar import ScaleBar

    fig, t = maps[lang], MAP_LABELS[lang]
    ax = fig.axes[0]
    assert any(isinstance(a, ScaleBar) for a in ax.get_children())
    north = [a for a in ax.texts if a.get_gid() == NORTH_GID]
    assert [a.get_text() for a in north] == [{"zh": "北", "en": "N"}[lang]]
    attribution = {"zh": "© OpenStreetMap 贡献者", "en": "© OpenStreetMap contributors"}
    assert t["attribution"] == attribution[lang] and attribution[lang] in texts(fig)
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert ax.yaxis.get_offset_text().get_text() == ""
    xticks = [x.get_text() for x in ax.get_xticklabels() if x.get_text()]
    yticks = [y.get_text() for y in ax.get_yticklabels() if y.get_text()]
    assert len(xticks) >= 3 and all(x.endswith("°E") and x.startswith("118.") for x in xticks)
    assert len(yticks) >= 2 and all(y.endswith("°N") and y.startswith("32.") for y in yticks)
    assert ax.get_title() == "" and fig._suptitle is None  # the caller adds the caption
    lat = np.mean(ax.get_ylim())
    assert ax.get_aspect() == pytest.approx(1 / math.cos(math.radians(lat)), rel=0.01)


def test_labels_are_the_scenario_names_and_no_id_is_shown(maps: dict[str, Any],
                                                          nanjing: tuple[World, Any, Any]
                                                          ) -> None:
    scenario = nanjing[0].scenario
    fig = maps["zh"]
    shown = sorted(t.get_text() for t in labels(fig))
    named = sorted(x.name for field in ("settlements", "depots", "team_bases",
                                         "water_stations", "helipads")
                   for x in getattr(scenario, field))
    assert shown == named
    ids = {x.id for field in ID_FIELDS for x in getattr(scenario, field)}
    words = texts(fig)
    assert not [(i, w) for i in ids for w in words if i in w]


@pytest.mark.parametrize("key", ["zh", "en", "grey"])
def test_labels_do_not_overlap_and_stay_on_the_map(maps: dict[str, Any], key: str,
                                                    nanjing: tuple[World, Any, Any]) -> None:
    fig, scenario = maps[key], nanjing[0].scenario
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels(fig)]
    frame = fig.axes[0].get_window_extent(renderer)
    assert len(boxes) == sum(len(getattr(scenario, field)) for field in (
        "settlements", "depots", "team_bases", "water_stations", "helipads")) == 17
    touching = [(labels(fig)[i].get_text(), labels(fig)[j].get_text())
                for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                if boxes[i].overlaps(boxes[j])]
    assert touching == []
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in boxes)


def test_legend_names_closures_with_their_window_tiers_and_sits_beside_the_map(
        maps: dict[str, Any]) -> None:
    fig = maps["zh"]
    entries = legend_texts(fig)
    assert "汉中门下穿通道积水封闭（第1–9小时）" in entries
    assert "交通中断路段" in entries
    assert "河流、运河" in entries
    assert {label("tier", tier, "zh") for tier in ("village", "town", "county", "enterprise",
                                                    "city")} <= set(entries)
    assert "村（社区）级储备点" in entries and "县（区）级储备库" in entries
    assert {"500人", "1000人"} <= set(entries)
    assert "服务范围（本级储备点属地）" in entries
    assert "(h 1–9)" in " ".join(legend_texts(maps["en"]))
    renderer = fig.canvas.get_renderer()
    frame = fig.axes[0].get_window_extent(renderer)
    for legend in fig.legends:
        assert not legend.get_window_extent(renderer).overlaps(frame)
    colourbar = fig.axes[1]
    ticks = [t.get_text() for t in colourbar.get_xticklabels()]
    assert "目标8" in ticks  # the initial-relief target on the colour bar
    assert "小时" in colourbar.get_xlabel()


def colours(fig: Any) -> list[tuple[float, ...]]:
    """Every colour the figure's artists (and its colour maps) paint with."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import to_rgba_array
    from matplotlib_scalebar.scalebar import ScaleBar

    found: list[Any] = []
    for artist in fig.findobj():
        if isinstance(artist, ScalarMappable) and artist.get_array() is not None:
            found.append(artist.get_cmap()(np.linspace(0, 1, 32)))
        if isinstance(artist, ScaleBar):
            found += [to_rgba_array(artist.get_color()), to_rgba_array(artist.get_box_color())]
            continue
        for getter in ("get_facecolor", "get_edgecolor", "get_color", "get_markerfacecolor",
                       "get_markeredgecolor"):
            value = getattr(artist, getter, None)
            if value is None:
                continue
            colour = value()
            if isinstance(colour, str) and colour == "none":
                continue
            array = to_rgba_array(colour)
            if len(array):
                found.append(array)
    return [tuple(c) for array in found for c in array]


def saturation(rgba: tuple[float, ...]) -> float:
    return max(rgba[:3]) - min(rgba[:3])


def test_grey_style_paints_only_greys(maps: dict[str, Any]) -> None:
    grey = colours(maps["grey"])
    assert len(grey) > 50
    assert max(saturation(c) for c in grey) <= 0.02
    assert max(saturation(c) for c in colours(maps["zh"])) > 0.5  # the check sees colour


def test_hazard_zones_near_closures_and_never_relieved_settlements(
        nanjing: tuple[World, Any, np.ndarray]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, Polygon

    world, relief, _ = nanjing
    data = dump_scenario(world.scenario)
    data["hazard_zones"] = [{"id": "lowland", "name": "秦淮河沿岸低洼区", "kind": "flood",
                             "polygon": [[118.790, 32.034], [118.797, 32.034],
                                         [118.797, 32.040], [118.790, 32.040]]}]
    data["disruptions"].append({"id": "collapse_cordon", "name": "房屋倒塌警戒区",
                                "window": {"start_h": 2.5, "end_h": None},
                                "near": [118.7850, 32.0440], "radius_m": 150})
    other = world.with_scenario(parse_scenario(data))
    relief = relief.copy()
    relief.loc[relief.settlement == "jiuzhong", "initial_h"] = math.inf
    fig = drawn(relief_map(other, relief, closed_edges(other, 7), "zh"))
    try:
        entries = legend_texts(fig)
        assert "洪涝（内涝）风险区：秦淮河沿岸低洼区" in entries
        assert "房屋倒塌警戒区（第2.5小时起）" in entries
        assert "受灾点（安置点）：模拟期内未获初步救助" in entries
        ax = fig.axes[0]
        assert any(isinstance(p, Ellipse) for p in ax.patches)
        assert sum(isinstance(p, Polygon) for p in ax.patches) == 2
        never = [c for c in ax.collections if c.get_gid() == "never"]
        assert len(never) == 1 and len(never[0].get_offsets()) == 1
        assert "第九中学片区" in [t.get_text() for t in labels(fig)]
    finally:
        plt.close(fig)


def test_wuhan_extract_maps_without_waterways_and_nanjing_draws_its_rivers(
        shared_data: Path, cache_dir: Path, maps: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    river = [c for c in maps["zh"].axes[0].collections if c.get_gid() == "water"]
    assert len(river) == 1 and len(river[0].get_segments()) > 20
    red, _, blue, _ = to_rgba(river[0].get_colors()[0])
    assert blue > red + 0.3  # blue

    osm = shared_data / "osm" / "wuhan_optics_valley.osm"
    if not osm.is_file():
        pytest.skip(f"reference OSM extract not found: {osm}")
    scenario = parse_scenario({
        "name": "武汉光谷暴雨（测试）", "seed": 3, "horizon_h": 24,
        "network": {"source": str(osm), "snap_warn_m": 1000},
        "commodities": [{"id": "kit", "name": "食品饮用水包", "unit_kg": 6}],
        "depots": [{"id": "guanggu_street", "name": "关东街道储备点", "tier": "town",
                    "location": [114.512, 30.484], "stock": {"kit": 3000}},
                   {"id": "district", "name": "东湖高新区应急物资储备库", "tier": "county",
                    "location": [114.530, 30.488], "stock": {"kit": 6000}}],
        "settlements": [{"id": "s1", "name": "光谷广场片区", "location": [114.505, 30.481],
                         "people": 800},
                        {"id": "s2", "name": "关山社区", "location": [114.522, 30.485],
                         "people": 1200},
                        {"id": "s3", "name": "珞喻东路片区", "location": [114.533, 30.480],
                         "people": 500}],
        "disruptions": [{"id": "underpass", "name": "珞喻路下穿通道积水",
                         "window": {"start_h": 0, "end_h": 6},
                         "near": [114.515, 30.483], "radius_m": 200}],
    })
    world = build_world(scenario, cache_dir=cache_dir)
    assert world.water is None  # the extract has no waterway=river/canal
    result = run_replication(world)
    fig = drawn(relief_map(world, result.relief, closed_edges(world, result.seed), "zh"))
    try:
        ax = fig.axes[0]
        assert not [c for c in ax.collections if c.get_gid() == "water"]
        assert "河流、运河" not in legend_texts(fig)
        assert "珞喻路下穿通道积水（第0–6小时）" in legend_texts(fig)
        assert {t.get_text() for t in labels(fig)} >= {"光谷广场片区", "关山社区", "珞喻东路片区"}
        assert all(x.get_text().endswith("°E") and x.get_text().startswith("114.")
                   for x in ax.get_xticklabels() if x.get_text())
    finally:
        plt.close(fig)
