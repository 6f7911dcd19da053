"""The static map for plan drafts (issue #18): roads by class, rivers, closures and hazard
zones with their time windows, service areas, depots by tier, bases, and settlements sized by
people and coloured by the time of their last person's initial relief.

``relief_map(world, relief, closed_edges, lang, grey=False)`` returns a matplotlib figure
with no title (the caller adds a numbered caption), the colour bar and legends below the map
(the figure fits a portrait page), a scale bar, a north arrow, degree ticks and the
OpenStreetMap attribution. Labels are the
scenario's names, moved apart with ``adjustText``. ``grey=True`` prints well in greyscale:
greys, hatches and marker shapes instead of colour. Words come from
:data:`sim.glossary.MAP_LABELS`.

``life_circle_map(world, frame, lang)`` is the map of the 15-minute life-support circle: the
walking network's footways, the ways within the limit's walk of a stockpile point (and of a
shelter with room), and settlements coloured by their walking minutes to the nearest
stockpile point (``frame`` from :func:`sim.walking.life_circle`), ringed when a shelter is
within the limit; words from :data:`sim.glossary.WALK_LABELS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import ReliefsimError
from sim.fonts import use_cjk_font
from sim.glossary import MAP_LABELS, WALK_LABELS, label
from sim.scenario import TIERS
from sim.walking import WALK_KMH

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LABEL_GID", "NORTH_GID", "life_circle_map", "relief_map"]

LABEL_GID = "map-label"
"""``gid`` of the name labels (settlements and facilities) on the map."""
NORTH_GID = "north-arrow"
"""``gid`` of the north arrow's letter."""

_M_PER_DEG = 6_371_009.0 * math.pi / 180.0

MAJOR_ROADS = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                         "primary_link"})
MEDIUM_ROADS = frozenset({"secondary", "secondary_link", "tertiary", "tertiary_link"})

# -- layout (inches) ----------------------------------------------------------------------
_MAP_W, _MAP_MAX_H = 6.0, 6.0
"""The map's width (height when the area is taller than wide): the figure fits a portrait
page (A4, 156 mm of text) at about full size."""
_LEFT, _BOTTOM, _TOP, _RIGHT = 0.75, 0.05, 0.1, 0.15
_GAP, _ROW_GAP = 0.14, 0.5
_CBAR_H, _CBAR_MAX_W = 0.13, 3.0
_FONT = 8.0
_DEPOT_SIZE, _FACILITY_SIZE, _SETTLEMENT_SIZE = 70.0, 55.0, 320.0
"""Marker areas (pt²); a settlement's grows with its people up to the largest one's."""
_DASHES = (0, (4, 2))
_CLOSURE_HATCHES = ("///", "xxx", "---", "|||", "+++", "///...")
_SLOWDOWN_HATCHES = ("...", "ooo", "***")
_ZONE_HATCHES = ("\\\\\\", "...", "ooo", "|||", "---")
"""Hatches of closure areas, slow-down areas and hazard zones, one per area in turn."""


@dataclass(frozen=True)
class _Style:
    roads: tuple[tuple[str, float], tuple[str, float], tuple[str, float]]
    """(colour, line width) of major, medium and minor roads."""
    water: dict[str, Any]
    closed: dict[str, Any]
    closure_area: dict[str, Any]
    slowdown_area: dict[str, Any]
    hazard: dict[str, dict[str, Any]]
    service: str | None
    """One colour for every service line; None: the depot tier's colour."""
    tier_colour: dict[str, str]
    tier_marker: dict[str, str]
    facilities: dict[str, tuple[str, str]]
    """Marker and face colour of team bases, water stations and helipads."""
    cmap: Any
    never: str


def _truncated(name: str, low: float, high: float) -> Any:
    from matplotlib import colormaps
    from matplotlib.colors import LinearSegmentedColormap

    base = colormaps[name]
    return LinearSegmentedColormap.from_list(f"{name}_{low}_{high}",
                                             base(np.linspace(low, high, 256)))


def _fill(rgb: tuple[float, float, float], alpha: float, edge_alpha: float, lw: float,
          ls: str = "-") -> dict[str, Any]:
    """A translucent area whose outline (and hatch) is the same colour, more opaque."""
    return {"facecolor": (*rgb, alpha), "edgecolor": (*rgb, edge_alpha), "lw": lw, "ls": ls}


def _style(grey: bool) -> _Style:
    roads = (("#555555", 1.7), ("#8a8a8a", 1.0), ("#c4c4c4", 0.45))
    if grey:
        return _Style(
            roads=roads,
            water={"color": "0.45", "lw": 1.3, "ls": (0, (6, 1.5, 1, 1.5))},
            closed={"color": "0.0", "lw": 2.6, "ls": (0, (2.5, 1))},
            closure_area=_fill((0.15, 0.15, 0.15), 0.12, 0.85, 0.9),
            slowdown_area=_fill((0.35, 0.35, 0.35), 0.08, 0.7, 0.8, "--"),
            hazard={"flood": _fill((0.4, 0.4, 0.4), 0.1, 0.7, 0.8),
                    "": _fill((0.3, 0.3, 0.3), 0.1, 0.7, 0.8)},
            service="0.3",
            tier_colour=dict(zip(TIERS, ("1.0", "0.75", "0.4", "0.9", "0.15", "0.6", "0.95"),
                                 strict=True)),
            tier_marker=dict(zip(TIERS, ("s", "D", "p", "h", "8", "H", "d"), strict=True)),
            facilities={"team_bases": ("^", "1.0"), "water_stations": ("v", "0.6"),
                        "helipads": ("P", "0.3")},
            cmap=_truncated("Greys", 0.12, 0.88), never="0.0")
    return _Style(
        roads=roads,
        water={"color": "#3d8fd1", "lw": 1.6, "ls": "-"},
        closed={"color": "#d62728", "lw": 2.8, "ls": "-"},
        closure_area=_fill((0.84, 0.15, 0.16), 0.12, 0.75, 0.9),
        slowdown_area=_fill((0.9, 0.5, 0.05), 0.1, 0.7, 0.8, "--"),
        hazard={"flood": _fill((0.12, 0.47, 0.71), 0.12, 0.7, 0.8),
                "": _fill((0.55, 0.34, 0.29), 0.12, 0.7, 0.8)},
        service=None,
        tier_colour=dict(zip(TIERS, ("#1b9e77", "#7570b3", "#2166ac", "#a6761d", "#e7298a",
                                     "#4d4d4d", "#66a61e"), strict=True)),
        tier_marker=dict.fromkeys(TIERS, "s"),
        facilities={"team_bases": ("^", "#ffffff"), "water_stations": ("v", "#3d8fd1"),
                    "helipads": ("P", "#525252")},
        cmap=_truncated("YlOrRd", 0.15, 0.95), never="#000000")


# -- helpers ------------------------------------------------------------------------------


def _hours(value: float) -> str:
    return f"{value:g}"


def _window(t: dict[str, str], window: Any, factor: float | None = None) -> str:
    start, end = _hours(window.start_h), window.end_h
    if factor is None:
        return (t["window"].format(start=start, end=_hours(end)) if end is not None
                else t["window_open"].format(start=start))
    return (t["window_slow"].format(start=start, end=_hours(end), factor=_hours(factor))
            if end is not None else t["window_slow_open"].format(start=start,
                                                                  factor=_hours(factor)))


def _segments(net: Any, edges: np.ndarray | None = None) -> np.ndarray:
    """Line segments (n × 2 × 2, lon/lat) of ``edges`` (all when None), each undirected pair
    once."""
    u, v = np.asarray(net.edge_u), np.asarray(net.edge_v)
    if edges is not None:
        u, v = u[edges], v[edges]
    pairs = np.unique(np.sort(np.column_stack([u, v]), axis=1), axis=0) if len(u) else \
        np.zeros((0, 2), dtype=int)
    a, b = pairs[:, 0], pairs[:, 1]
    return np.stack([np.column_stack([net.lon[a], net.lat[a]]),
                     np.column_stack([net.lon[b], net.lat[b]])], axis=1)


def _nice_refs(largest: float, smallest: float) -> list[int]:
    """Two or three round reference sizes (1-2-5 steps) for the people legend."""
    nice = [m * 10 ** k for k in range(0, 8) for m in (1, 2, 5)]
    below = [n for n in nice if n <= largest] or [nice[0]]
    refs = below[-3:]
    while len(refs) > 2 and refs[0] < smallest / 2:
        refs = refs[1:]
    return refs


def _degree_formatter(t: dict[str, str], axis: str, step: float) -> Any:
    from matplotlib.ticker import FuncFormatter

    decimals = next((d for d in range(8) if abs(round(step, d) - step) < 1e-9 * max(step, 1)),
                    4)
    positive, negative = ((t["east"], t["west"]) if axis == "x"
                          else (t["north_lat"], t["south_lat"]))

    def fmt(value: float, _pos: Any = None) -> str:
        return f"{abs(value):.{decimals}f}{positive if value >= 0 else negative}"

    return FuncFormatter(fmt)


def _hour_ticks() -> Any:
    """Tick steps natural for hours (1, 2, 3, 4, 6, 12, 24 …)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(6, steps=[1, 2, 3, 4, 6, 10])


def _halo(width: float = 2.2) -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


# -- the map ------------------------------------------------------------------------------

_Entries = list[tuple[Any, str]]
"""Legend entries: (handle, text)."""
_Labelled = list[tuple[float, float, str, bool, float]]
"""Named markers: lon, lat, name, settlement?, marker area (pt²)."""


def _checked(lang: str) -> str:
    if lang not in MAP_LABELS or not MAP_LABELS[lang]:
        raise ReliefsimError(f"lang: {lang!r} — expected one of {sorted(MAP_LABELS)}")
    return lang


@contextmanager
def _canvas() -> Iterator[tuple[Any, Any, Any]]:
    """A map figure (map axes and colour-bar axes) in the maps' style, CJK font loaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_cjk_font()
    with plt.rc_context({"font.size": _FONT, "axes.grid": False, "axes.spines.top": True,
                         "axes.spines.right": True, "hatch.linewidth": 0.6}):
        fig = plt.figure(figsize=(9.0, 6.0))
        yield fig, fig.add_axes((0.1, 0.1, 0.6, 0.8)), fig.add_axes((0.75, 0.1, 0.02, 0.8))


def relief_map(world: Any, relief: pd.DataFrame, closed_edges: np.ndarray, lang: str, *,
               grey: bool = False) -> Figure:
    """The plan map of one run (see the module docstring); returns the figure.

    ``relief``: the person-relief table (settlement, initial_h, effective_h, people; inf =
    never relieved in the horizon). ``closed_edges``: indices of the road edges that the
    run's closures close."""
    t, style = MAP_LABELS[_checked(lang)], _style(grey)
    cos_lat = math.cos(math.radians(float(np.mean(world.road.lat))))
    with _canvas() as (fig, ax, cax):
        entries: _Entries = []
        _networks(ax, world, np.asarray(closed_edges, dtype=int), style, t, entries)
        _areas(ax, world.scenario, cos_lat, style, t, entries)
        _service_lines(ax, world, style, t, entries)
        labelled = _facilities(ax, world, style, t, lang, entries)
        settled, mappable, refs = _settlements(ax, world, relief, style, t, entries)
        labelled = settled + labelled
        _finish(fig, ax, cax, world, (mappable, float(world.scenario.targets.initial_relief_h)),
                labelled, entries, refs, style, cos_lat, t)
    return fig


def life_circle_map(world: Any, frame: pd.DataFrame, lang: str, *, grey: bool = False
                    ) -> Figure:
    """The 15-minute life-support circle on the plan map (see the module docstring).

    ``frame``: :func:`sim.walking.life_circle` of ``world`` (its ``attrs["minutes"]`` is the
    limit). Without a walking network (``frame.attrs["basis"] == "road"``) the legend says
    that people walk on the roads."""
    minutes = float(frame.attrs.get("minutes", world.scenario.targets.life_circle_min))
    walk = WALK_LABELS[_checked(lang)]
    t = {**MAP_LABELS[lang], "relief_time": walk["walk_minutes"]}
    style = _style(grey)
    cos_lat = math.cos(math.radians(float(np.mean(world.road.lat))))
    with _canvas() as (fig, ax, cax):
        entries: _Entries = []
        _networks(ax, world, np.zeros(0, dtype=int), style, t, entries)
        _walk_circles(ax, world, minutes, float(frame.attrs.get("kmh", WALK_KMH)), grey,
                      walk, entries)
        labelled = _facilities(ax, world, style, t, lang, entries)
        labelled += _shelters(ax, world, grey, walk, entries)
        settled, mappable, refs = _walk_settlements(ax, world, frame, minutes, style, grey,
                                                    walk, entries)
        labelled = settled + labelled
        if frame.attrs.get("basis") == "road":
            from matplotlib.lines import Line2D

            entries.append((Line2D([], [], ls=""), walk["basis_road"]))
        _finish(fig, ax, cax, world, (mappable, minutes), labelled, entries, refs, style,
                cos_lat, t)
    return fig


def _walk_circles(ax: Any, world: Any, minutes: float, kmh: float, grey: bool,
                  walk: dict[str, str], entries: _Entries) -> None:
    """The walking network's footways, and its ways within ``minutes`` of a stockpile point
    (a physical depot) and of a shelter with room, as broad translucent bands."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from scipy.sparse.csgraph import dijkstra

    from sim.osm import PEDESTRIAN_WAYS
    from sim.walking import _graph, shelter_room, walk_network, walk_nodes

    net = walk_network(world)
    if getattr(world, "walk", None) is not None:
        foot = np.flatnonzero(np.isin(net.edge_highway, sorted(PEDESTRIAN_WAYS)))
        if len(foot):
            look = {"colors": "0.35" if grey else "#8c6d31", "linewidths": 0.6}
            ax.add_collection(LineCollection(_segments(net, foot), linestyles=[(0, (2, 1.5))],
                                             zorder=2.4, gid="footways", **look))
            entries.append((Line2D([], [], color=look["colors"], lw=0.8, ls=(0, (2, 1.5))),
                            walk["footways"]))
    graph = _graph(net, getattr(world, "memo", None))
    reach_m = minutes / 60.0 * kmh * 1000.0
    scenario = world.scenario
    groups = (([d.id for d in scenario.depots if d.kind == "physical"], "stockpile_circle",
               ("0.82", 7.0) if grey else ("#c2e699", 7.0), 1.5),
              ([s.id for s in scenario.shelters if shelter_room(s) > 0], "shelter_circle",
               ("0.55", 2.6) if grey else ("#92c5de", 2.6), 1.6))
    for ids, key, (colour, width), z in groups:
        if not ids:
            continue
        dist = dijkstra(graph, directed=False, indices=np.unique(walk_nodes(world, ids)),
                        min_only=True, limit=reach_m * (1 + 1e-9))
        inside = np.isfinite(dist)
        edges = np.flatnonzero(inside[net.edge_u] & inside[net.edge_v])
        if not len(edges):
            continue
        ax.add_collection(LineCollection(_segments(net, edges), colors=colour,
                                         linewidths=width, capstyle="round", zorder=z,
                                         gid=key))
        entries.append((Line2D([], [], color=colour, lw=width),
                        walk[key].format(m=f"{minutes:g}")))


def _shelters(ax: Any, world: Any, grey: bool, walk: dict[str, str], entries: _Entries
              ) -> _Labelled:
    """Shelters with room (stars)."""
    from matplotlib.lines import Line2D

    from sim.walking import shelter_room

    shelters = [s for s in world.scenario.shelters if shelter_room(s) > 0]
    if not shelters:
        return []
    face = "0.85" if grey else "#4393c3"
    sites = [world.sites[s.id] for s in shelters]
    ax.scatter([x.lon for x in sites], [x.lat for x in sites], marker="*", s=_DEPOT_SIZE * 1.6,
               c=face, edgecolors="k", linewidths=0.7, zorder=6, gid="shelters")
    entries.append((Line2D([], [], ls="", marker="*", ms=math.sqrt(_DEPOT_SIZE * 1.6),
                           mfc=face, mec="k", mew=0.7), walk["shelter"]))
    return [(x.lon, x.lat, s.name or s.id, False, _DEPOT_SIZE * 1.6)
            for x, s in zip(sites, shelters, strict=True)]


def _walk_settlements(ax: Any, world: Any, frame: pd.DataFrame, minutes: float,
                      style: _Style, grey: bool, walk: dict[str, str], entries: _Entries
                      ) -> tuple[_Labelled, Any, list[tuple[int, float]]]:
    """Settlements sized by people, coloured by walking minutes to the nearest stockpile
    point (a cross when none is reachable), ringed when a shelter is within ``minutes``."""
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    scenario = world.scenario
    rows = frame.set_index("settlement")
    people = np.array([s.people for s in scenario.settlements], dtype=float)
    scale = _SETTLEMENT_SIZE / (float(people.max()) if len(people) else 1.0)

    def area(n: float) -> float:
        return max(scale * n, 14.0)

    value = np.array([float(rows.stockpile_min.get(s.id, math.inf))
                      for s in scenario.settlements])
    ringed = np.array([bool(rows.shelter_within.get(s.id, False))
                       for s in scenario.settlements])
    finite = np.isfinite(value)
    top = max(float(value[finite].max()) if finite.any() else 0.0, minutes) * 1.08
    ticks = _hour_ticks().tick_values(0, top)
    norm = Normalize(0.0, float(ticks[ticks >= top - 1e-9][0]))
    places = [world.sites[s.id] for s in scenario.settlements]
    lon, lat = np.array([p.lon for p in places]), np.array([p.lat for p in places])
    sizes = np.array([area(n) for n in people])
    ring = "0.0" if grey else "#2166ac"
    edge = [ring if r else "k" for r in ringed[finite]]
    widths = [2.4 if r else 0.7 for r in ringed[finite]]
    mappable = ax.scatter(lon[finite], lat[finite], s=sizes[finite], c=value[finite],
                          cmap=style.cmap, norm=norm, edgecolors=edge, linewidths=widths,
                          zorder=5, gid="settlements")
    if (~finite).any():
        ax.scatter(lon[~finite], lat[~finite], s=sizes[~finite], marker="X", c=style.never,
                   edgecolors="white", linewidths=0.6, zorder=5.5, gid="never")
        entries.append((Line2D([], [], ls="", color="k", marker="X", ms=8, mfc=style.never,
                               mec="white"), walk["unreachable"]))
    if ringed.any():
        entries.append((Line2D([], [], ls="", marker="o", ms=9, mfc="white", mec=ring,
                               mew=2.4), walk["shelter_within"].format(m=f"{minutes:g}")))
    refs = _nice_refs(float(people.max()), float(people.min())) if len(people) else []
    labelled = [(p.lon, p.lat, s.name or s.id, True, float(size))
                for p, s, size in zip(places, scenario.settlements, sizes, strict=True)]
    return labelled, mappable, [(n, area(n)) for n in refs]


def _networks(ax: Any, world: Any, closed_edges: np.ndarray, style: _Style,
              t: dict[str, str], entries: _Entries) -> None:
    """Roads by class, rivers and canals (when the world has them), closed roads."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    net = world.road
    classes = np.asarray(net.edge_highway).astype(str)
    major, medium = np.isin(classes, list(MAJOR_ROADS)), np.isin(classes, list(MEDIUM_ROADS))
    groups = (("roads_major", major), ("roads_medium", medium),
              ("roads_minor", ~(major | medium)))
    for z, ((key, mask), (colour, width)) in enumerate(zip(groups, style.roads, strict=True)):
        if mask.any():
            ax.add_collection(LineCollection(_segments(net, np.flatnonzero(mask)),
                                             colors=colour, linewidths=width,
                                             capstyle="round", zorder=2.3 - 0.1 * z))
            entries.append((Line2D([], [], color=colour, lw=width), t[key]))
    water = getattr(world, "water", None)
    if water is not None and water.n_edges:
        ax.add_collection(LineCollection(_segments(water), colors=style.water["color"],
                                         linewidths=style.water["lw"],
                                         linestyles=[style.water["ls"]], zorder=1.8,
                                         gid="water"))
        entries.append((Line2D([], [], color=style.water["color"], lw=style.water["lw"],
                               ls=style.water["ls"]), t["water"]))
    if len(closed_edges):
        ax.add_collection(LineCollection(_segments(net, closed_edges),
                                         colors=style.closed["color"],
                                         linewidths=style.closed["lw"],
                                         linestyles=[style.closed["ls"]], zorder=3,
                                         gid="closed"))
        no_area = [(d.name or d.id) + _window(t, d.window) for d in world.scenario.disruptions
                   if d.factor is None and d.polygon is None and d.near is None]
        text = t["closed"] + (t["sep"] + t["list_sep"].join(no_area) if no_area else "")
        entries.append((Line2D([], [], color=style.closed["color"], lw=style.closed["lw"],
                               ls=style.closed["ls"]), text))


def _areas(ax: Any, scenario: Any, cos_lat: float, style: _Style, t: dict[str, str],
           entries: _Entries) -> None:
    """Closure and slow-down areas (polygons, circles around a point) with their windows;
    hazard zones by kind."""
    from matplotlib.patches import Ellipse, Patch, Polygon

    drawn = {True: 0, False: 0}  # closure and slow-down areas so far: each its own hatch
    for d in scenario.disruptions:
        if d.polygon is None and d.near is None:
            continue
        closure = d.factor is None
        hatches = _CLOSURE_HATCHES if closure else _SLOWDOWN_HATCHES
        look = {**(style.closure_area if closure else style.slowdown_area),
                "hatch": hatches[drawn[closure] % len(hatches)]}
        drawn[closure] += 1
        if d.polygon is not None:
            patch: Any = Polygon(np.asarray(d.polygon, dtype=float), closed=True)
        else:
            r_lat = d.radius_m / _M_PER_DEG
            patch = Ellipse(tuple(d.near), 2 * r_lat / cos_lat, 2 * r_lat)
        patch.set(**look, zorder=1.4)
        ax.add_patch(patch)
        name = d.name or f"{t['closure_area' if d.factor is None else 'slowdown_area']} {d.id}"
        entries.append((Patch(**look), name + _window(t, d.window, d.factor)))
    for k, zone in enumerate(scenario.hazard_zones):
        look = {**style.hazard.get(zone.kind, style.hazard[""]),
                "hatch": _ZONE_HATCHES[k % len(_ZONE_HATCHES)]}
        ax.add_patch(Polygon(np.asarray(zone.polygon, dtype=float), closed=True, zorder=1.2,
                             **look))
        kind = t.get(f"hazard_{zone.kind}", t["hazard"])
        entries.append((Patch(**look), kind + t["sep"] + (zone.name or zone.id)))


def _service_lines(ax: Any, world: Any, style: _Style, t: dict[str, str],
                   entries: _Entries) -> None:
    """A dashed line from each settlement to its own depot of its lowest tier."""
    from matplotlib.lines import Line2D

    service = getattr(world, "service", None)
    drawn = False
    for s in world.scenario.settlements:
        tier = service.first_tier(s.id) if service is not None else None
        for depot in (service.owners[s.id][tier] if tier else ()):
            a, b = world.sites[s.id], world.sites[depot]
            ax.plot([a.lon, b.lon], [a.lat, b.lat], ls=_DASHES, lw=1.0, alpha=0.85, zorder=4,
                    c=style.service or style.tier_colour[tier], gid="service")
            drawn = True
    if drawn:
        entries.append((Line2D([], [], ls=_DASHES, lw=1.0, c=style.service or "0.3"),
                        t["service"]))


def _facilities(ax: Any, world: Any, style: _Style, t: dict[str, str], lang: str,
                entries: _Entries) -> _Labelled:
    """Depots by tier (the plans' tier names), team bases, water stations, helipads."""
    from matplotlib.lines import Line2D

    scenario, labelled = world.scenario, []
    groups = [(label("tier", tier, lang), [d for d in scenario.depots if d.tier == tier],
               style.tier_marker[tier], style.tier_colour[tier], _DEPOT_SIZE)
              for tier in TIERS]
    groups += [(t[key], getattr(scenario, field), *style.facilities[field], _FACILITY_SIZE)
               for field, key in (("team_bases", "team_base"),
                                  ("water_stations", "water_station"), ("helipads", "helipad"))]
    for text, items, marker, face, size in groups:
        if not items:
            continue
        sites = [world.sites[x.id] for x in items]
        ax.scatter([x.lon for x in sites], [x.lat for x in sites], marker=marker, s=size,
                   c=face, edgecolors="k", linewidths=0.8, zorder=6)
        entries.append((Line2D([], [], ls="", color="k", marker=marker,
                               ms=math.sqrt(size) + 0.5, mfc=face, mec="k", mew=0.8), text))
        labelled += [(x.lon, x.lat, item.name or item.id, False, size)
                     for x, item in zip(sites, items, strict=True)]
    return labelled


def _settlements(ax: Any, world: Any, relief: pd.DataFrame, style: _Style, t: dict[str, str],
                 entries: _Entries) -> tuple[_Labelled, Any, list[tuple[int, float]]]:
    """Settlements sized by people and coloured by their last person's initial relief (a
    black cross when someone is never relieved); the named markers, the colour mapping and
    the reference sizes (people, area) for the legend."""
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    scenario = world.scenario
    target = float(scenario.targets.initial_relief_h)
    worst = (relief.groupby("settlement")["initial_h"].max() if len(relief)
             else pd.Series(dtype=float))
    people = np.array([s.people for s in scenario.settlements], dtype=float)
    scale = _SETTLEMENT_SIZE / (float(people.max()) if len(people) else 1.0)

    def area(n: float) -> float:
        return max(scale * n, 14.0)

    late = np.array([float(worst.get(s.id, math.inf)) for s in scenario.settlements])
    finite = np.isfinite(late)
    top = max(float(late[finite].max()) if finite.any() else 0.0, target) * 1.08
    ticks = _hour_ticks().tick_values(0, top)
    norm = Normalize(0.0, float(ticks[ticks >= top - 1e-9][0]))
    places = [world.sites[s.id] for s in scenario.settlements]
    lon, lat = np.array([p.lon for p in places]), np.array([p.lat for p in places])
    sizes = np.array([area(n) for n in people])
    mappable = ax.scatter(lon[finite], lat[finite], s=sizes[finite], c=late[finite],
                          cmap=style.cmap, norm=norm, edgecolors="k", linewidths=0.7, zorder=5,
                          gid="settlements")
    if (~finite).any():
        ax.scatter(lon[~finite], lat[~finite], s=sizes[~finite], marker="X", c=style.never,
                   edgecolors="white", linewidths=0.6, zorder=5.5, gid="never")
        entries.append((Line2D([], [], ls="", color="k", marker="X", ms=8, mfc=style.never,
                               mec="white"), t["never"]))
    refs = _nice_refs(float(people.max()), float(people.min())) if len(people) else []
    labelled = [(p.lon, p.lat, s.name or s.id, True, float(size))
                for p, s, size in zip(places, scenario.settlements, sizes, strict=True)]
    return labelled, mappable, [(n, area(n)) for n in refs]


def _extent(ax: Any, net: Any, labelled: _Labelled, cos_lat: float, t: dict[str, str]
            ) -> tuple[float, float]:
    """Limits around the network and the sites, aspect 1/cos(latitude), ticks in degrees;
    returns the map's size in inches."""
    from matplotlib.ticker import MaxNLocator

    xs = np.r_[net.lon, [x for x, *_ in labelled]]
    ys = np.r_[net.lat, [y for _, y, *_ in labelled]]
    pad_x, pad_y = 0.03 * float(np.ptp(xs)) + 1e-4, 0.03 * float(np.ptp(ys)) + 1e-4
    xlim = (float(xs.min()) - pad_x, float(xs.max()) + pad_x)
    ylim = (float(ys.min()) - pad_y, float(ys.max()) + pad_y)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect(1.0 / cos_lat)
    for axis, lim, which in ((ax.xaxis, xlim, "x"), (ax.yaxis, ylim, "y")):
        locator = MaxNLocator(5, steps=[1, 2, 2.5, 5, 10])
        axis.set_major_locator(locator)
        values = locator.tick_values(*lim)
        axis.set_major_formatter(_degree_formatter(t, which, float(values[1] - values[0])))
    ax.tick_params(labelsize=_FONT - 0.5, direction="out", length=3)
    ratio = (xlim[1] - xlim[0]) * cos_lat / (ylim[1] - ylim[0])
    map_w, map_h = _MAP_W, _MAP_W / ratio
    if map_h > _MAP_MAX_H:
        map_w, map_h = _MAP_MAX_H * ratio, _MAP_MAX_H
    return map_w, map_h


def _colour_bar(fig: Any, cax: Any, mappable: Any, target: float, t: dict[str, str]) -> None:
    """Hours to the last person's initial relief, the target marked with a line and a tick."""

    bar = fig.colorbar(mappable, cax=cax, orientation="horizontal")
    bar.outline.set_linewidth(0.6)
    norm = mappable.norm
    near = 0.07 * (norm.vmax - norm.vmin)
    ticks = sorted([*(v for v in _hour_ticks().tick_values(norm.vmin, norm.vmax)
                      if norm.vmin <= v <= norm.vmax and abs(v - target) > near), target])
    bar.set_ticks(ticks)
    bar.set_ticklabels([t["target"].format(h=_hours(v)) if v == target else _hours(v)
                        for v in ticks])
    cax.axvline(target, color="k", lw=1.6)
    cax.tick_params(labelsize=_FONT - 0.5)
    bar.set_label(t["relief_time"], fontsize=_FONT)


def _legends(fig: Any, entries: _Entries, refs: list[tuple[int, float]], style: _Style,
             t: dict[str, str]) -> tuple[Any, Any | None]:
    """The symbols' legend and, below it, the reference sizes of settlements."""
    from matplotlib.lines import Line2D

    common = {"loc": "upper left", "fontsize": _FONT - 0.5, "title_fontsize": _FONT,
              "frameon": False, "borderaxespad": 0.0, "alignment": "left"}
    legend = fig.legend([h for h, _ in entries], [text for _, text in entries],
                        title=t["legend"], handlelength=2.2, ncols=2, columnspacing=1.5,
                        **common)
    if not refs:
        return legend, None
    handles = [Line2D([], [], ls="", color="k", marker="o", ms=math.sqrt(size),
                      mfc=style.cmap(0.0), mec="k", mew=0.7) for _, size in refs]
    sizes = fig.legend(handles, [t["people"].format(n=n) for n, _ in refs],
                       title=t["people_title"], ncols=len(refs), handletextpad=0.4,
                       columnspacing=1.0, borderpad=0.2, **common)
    return legend, sizes


def _furniture(ax: Any, cos_lat: float, t: dict[str, str]) -> list[Any]:
    """Scale bar (lower left), north arrow (upper right), attribution (lower right)."""
    from matplotlib_scalebar.scalebar import ScaleBar

    units = {"m": t["m"], "km": t["km"]}
    scalebar = ScaleBar(_M_PER_DEG * cos_lat, units="m", location="lower left",
                        length_fraction=0.22, width_fraction=0.008, box_alpha=0.8,
                        color="black", box_color="white", label=t["scale"], label_loc="left",
                        border_pad=0.6, rotation="horizontal-only",
                        font_properties={"size": _FONT - 0.5},
                        scale_formatter=lambda value, unit: f"{value} {units.get(unit, unit)}")
    ax.add_artist(scalebar)
    north = ax.text(0.96, 0.975, t["north"], transform=ax.transAxes, ha="center", va="top",
                    fontsize=_FONT + 2, zorder=9, gid=NORTH_GID, path_effects=_halo(2.5))
    arrow = ax.annotate("", xy=(0.5, 0.0), xycoords=north, xytext=(0, -28),
                        textcoords="offset points", zorder=9,
                        arrowprops={"arrowstyle": "-|>,head_length=0.7,head_width=0.3",
                                    "color": "black", "lw": 1.6, "shrinkA": 0, "shrinkB": 1})
    attribution = ax.text(0.995, 0.006, t["attribution"], transform=ax.transAxes, ha="right",
                          va="bottom", fontsize=_FONT - 2, color="0.2", zorder=9,
                          bbox={"facecolor": "white", "alpha": 0.75, "lw": 0, "pad": 1.5})
    return [scalebar, north, arrow.arrow_patch, attribution]


def _layout(fig: Any, ax: Any, cax: Any, legend: Any, sizes: Any | None, map_w: float,
            map_h: float) -> None:
    """Size the figure for a portrait page: the map on top, under it the colour bar and the
    people sizes side by side, then the legend in two columns (one when two are too wide)."""
    renderer = fig.canvas.get_renderer()
    cbar_w = min(_CBAR_MAX_W, 0.5 * map_w)
    for _ in range(2):  # measure, place, measure again (text sizes do not depend on place)
        fig.canvas.draw()
        dpi = fig.dpi
        ticks_h = (ax.get_window_extent(renderer).y0 - ax.get_tightbbox(renderer).y0) / dpi
        below_bar = (cax.get_window_extent(renderer).y0 - cax.get_tightbbox(renderer).y0) / dpi
        leg_w, leg_h = legend.get_window_extent(renderer).size / dpi
        if leg_w > max(map_w, _MAP_W):  # two columns too wide: one
            legend.set_ncols(1)
            fig.canvas.draw()
            leg_w, leg_h = legend.get_window_extent(renderer).size / dpi
        size_w, size_h = (sizes.get_window_extent(renderer).size / dpi if sizes is not None
                          else (0.0, 0.0))
        row_h = max(_CBAR_H + below_bar, size_h)
        content_w = max(map_w, cbar_w + _ROW_GAP + size_w, leg_w)
        width = _LEFT + content_w + _RIGHT
        height = _TOP + map_h + ticks_h + _GAP + row_h + _GAP + leg_h + _BOTTOM
        fig.set_size_inches(width, height)
        y_map = height - _TOP - map_h
        row_top = y_map - ticks_h - _GAP
        ax.set_position((_LEFT / width, y_map / height, map_w / width, map_h / height))
        cax.set_position((_LEFT / width, (row_top - _CBAR_H) / height, cbar_w / width,
                          _CBAR_H / height))
        if sizes is not None:
            sizes.set_bbox_to_anchor(((_LEFT + cbar_w + _ROW_GAP) / width, row_top / height),
                                     transform=fig.transFigure)
        legend.set_bbox_to_anchor((_LEFT / width, (row_top - row_h - _GAP) / height),
                                  transform=fig.transFigure)
    fig.canvas.draw()


def _hits(box: Any, others: Iterable[Any], pad: float = 1.0) -> bool:
    return any(box.x0 - pad < o.x1 and o.x0 - pad < box.x1 and box.y0 - pad < o.y1
               and o.y0 - pad < box.y1 for o in others)


def _inside(box: Any, frame: Any, pad: float = 2.0) -> bool:
    return (box.x0 >= frame.x0 + pad and box.x1 <= frame.x1 - pad and box.y0 >= frame.y0 + pad
            and box.y1 <= frame.y1 - pad)


_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_DISTANCES = (2, 5, 9, 14, 20, 28, 38, 50, 65)
"""Where a label may go when adjustText left it on a marker or another label: beside its
marker in eight directions, ever further (display pixels beyond the marker)."""


def _finish(fig: Any, ax: Any, cax: Any, world: Any, bar: tuple[Any, float],
            labelled: list[Any], entries: list[Any], refs: Any, style: Any, cos_lat: float,
            t: dict[str, str]) -> None:
    """The parts every map shares: extent, colour bar (mappable, marked value), legends,
    scale bar and north arrow, layout, and the labels placed off each other."""
    map_w, map_h = _extent(ax, world.road, labelled, cos_lat, t)
    _colour_bar(fig, cax, bar[0], bar[1], t)
    legend, sizes = _legends(fig, entries, refs, style, t)
    furniture = _furniture(ax, cos_lat, t)
    _layout(fig, ax, cax, legend, sizes, map_w, map_h)
    texts = [ax.text(x, y, name, fontsize=_FONT if settlement else _FONT - 1,
                     color="black" if settlement else "0.25", ha="left", va="center",
                     zorder=8, gid=LABEL_GID, path_effects=_halo())
             for x, y, name, settlement, _ in labelled]
    _place_labels(fig, ax, texts, [(x, y, s) for x, y, *_, s in labelled], furniture)


def _place_labels(fig: Any, ax: Any, texts: list[Any],
                  markers: Sequence[tuple[float, float, float]], avoid: list[Any]) -> None:
    """Start each label beside its marker and move the labels off each other, every marker
    and the map's furniture (adjustText); a label still touching something goes to the first
    free place around its marker; leader lines join labels that ended up away from their
    marker."""
    from adjustText import adjust_text
    from matplotlib.transforms import Bbox

    if not texts:
        return
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    to_data = ax.transData.inverted()
    centres = ax.transData.transform(np.array([(x, y) for x, y, _ in markers], dtype=float))
    radii = np.array([math.sqrt(s) / 2 * fig.dpi / 72 + 1.0 for *_, s in markers])
    for text, (cx, cy), r in zip(texts, centres, radii, strict=True):
        text.set_position(tuple(to_data.transform((cx + r + 2, cy))))
    marker_boxes = [Bbox([(cx - r, cy - r), (cx + r, cy + r)])
                    for (cx, cy), r in zip(centres, radii, strict=True)]
    furniture = [a.get_window_extent(renderer) for a in avoid]
    objects = [Bbox(to_data.transform(b.get_points())) for b in marker_boxes + furniture]
    adjust_text(texts, objects=objects, avoid_self=False, ax=ax,
                target_x=[x for x, *_ in markers], target_y=[y for _, y, _ in markers],
                expand=(1.1, 1.25), force_text=(0.3, 0.5), force_static=(0.3, 0.5),
                force_explode=(0.2, 0.4), ensure_inside_axes=True, iter_lim=300)
    fig.canvas.draw()
    frame = ax.get_window_extent(renderer)
    static = marker_boxes + furniture
    for _ in range(3):
        moved = False
        boxes = [text.get_window_extent(renderer) for text in texts]
        for i, text in enumerate(texts):
            others = boxes[:i] + boxes[i + 1:] + static
            if _inside(boxes[i], frame) and not _hits(boxes[i], others):
                continue
            free = _free_place(boxes[i], centres[i], radii[i], others, frame)
            if free is not None:  # (adjustText centres the labels it moved)
                text.set_horizontalalignment("left")
                text.set_verticalalignment("center")
                text.set_position(tuple(to_data.transform((free.x0, (free.y0 + free.y1) / 2))))
                boxes[i], moved = free, True
        if not moved:
            break
    fig.canvas.draw()
    for text, (cx, cy), r in zip(texts, centres, radii, strict=True):
        box = text.get_window_extent(renderer)
        nx, ny = min(max(cx, box.x0), box.x1), min(max(cy, box.y0), box.y1)
        gap = math.hypot(nx - cx, ny - cy)
        if gap - r > 6:
            start = (cx + (nx - cx) * r / gap, cy + (ny - cy) * r / gap)
            (x0, y0), (x1, y1) = to_data.transform([start, (nx, ny)])
            ax.plot([x0, x1], [y0, y1], color="0.35", lw=0.6, zorder=4.5, gid="leader")


def _free_place(box: Any, centre: np.ndarray, radius: float, others: list[Any],
                frame: Any) -> Any:
    """The first box of the label's size beside its marker that touches nothing."""
    from matplotlib.transforms import Bbox

    w, h = box.width, box.height
    cx, cy = float(centre[0]), float(centre[1])
    for distance in _DISTANCES:
        for dx, dy in _DIRECTIONS:
            reach = radius * (0.75 if dx and dy else 1.0) + distance
            x = cx + dx * (reach + w / 2)
            y = cy + dy * (reach + h / 2)
            candidate = Bbox([(x - w / 2, y - h / 2), (x + w / 2, y + h / 2)])
            if _inside(candidate, frame) and not _hits(candidate, others):
                return candidate
    return None
