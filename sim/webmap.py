"""The interactive map of the HTML report: roads, rivers, closures, depots, service areas and
settlements coloured by their time to relief, with hover details and layers that a click on
the legend shows or hides.

:func:`interactive_map` returns an HTML fragment for the ``<body>`` of a self-contained page:
BokehJS inline (no CDN, no tile server, no request of any kind), the plot's data as JSON and
a small script that draws it once the page's CJK web font is ready (canvas text drawn before
the font loads would stay in the fallback font). Coordinates are projected to a local
transverse Mercator in metres around the network's centre, so the map keeps equal aspect and
its scale bar is right everywhere on it. Every word comes from :data:`sim.glossary.WEB_LABELS`.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ReliefsimError
from sim.glossary import WEB_LABELS, label
from sim.scenario import TIERS

__all__ = ["DEFAULT_FONT", "bokeh_js", "interactive_map"]

DEFAULT_FONT = "ReliefsimCJK, sans-serif"
"""CSS font family of the map's text: the report embeds its CJK web font under this name."""

TIER_COLOURS = dict(zip(TIERS, ("#8c564b", "#ff7f0e", "#1f77b4", "#9467bd", "#2ca02c",
                                "#d62728", "#7f7f7f"), strict=True))
"""Depot colour per tier (as on the static map)."""

ROAD_GROUPS: tuple[tuple[str, frozenset[str], str, float], ...] = (
    ("roads_major", frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                               "primary_link"}), "#8f8f8f", 2.6),
    ("roads_middle", frozenset({"secondary", "secondary_link", "tertiary", "tertiary_link"}),
     "#a8a8a8", 1.6),
    ("roads_minor", frozenset(), "#c4c4c4", 0.8),  # everything else
)
"""Road layers: label key, OSM ``highway`` classes, colour and width (px)."""

RELIEF_PALETTE = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#ffffbf", "#fee08b", "#fdae61",
                  "#f46d43", "#d73027", "#a50026")
"""Relief time from 0 (green) to twice the target (red); the target sits in the middle."""
NEVER_COLOUR = "#3f007d"
"""Settlements with people never relieved within the horizon."""

EMBED_SCRIPT = (
    "(function(){var id=$ID,font=$FONT;function draw(){var item=JSON.parse("
    "document.getElementById(id+'-data').textContent);Bokeh.embed.embed_item(item,id);}"
    "function start(){var fonts=document.fonts,ready=(fonts&&fonts.load)?"
    "fonts.load('12px '+font,'\\u4e2dA1').catch(function(){}):Promise.resolve();"
    "Promise.race([ready,new Promise(function(r){setTimeout(r,4000);})]).then(draw);}"
    "if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',"
    "start);}else{start();}})();")
"""Draws the map once the page is parsed and its font loaded (at most 4 s later): canvas
text drawn before the web font is ready would keep the fallback font."""

WIDTH_MIN, HEIGHT = 480, 620
FRAME_PX = (520, 500)
"""Frame size (px) the names are placed for: the map printed on A4 with the legend beside it
(on a wider screen the map is larger and the names stand further apart)."""
LABEL_PX = 12
MAX_NAMES_SHOWN = 40
"""Beyond this many settlements their names start hidden (a click on the legend shows them)."""
CIRCLE_POINTS = 64


# -- geometry --------------------------------------------------------------------------------


class _Projection:
    """Local transverse Mercator (metres) centred on the map."""

    def __init__(self, lon0: float, lat0: float) -> None:
        from pyproj import CRS, Transformer

        crs = CRS.from_proj4(f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 "
                             "+y_0=0 +ellps=WGS84 +units=m +no_defs")
        self._to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def __call__(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._to.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def ring(self, points: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
        pts = np.asarray(points, dtype=float)
        x, y = self(pts[:, 0], pts[:, 1])
        return x.round(1).tolist(), y.round(1).tolist()

    def circle(self, centre: Sequence[float], radius_m: float) -> tuple[list[float], list[float]]:
        cx, cy = self(centre[0], centre[1])
        angle = np.linspace(0, 2 * math.pi, CIRCLE_POINTS, endpoint=False)
        return ((float(cx) + radius_m * np.cos(angle)).round(1).tolist(),
                (float(cy) + radius_m * np.sin(angle)).round(1).tolist())


def _chains(u: np.ndarray, v: np.ndarray) -> list[list[int]]:
    """Undirected segments (u[i], v[i]) merged into polylines of node indices: each polyline
    runs between nodes that are not simple pass-throughs (degree ≠ 2), so a 50 000-edge
    network becomes a few thousand lines with each inner node stored once."""
    if len(u) == 0:
        return []
    pairs = np.unique(np.sort(np.column_stack([u, v]).astype(np.int64), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    adjacent: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for k, (a, b) in enumerate(pairs.tolist()):
        adjacent[a].append((b, k))
        adjacent[b].append((a, k))
    used = np.zeros(len(pairs), dtype=bool)
    lines: list[list[int]] = []

    def walk(start: int, first: tuple[int, int]) -> list[int]:
        line, (node, k) = [start], first
        used[k] = True
        line.append(node)
        while len(adjacent[node]) == 2:
            nxt = next(((n, j) for n, j in adjacent[node] if not used[j]), None)
            if nxt is None:
                break
            node, k = nxt
            used[k] = True
            line.append(node)
        return line

    for start in [n for n, edges in adjacent.items() if len(edges) != 2]:
        for step in adjacent[start]:
            if not used[step[1]]:
                lines.append(walk(start, step))
    for k in np.flatnonzero(~used).tolist():  # closed loops of pass-through nodes
        if not used[k]:
            a, b = pairs[k].tolist()
            lines.append(walk(a, (b, k)))
    return lines


def _polylines(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The segments as one NaN-separated float32 polyline (the cheapest form to embed)."""
    lines = _chains(u, v)
    if not lines:
        return [], []
    index = np.concatenate([np.r_[np.asarray(line, dtype=np.int64), -1] for line in lines])[:-1]
    gap = index < 0
    xs = np.where(gap, np.nan, x[index]).astype(np.float32)
    ys = np.where(gap, np.nan, y[index]).astype(np.float32)
    return [xs], [ys]


def _pixels_per_metre(x: np.ndarray, y: np.ndarray) -> float:
    """The scale of the first view (the network fills the frame, equal aspect)."""
    width = max(float(np.nanmax(x) - np.nanmin(x)), 1.0) * 1.1
    height = max(float(np.nanmax(y) - np.nanmin(y)), 1.0) * 1.1
    return min(FRAME_PX[0] / width, FRAME_PX[1] / height)


def _text_px(text: str) -> float:
    return sum(LABEL_PX if ord(c) > 0x2E7F else 0.6 * LABEL_PX for c in text) + 4


def _label_spots(rows: list[dict[str, Any]], obstacles: list[tuple[float, float, float]],
                 scale: float, extent: tuple[float, float, float, float]
                 ) -> list[dict[str, Any]]:
    """Offset (px), alignment and baseline of each settlement's name: the first of eight
    places around its circle that overlaps no name placed before (largest settlements first)
    and no marker and stays inside the map's ``extent`` (west, south, east, north in metres),
    else the least crowded. Offsets are in pixels, so zooming in only moves
    names further apart."""
    boxes: list[tuple[float, float, float, float]] = []
    markers = [(x * scale, -y * scale, r) for x, y, r in obstacles]
    spots: list[dict[str, Any]] = [{}] * len(rows)
    height = LABEL_PX + 4
    west, south, east, north = (v * scale for v in extent)
    inside = (west, -north, east, -south)
    for i in sorted(range(len(rows)), key=lambda k: -rows[k]["size"]):
        row = rows[i]
        px, py, gap, width = row["x"] * scale, -row["y"] * scale, row["size"] / 2 + 3, \
            _text_px(row["name"])
        diagonal = gap * 0.72
        candidates = [  # dx, dy, align, baseline, box left/top relative to the point
            (gap, 0, "left", "middle", gap, -height / 2),
            (0, -gap, "center", "bottom", -width / 2, -gap - height),
            (-gap, 0, "right", "middle", -gap - width, -height / 2),
            (0, gap, "center", "top", -width / 2, gap),
            (diagonal, -diagonal, "left", "bottom", diagonal, -diagonal - height),
            (diagonal, diagonal, "left", "top", diagonal, diagonal),
            (-diagonal, -diagonal, "right", "bottom", -diagonal - width, -diagonal - height),
            (-diagonal, diagonal, "right", "top", -diagonal - width, diagonal)]
        best, best_cost = candidates[0], math.inf
        for candidate in candidates:
            left, top = px + candidate[4], py + candidate[5]
            box = (left - 3, top - 2, left + width + 3, top + height + 2)  # with a margin
            cost = sum(_overlap(box, other) for other in boxes) + sum(
                _overlap(box, (mx - r, my - r, mx + r, my + r)) for mx, my, r in markers
                if (mx, my) != (px, py)) + 2 * (
                (box[2] - box[0]) * (box[3] - box[1]) - _overlap(box, inside))
            if cost < best_cost:
                best, best_cost = candidate, cost
            if cost == 0:
                break
        left, top = px + best[4], py + best[5]
        boxes.append((left, top, left + width, top + height))
        spots[i] = {"dx": best[0], "dy": best[1], "align": best[2], "baseline": best[3]}
    return spots


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
             ) -> float:
    return (max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            * max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


# -- words -----------------------------------------------------------------------------------


def _hours(value: float, t: dict[str, str]) -> str:
    return t["hours_value"].format(h=f"{value:.1f}")


def _relief_text(times: np.ndarray, people: np.ndarray, t: dict[str, str]) -> str:
    """First to last person of a settlement: "0.7–2.9 小时", "未获救助", or partly."""
    people_total = int(people.sum())
    finite = np.isfinite(times) & (people > 0)
    if people_total == 0 or not finite.any():
        return t["not_relieved"]
    first, last = float(times[finite].min()), float(times[finite].max())
    never = int(people[~np.isfinite(times)].sum())
    span = (_hours(first, t) if round(first, 1) == round(last, 1)
            else t["hours_range"].format(a=f"{first:.1f}", b=f"{last:.1f}"))
    return t["partly"].format(span=span, n=f"{never:,}") if never else span


def _window_text(window: Any, t: dict[str, str]) -> str:
    if window.end_h is None:
        return t["window_open"].format(start=f"{window.start_h:g}")
    return t["window"].format(start=f"{window.start_h:g}", end=f"{window.end_h:g}")


def _name(item: Any) -> str:
    return item.name or item.id


def _tooltip(rows: Iterable[tuple[str, str]], font: str, title: str = "@name") -> str:
    """An HTML hover template: a bold title and label/value rows (values are escaped by
    BokehJS; multi-line values keep their line breaks)."""
    cells = "".join(
        f'<tr><td style="color:#555;padding:1px 8px 1px 0;vertical-align:top;'
        f'white-space:nowrap">{html.escape(name)}</td>'
        f'<td style="white-space:pre-line">{value}</td></tr>' for name, value in rows)
    return (f'<div style="font-family:{html.escape(font, quote=True)};font-size:12px;'
            f'line-height:1.45;max-width:360px"><div style="font-weight:bold;font-size:13px;'
            f'margin-bottom:2px">{title}</div><table style="border-collapse:collapse">'
            f"{cells}</table></div>")


# -- the map ---------------------------------------------------------------------------------


def bokeh_js() -> str:
    """The ``<script>`` of BokehJS (core only: the map needs no widgets, tables or MathJax),
    inline; include it once per page (see ``include_bokehjs``)."""
    from bokeh.resources import Resources

    return Resources(mode="inline", components=["bokeh"]).render_js()


def interactive_map(world: Any, relief: pd.DataFrame, closed_edges: np.ndarray, lang: str, *,
                    font: str = DEFAULT_FONT, include_bokehjs: bool = True) -> str:
    """An HTML fragment with the interactive map of a run (BokehJS inline unless
    ``include_bokehjs`` is False: then the page must carry :func:`bokeh_js` once before it).

    ``relief``: the person-relief table (settlement, initial_h, effective_h, people; inf =
    never relieved); ``closed_edges``: indices of the road edges closed at some time;
    ``font``: CSS font family of all text (the report's embedded CJK font).
    """
    from bokeh.embed import json_item

    if lang not in WEB_LABELS or not WEB_LABELS[lang]:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of "
                             f"{sorted(k for k, v in WEB_LABELS.items() if v)}")
    plot = _figure(world, relief, np.asarray(closed_edges, dtype=np.int64), lang, font)
    item = json.dumps(json_item(plot), ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).replace("<", "\\u003c").replace("&", "\\u0026")
    digest = hashlib.sha256(f"{lang}\0{item}".encode()).hexdigest()[:10]
    target = f"reliefsim-map-{lang}-{digest}"
    script = (EMBED_SCRIPT.replace("$ID", json.dumps(target))
              .replace("$FONT", json.dumps(font).replace("<", "\\u003c")))
    parts = [bokeh_js()] if include_bokehjs else []
    parts += [f'<div id="{target}" class="reliefsim-map" style="break-inside:avoid"></div>',
              f'<script type="application/json" id="{target}-data">{item}</script>',
              f"<script>{script}</script>"]
    return "\n".join(parts) + "\n"


def _figure(world: Any, relief: pd.DataFrame, closed_edges: np.ndarray, lang: str,
            font: str) -> Any:
    from bokeh.core.properties import value
    from bokeh.models import (
        ColorBar,
        ColumnDataSource,
        DataRange1d,
        FixedTicker,
        Label,
        Legend,
        LegendItem,
        LinearColorMapper,
        Node,
        ScaleBar,
    )
    from bokeh.plotting import figure

    t = WEB_LABELS[lang]
    scenario, net = world.scenario, world.road
    lon0 = float((np.nanmin(net.lon) + np.nanmax(net.lon)) / 2)
    lat0 = float((np.nanmin(net.lat) + np.nanmax(net.lat)) / 2)
    proj = _Projection(lon0, lat0)
    rx, ry = proj(net.lon, net.lat)

    plot = figure(x_range=DataRange1d(range_padding=0.04),
                  y_range=DataRange1d(range_padding=0.04), match_aspect=True, aspect_scale=1,
                  sizing_mode="stretch_width", height=HEIGHT, min_width=WIDTH_MIN,
                  tools=[], toolbar_location="above", background_fill_color="#fbfaf7",
                  border_fill_color="#ffffff", outline_line_color="#d0d0d0")
    plot.title.text = t["title"]
    plot.title.text_font = font
    plot.title.text_font_size = "15px"
    plot.axis.visible = False
    plot.grid.visible = False
    plot.toolbar.logo = None
    items: list[Any] = []

    def add(key: str, renderer: Any, text: str | None = None) -> Any:
        items.append(LegendItem(label=text or t[key], renderers=[renderer]))
        return renderer

    # roads, by class group, then rivers: one NaN-separated polyline each
    classes = np.asarray(net.edge_highway).astype(str)
    taken = np.zeros(len(classes), dtype=bool)
    for key, members, colour, width in ROAD_GROUPS:
        mask = np.isin(classes, list(members)) if members else ~taken
        taken |= mask
        xs, ys = _polylines(rx, ry, net.edge_u[mask], net.edge_v[mask])
        if xs:
            add(key, plot.multi_line(xs, ys, line_color=colour, line_width=width,
                                     line_cap="round", line_join="round"))
    water = getattr(world, "water", None)
    if water is not None:
        wx, wy = proj(water.lon, water.lat)
    if water is not None and water.n_edges:
        xs, ys = _polylines(wx, wy, water.edge_u, water.edge_v)
        add("rivers", plot.multi_line(xs, ys, line_color="#5b9bd5", line_width=3,
                                      line_alpha=0.9, line_cap="round", line_join="round"))

    hovers: list[tuple[Any, str]] = []
    obstacles: list[tuple[float, float, float]] = []  # x, y (m), half size (px)

    # areas: hazard zones, closures and slow-downs with a place (polygon or circle)
    zones = [(z.name or z.id, *proj.ring(z.polygon)) for z in scenario.hazard_zones]
    if zones:
        source = ColumnDataSource({"name": [z[0] for z in zones], "xs": [z[1] for z in zones],
                                   "ys": [z[2] for z in zones]})
        renderer = add("hazard_zones", plot.patches(
            "xs", "ys", source=source, fill_color="#6baed6", fill_alpha=0.15,
            line_color="#3182bd", line_alpha=0.6, line_dash="dotted", line_width=1.2))
        hovers.append((renderer, _tooltip([], font)))
    for key, closing in (("closure_areas", True), ("slow_areas", False)):
        rows = []
        for d in scenario.disruptions:
            if (d.factor is None) != closing:
                continue
            if d.polygon is not None:
                xs_, ys_ = proj.ring(d.polygon)
            elif d.near is not None and d.radius_m is not None:
                xs_, ys_ = proj.circle(d.near, d.radius_m)
            else:
                continue  # by road class or OSM id: shown by its roads only
            extra = "" if closing else t["slow_factor"].format(f=f"{d.factor:g}")
            rows.append((_name(d), _window_text(d.window, t), extra, xs_, ys_))
        if not rows:
            continue
        source = ColumnDataSource({"name": [r[0] for r in rows], "when": [r[1] for r in rows],
                                   "effect": [r[2] for r in rows], "xs": [r[3] for r in rows],
                                   "ys": [r[4] for r in rows]})
        colour = "#d62728" if closing else "#ff7f0e"
        renderer = add(key, plot.patches("xs", "ys", source=source, fill_color=colour,
                                         fill_alpha=0.12, line_color=colour, line_alpha=0.8,
                                         line_dash="dashed", line_width=1.5))
        fields = [(t["closed_when" if closing else "slow_when"], "@when")]
        hovers.append((renderer, _tooltip(fields + ([] if closing else
                                                    [(t["slow_effect"], "@effect")]), font)))
    if len(closed_edges):
        xs, ys = _polylines(rx, ry, net.edge_u[closed_edges], net.edge_v[closed_edges])
        add("closed", plot.multi_line(xs, ys, line_color="#d62728", line_width=4,
                                      line_alpha=0.9, line_cap="round"))

    # service areas: each settlement to its own depot(s) of its lowest tier
    service = getattr(world, "service", None)
    lines_x, lines_y, line_colours = [], [], []
    for s in scenario.settlements:
        tier = service.first_tier(s.id) if service is not None else None
        for depot in (service.owners[s.id][tier] if tier else ()):
            a, b = world.sites[s.id], world.sites[depot]
            x, y = proj([a.lon, b.lon], [a.lat, b.lat])
            lines_x.append(x.round(1).tolist())
            lines_y.append(y.round(1).tolist())
            line_colours.append(TIER_COLOURS[tier])
    if lines_x:
        add("service", plot.multi_line(
            "xs", "ys", source=ColumnDataSource({"xs": lines_x, "ys": lines_y,
                                                 "colour": line_colours}),
            line_color="colour", line_dash="dashed", line_width=1.6, line_alpha=0.85))

    # settlements, coloured by the time all their people had initial relief
    target = float(scenario.targets.initial_relief_h)
    mapper = LinearColorMapper(palette=list(RELIEF_PALETTE), low=0, high=2 * target,
                               high_color=RELIEF_PALETTE[-1], nan_color=NEVER_COLOUR)
    depot_names = {d.id: _name(d) for d in scenario.depots}
    groups = {k: g for k, g in relief.groupby("settlement", sort=False)}
    biggest = max((s.people for s in scenario.settlements), default=1)
    rows = []
    for s in scenario.settlements:
        site, group = world.sites[s.id], groups.get(s.id)
        if group is None or not len(group):
            initial = effective = t["not_relieved"]
            worst = math.nan
        else:
            people = group.people.to_numpy(float)
            initial = _relief_text(group.initial_h.to_numpy(float), people, t)
            effective = _relief_text(group.effective_h.to_numpy(float), people, t)
            worst = float(group.initial_h[group.people > 0].max())
            worst = worst if math.isfinite(worst) else math.nan
        tier = service.first_tier(s.id) if service is not None else None
        own = [depot_names.get(d, d) for d in (service.owners[s.id][tier] if tier else ())]
        x, y = proj(site.lon, site.lat)
        rows.append({"x": float(x), "y": float(y), "name": _name(s),
                     "people": t["people_value"].format(n=f"{s.people:,}"),
                     "initial": initial, "effective": effective, "worst": worst,
                     "own": "、".join(own) if lang == "zh" else ", ".join(own),
                     "size": 9 + 21 * math.sqrt(s.people / biggest)})
    settlement_fields = [(t["people"], "@people"), (t["initial"], "@initial"),
                         (t["effective"], "@effective"), (t["own_depot"], "@own")]
    for key, mask in (("settlements", [not math.isnan(r["worst"]) for r in rows]),
                      ("settlements_never", [math.isnan(r["worst"]) for r in rows])):
        chosen = [r for r, m in zip(rows, mask, strict=True) if m]
        if not chosen:
            continue
        source = ColumnDataSource({k: [r[k] for r in chosen] for k in rows[0]})
        renderer = add(key, plot.scatter(
            "x", "y", source=source, size="size", marker="circle",
            fill_color={"field": "worst", "transform": mapper}, fill_alpha=0.9,
            line_color="#333333", line_width=1.2, hover_line_color="#000000",
            hover_line_width=2.5, hover_fill_alpha=1.0))
        hovers.append((renderer, _tooltip(settlement_fields, font)))
    obstacles += [(r["x"], r["y"], r["size"] / 2) for r in rows]

    # depots by tier, then the other sites
    stock_names = {c.id: (c.name or c.id, c.unit) for c in scenario.commodities}
    for tier in TIERS:
        depots = [d for d in scenario.depots if d.tier == tier]
        if not depots:
            continue
        data: dict[str, list[Any]] = defaultdict(list)
        for d in depots:
            site = world.sites[d.id]
            x, y = proj(site.lon, site.lat)
            data["x"].append(float(x))
            data["y"].append(float(y))
            data["name"].append(_name(d))
            kind = t.get(d.kind, d.kind)
            if d.kind != "physical" and d.activation_delay_h:
                kind += t["activation"].format(h=f"{d.activation_delay_h:g}")
            data["kind"].append(kind)
            data["stock"].append("\n".join(
                t["stock_value"].format(name=stock_names.get(c, (c, ""))[0],
                                        qty=f"{q:,.0f}", unit=_unit(stock_names.get(c), t))
                for c, q in d.stock.items()) or "—")
            data["trucks"].append(t["trucks_value"].format(
                n=d.trucks.count, kg=f"{d.trucks.capacity_kg:,.0f}"))
        data["tier"] = [label("tier", tier, lang)] * len(depots)
        obstacles += [(x, y, 8.0) for x, y in zip(data["x"], data["y"], strict=True)]
        renderer = add("", plot.scatter(
            "x", "y", source=ColumnDataSource(dict(data)), marker="square", size=15,
            fill_color=TIER_COLOURS[tier], line_color="#222222", line_width=1.2,
            hover_line_width=2.5), text=label("tier", tier, lang))
        hovers.append((renderer, _tooltip([(t["tier"], "@tier"), (t["kind"], "@kind"),
                                           (t["stock"], "@stock"), (t["trucks"], "@trucks")],
                                          font)))
    for field, marker, colour, what in (
            ("team_bases", "triangle", "#17becf", lambda b: t["teams_value"].format(
                n=sum(g.count for g in b.teams))),
            ("water_stations", "inverted_triangle", "#1f3f8f", lambda w: t["boats_value"].format(
                n=w.boats.count)),
            ("helipads", "plus", "#e377c2", lambda h: t["helicopters_value"].format(
                n=h.helicopters.count)),
            ("shelters", "diamond", "#2ca02c", lambda s: t["capacity_value"].format(
                n=f"{s.capacity:,}"))):
        sites = list(getattr(scenario, field, []))
        if not sites:
            continue
        x, y = proj([world.sites[s.id].lon for s in sites], [world.sites[s.id].lat
                                                            for s in sites])
        source = ColumnDataSource({"x": x.tolist(), "y": y.tolist(),
                                   "name": [_name(s) for s in sites],
                                   "what": [what(s) for s in sites]})
        renderer = add(field, plot.scatter("x", "y", source=source, marker=marker, size=13,
                                           fill_color=colour, line_color="#222222",
                                           line_width=1, hover_line_width=2.5))
        hovers.append((renderer, _tooltip([(t[field + "_what"], "@what")], font)))
        obstacles += [(float(a), float(b), 7.0) for a, b in zip(x, y, strict=True)]

    # names of settlements (a layer of its own: many names would crowd a big map), placed
    # beside their circles where they overlap no other name or marker at the first view
    if rows:
        extent_x = np.r_[rx, wx if water is not None else [], [o[0] for o in obstacles]]
        extent_y = np.r_[ry, wy if water is not None else [], [o[1] for o in obstacles]]
        extent = (float(np.nanmin(extent_x)), float(np.nanmin(extent_y)),
                  float(np.nanmax(extent_x)), float(np.nanmax(extent_y)))
        spots = _label_spots(rows, obstacles, _pixels_per_metre(extent_x, extent_y), extent)
        source = ColumnDataSource({"x": [r["x"] for r in rows], "y": [r["y"] for r in rows],
                                   "name": [r["name"] for r in rows],
                                   **{k: [spot[k] for spot in spots] for k in spots[0]}})
        names = add("names", plot.text(
            "x", "y", text="name", source=source, x_offset="dx", y_offset="dy",
            text_align="align", text_baseline="baseline", text_font=value(font),
            text_font_size=f"{LABEL_PX}px", text_color="#222222",
            background_fill_color="#ffffff", background_fill_alpha=0.75, padding=1,
            border_radius=2))
        names.visible = len(rows) <= MAX_NAMES_SHOWN

    _tools(plot, hovers, t)

    legend = Legend(items=items, location="top_left", click_policy="hide",
                    title=t["legend_title"], label_text_font=font, title_text_font=font,
                    label_text_font_size="12px", title_text_font_size="12px",
                    title_text_font_style="bold", glyph_height=16, glyph_width=22, spacing=2,
                    padding=8, border_line_color="#dddddd", inactive_fill_alpha=0.6,
                    inactive_fill_color="#eeeeee")
    plot.add_layout(legend, "right")
    bar = ColorBar(color_mapper=mapper, title=t["colour_bar"].format(target=f"{target:g}"),
                   ticker=FixedTicker(ticks=[0, target / 2, target, 1.5 * target, 2 * target]),
                   title_text_font=font, major_label_text_font=font, title_text_font_size="12px",
                   title_text_font_style="normal", major_label_text_font_size="11px",
                   orientation="horizontal", height=10, padding=6, margin=4,
                   major_label_overrides={2 * target: f"≥{2 * target:g}"})
    plot.add_layout(bar, "below")
    plot.add_layout(ScaleBar(range=plot.x_range, location="bottom_left", orientation="horizontal",
                             label_text_font=font, label_text_font_size="11px",
                             background_fill_alpha=0.7, bar_length=140,
                             bar_length_units="screen", border_line_color=None,
                             padding=4, margin=8))
    plot.add_layout(Label(x=Node(target="frame", symbol="right", offset=-6),
                          y=Node(target="frame", symbol="bottom", offset=-4),
                          text=t["attribution"], text_font=font, text_font_size="10px",
                          text_color="#555555", background_fill_color="#ffffff",
                          background_fill_alpha=0.7, padding=2, anchor="bottom_right"))
    plot.add_layout(Label(x=Node(target="frame", symbol="left", offset=10),
                          y=Node(target="frame", symbol="top", offset=8),
                          text=t["north"], text_font=font, text_font_size="14px",
                          text_font_style="bold", text_color="#444444", anchor="top_left"))
    return plot


def _unit(commodity: tuple[str, str] | None, t: dict[str, str]) -> str:
    if commodity is None or commodity[1] in ("", "unit"):
        return t["units"]
    return commodity[1]


def _tools(plot: Any, hovers: list[tuple[Any, str]], t: dict[str, str]) -> None:
    from bokeh.models import BoxZoomTool, HoverTool, PanTool, ResetTool, SaveTool, WheelZoomTool

    wheel = WheelZoomTool(description=t["tool_wheel"], zoom_on_axis=False)
    plot.add_tools(PanTool(description=t["tool_pan"]), wheel,
                   BoxZoomTool(description=t["tool_box"], match_aspect=True),
                   ResetTool(description=t["tool_reset"]), SaveTool(description=t["tool_save"]))
    for renderer, template in hovers:
        plot.add_tools(HoverTool(renderers=[renderer], tooltips=template,
                                 description=t["tool_hover"], point_policy="snap_to_data",
                                 attachment="right", visible=False))
    plot.toolbar.active_scroll = wheel

