"""A county-sized synthetic OpenStreetMap extract (#20, item 7), for benchmarks at scale.

Writes a valid OSM XML file (``.osm``; ``.osm.gz``/``.osm.xz`` compressed) that looks like a
rural Chinese county: a grid of towns (the county seat in the middle, larger, with a tertiary
ring road and a one-way old town), each a residential street grid, joined by primary
(through the seat) and secondary roads; villages (small residential grids) and unclassified
roads between them, farm tracks; a meandering river with two tributaries (``waterway=river``)
crossed only on bridges (``bridge=yes``, ``layer=1``: every arterial, about a third of the
other roads; the rest end at the bank); footways across some town blocks. Ways carry names,
``maxspeed`` on some, ``oneway`` on some (``yes`` with the way drawn in its direction, or
``-1``). Everything is deterministic from the seed and streamed to disk.

Sizes are set by ``nodes``: the number of nodes reliefsim's preparation of the drivable
network should give (≈ 3.67 directed edges each: 49,000 nodes ≈ 180,000 edges, a county of
≈ 52 × 43 km with 20 towns). The generator predicts that count itself — the junctions, dead
ends and class changes that osmnx's simplification keeps, with the same rules — and sizes
the towns to it (to ≈ 0.5 %); the strongly connected component reliefsim keeps is a few
nodes smaller (villages cut off by the river or by missing links).

Run: ``python benchmarks/osm_county.py out.osm --nodes 49000 --seed 1``; from another
benchmark: ``from osm_county import write_county`` (``benchmarks/`` on ``sys.path``).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import itertools
import lzma
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["County", "CountySummary", "design_county", "write_county"]

UNIT_M = 100.0
"""Lattice spacing: town streets are one unit apart (100 m)."""
CELL = 8
"""Rural roads run every ``CELL`` units (800 m); villages sit inside these cells."""
TOWN_SPACING = 96
"""Towns sit on a jittered grid of this many units (9.6 km)."""
DEFAULT_CENTER = (112.62, 22.37)
"""Where the county lies (lon, lat): the Pearl River Delta's western plain."""
NODES_PER_KM2 = 21.5
"""Prepared nodes per km² of the design below (used for the first guess of the size only)."""
LINK_GAP = 0.06
"""Share of rural road links (cell sides) that are missing."""
VILLAGE = 0.25
"""Share of rural cells with a village."""
TOWN_HALF = (10.0, 24.0)
"""Half-size of a town in units (uniform); the seat's is ``SEAT_HALF``."""
SEAT_HALF = 36
KEPT = 0.9997
"""Share of the predicted nodes in the strongly connected component reliefsim keeps."""
STREET_GAP = 0.03
"""Share of town street segments that are missing (cul-de-sacs, T-junctions)."""
OLD_TOWN = 0.38
"""Share of a town's width (towns of half-size ≥ 10) where every other street is one-way."""

TRACK, RESIDENTIAL, UNCLASSIFIED, TERTIARY, SECONDARY, PRIMARY = 1, 2, 3, 4, 5, 6
CLASSES = ("", "track", "residential", "unclassified", "tertiary", "secondary", "primary")
DRIVABLE = RESIDENTIAL  # classes from here up are drivable; tracks are for walking only

_SYLLABLES = ("赤", "坎", "百", "合", "蚬", "岗", "金", "鸡", "水", "口", "沙", "塘", "苍", "城",
              "龙", "胜", "大", "沙", "马", "冈", "塘", "口", "月", "山", "长", "沙", "三", "埠",
              "东", "成", "新", "安", "平", "和", "荻", "海", "石", "桥", "凤", "岭", "白", "鹤")
_RIVERS = ("潭江", "镇海河", "蚬冈河")


@dataclass
class County:
    """The design, in lattice coordinates (node ``(i, j)``, ``0 ≤ i ≤ nx``, ``0 ≤ j ≤ ny``).

    Segment arrays: ``h[j, i]`` joins ``(i, j)``–``(i+1, j)``, ``v[j, i]`` joins ``(i, j)``–
    ``(i, j+1)``; ``cls`` a class code (0 none), ``dir`` 0 two-way, +1 one-way towards the
    higher index, -1 towards the lower; ``bridge``; ``route`` an index into ``routes`` (0
    none). ``town`` is the town index of each node (-1 outside every town).
    """

    nx: int
    ny: int
    h_cls: np.ndarray
    v_cls: np.ndarray
    h_dir: np.ndarray
    v_dir: np.ndarray
    h_bridge: np.ndarray
    v_bridge: np.ndarray
    h_route: np.ndarray
    v_route: np.ndarray
    town: np.ndarray
    towns: list[tuple[str, int, int, int]]  # name, centre i, centre j, half-size
    routes: list[tuple[str, str]]  # name, ref (index 0 unused)
    footways: list[tuple[int, int]]  # a block's lower-left node (i, j): a diagonal across it
    rivers: list[tuple[str, np.ndarray, int | None]] = field(default_factory=list)
    # name, lattice points (k × 2, float), index of the main river point it flows into

    def predicted(self) -> tuple[int, int]:
        """(nodes, directed edges) of the drivable network after osmnx's simplification: a
        node stays where it is not a plain pass-through of one class (osmnx's endpoint
        rules); each directed edge starts at a node that stays."""
        ny, nx = self.ny, self.nx
        n_nb = np.zeros((ny + 1, nx + 1), np.int32)
        out = np.zeros_like(n_nb)
        inn = np.zeros_like(n_nb)
        lo = np.full((ny + 1, nx + 1), 99, np.int32)
        hi = np.zeros_like(n_nb)
        for cls, dirs, a, b in ((self.h_cls, self.h_dir, np.s_[:, :-1], np.s_[:, 1:]),
                                (self.v_cls, self.v_dir, np.s_[:-1, :], np.s_[1:, :])):
            on = cls >= DRIVABLE
            fwd = (on & (dirs >= 0)).astype(np.int32)
            bwd = (on & (dirs <= 0)).astype(np.int32)
            c = np.where(on, cls, 99)
            for end, gives, takes in ((a, fwd, bwd), (b, bwd, fwd)):
                n_nb[end] += on
                out[end] += gives
                inn[end] += takes
                lo[end] = np.minimum(lo[end], c)
                hi[end] = np.maximum(hi[end], np.where(on, cls, 0))
        deg = out + inn
        used = n_nb > 0
        kept = used & ((n_nb != 2) | ((deg != 2) & (deg != 4)) | (out == 0) | (inn == 0)
                       | (lo != hi))
        return int(kept.sum()), int(out[kept].sum())


def _town_name(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES, 2))
        if name not in taken and name[0] != name[1]:
            taken.add(name)
            return name


def design_county(nx: int, ny: int, seed: int, towns: tuple[int, int] | None = None,
                  town_scale: float = 1.0) -> County:
    """A county of ``nx`` × ``ny`` units (multiples of :data:`CELL`) with ``towns`` (across,
    up; default one per :data:`TOWN_SPACING`) whose sizes are scaled by ``town_scale``,
    deterministic from ``seed``."""
    # independent streams: a town's size does not depend on how many rural cells came before
    rural, towns_rng, water, foot = (np.random.default_rng([seed, k]) for k in range(10, 14))
    h_cls = np.zeros((ny + 1, nx), np.int8)
    v_cls = np.zeros((ny, nx + 1), np.int8)
    h_dir, v_dir = np.zeros_like(h_cls), np.zeros_like(v_cls)
    h_route = np.zeros((ny + 1, nx), np.int16)
    v_route = np.zeros((ny, nx + 1), np.int16)
    town = np.full((ny + 1, nx + 1), -1, np.int16)
    cx, cy = nx // CELL, ny // CELL  # rural cells

    # rural roads every CELL units; about one link in seven missing (T-junctions)
    h_cls[::CELL, :] = UNCLASSIFIED
    v_cls[:, ::CELL] = UNCLASSIFIED
    for cj, ci in zip(*np.nonzero(rural.random((cy + 1, cx)) < LINK_GAP), strict=True):
        h_cls[cj * CELL, ci * CELL:(ci + 1) * CELL] = 0
    for cj, ci in zip(*np.nonzero(rural.random((cy, cx + 1)) < LINK_GAP), strict=True):
        v_cls[cj * CELL:(cj + 1) * CELL, ci * CELL] = 0
    # farm tracks across some cells (walkable, not drivable)
    half = CELL // 2
    for cj, ci in zip(*np.nonzero(rural.random((cy, cx)) < 0.35), strict=True):
        v_cls[cj * CELL:(cj + 1) * CELL, ci * CELL + half] = TRACK
    for cj, ci in zip(*np.nonzero(rural.random((cy, cx)) < 0.2), strict=True):
        h_cls[cj * CELL + half, ci * CELL:(ci + 1) * CELL] = TRACK

    # towns on a jittered grid; the county seat nearest the middle
    ntx, nty = towns or (max(1, round(nx / TOWN_SPACING)), max(1, round(ny / TOWN_SPACING)))
    centres = []
    for b in range(nty):
        for a in range(ntx):
            i = (a + 0.5) * nx / ntx + towns_rng.uniform(-1.5, 1.5) * CELL
            j = (b + 0.5) * ny / nty + towns_rng.uniform(-1.5, 1.5) * CELL
            centres.append((a, b, int(np.clip(round(i / CELL) * CELL, CELL, nx - CELL)),
                            int(np.clip(round(j / CELL) * CELL, CELL, ny - CELL))))
    seat = min(range(len(centres)), key=lambda k: (centres[k][2] - nx / 2) ** 2
               + (centres[k][3] - ny / 2) ** 2)
    seat_a, seat_b = centres[seat][0], centres[seat][1]
    names: set[str] = set()
    towns_: list[tuple[str, int, int, int]] = []
    routes: list[tuple[str, str]] = [("", "")]
    half = [SEAT_HALF if k == seat else towns_rng.uniform(*TOWN_HALF) for k in range(len(centres))]
    for k, (_a, _b, i, j) in enumerate(centres):
        r = max(3, round(half[k] * town_scale))
        r = min(r, i, nx - i, j, ny - j)
        towns_.append((_town_name(towns_rng, names), i, j, r))
        i0, i1, j0, j1 = i - r, i + r, j - r, j + r
        h_cls[j0:j1 + 1, i0:i1] = np.maximum(h_cls[j0:j1 + 1, i0:i1], RESIDENTIAL)
        v_cls[j0:j1, i0:i1 + 1] = np.maximum(v_cls[j0:j1, i0:i1 + 1], RESIDENTIAL)
        town[j0:j1 + 1, i0:i1 + 1] = k
        # a few missing street segments: cul-de-sacs and T-junctions
        streets = np.random.default_rng([seed, 20, k])
        h_cls[j0:j1 + 1, i0:i1][streets.random((j1 - j0 + 1, i1 - i0)) < STREET_GAP] = 0
        v_cls[j0:j1, i0:i1 + 1][streets.random((j1 - j0, i1 - i0 + 1)) < STREET_GAP] = 0
        if r >= 10:  # the old town: every other street one-way, alternating
            c = int(r * OLD_TOWN)
            for off in range(-c + 1, c, 2):
                sense = 1 if (off // 2) % 2 else -1
                h_dir[j + off, i - c:i + c] = sense
                v_dir[j - c:j + c, i + off] = -sense
        if k == seat:  # the ring road
            routes.append((f"{towns_[k][0]}环城路", ""))
            ring = len(routes) - 1
            for rows, cols in ((j0, np.s_[i0:i1]), (j1, np.s_[i0:i1])):
                h_cls[rows, cols] = TERTIARY
                h_route[rows, cols] = ring
            for cols in (i0, i1):
                v_cls[j0:j1, cols] = TERTIARY
                v_route[j0:j1, cols] = ring

    # villages: small residential grids inside rural cells, joined to the roads around
    for cj in range(cy):
        for ci in range(cx):
            i, j = ci * CELL, cj * CELL
            if (town[j:j + CELL + 1, i:i + CELL + 1] >= 0).any() or rural.random() > VILLAGE:
                continue
            lines = [2, 4, 6] if rural.random() < 0.5 else [2, 5]
            for off in lines:
                h_cls[j + off, i + lines[0]:i + lines[-1]] = RESIDENTIAL
                v_cls[j + lines[0]:j + lines[-1], i + off] = RESIDENTIAL
            mid = lines[1]
            if h_cls[j, i + mid] >= DRIVABLE:  # south road
                v_cls[j:j + lines[0], i + mid] = RESIDENTIAL
            if v_cls[j + mid, i + CELL] >= DRIVABLE or rural.random() < 0.5:  # east road
                h_cls[j + mid, i + lines[-1]:i + CELL] = RESIDENTIAL

    # arterials between neighbouring towns along the rural roads (staircase routes):
    # primary on the seat's row and column, secondary elsewhere
    def draw(points: list[tuple[int, int]], cls: int, route: int) -> None:
        for (i0, j0), (i1, j1) in itertools.pairwise(points):
            if j0 == j1:
                s = np.s_[j0, min(i0, i1):max(i0, i1)]
                up = h_cls[s] <= cls
                h_cls[s] = np.where(up, cls, h_cls[s])
                h_route[s] = np.where(up, route, h_route[s])
                h_dir[s] = np.where(up, 0, h_dir[s])
            else:
                s = np.s_[min(j0, j1):max(j0, j1), i0]
                up = v_cls[s] <= cls
                v_cls[s] = np.where(up, cls, v_cls[s])
                v_route[s] = np.where(up, route, v_route[s])
                v_dir[s] = np.where(up, 0, v_dir[s])

    index = {(a, b): k for k, (a, b, _i, _j) in enumerate(centres)}
    number = {PRIMARY: 270, SECONDARY: 100}
    for (a, b), k in index.items():
        for da, db in ((1, 0), (0, 1)):
            other = index.get((a + da, b + db))
            if other is None:
                continue
            (na, ia, ja, _), (nb, ib, jb, _) = towns_[k], towns_[other]
            cls = PRIMARY if (b == seat_b if da else a == seat_a) else SECONDARY
            prefix = "S" if cls == PRIMARY else "X"
            number[cls] += 1
            routes.append((f"{na}{nb}公路", f"{prefix}{number[cls]}"))
            if da:
                im = (ia + ib) // 2 // CELL * CELL
                path = [(ia, ja), (im, ja), (im, jb), (ib, jb)]
            else:
                jm = (ja + jb) // 2 // CELL * CELL
                path = [(ia, ja), (ia, jm), (ib, jm), (ib, jb)]
            draw(path, cls, len(routes) - 1)

    # rivers: the main one north-south, meandering; two tributaries flowing into it
    ph = water.uniform(0, 2 * np.pi, 6)

    def main_i(j: np.ndarray) -> np.ndarray:
        return (nx * 0.57 + nx * 0.06 * np.sin(2 * np.pi * j / (ny * 0.7) + ph[0])
                + nx * 0.015 * np.sin(2 * np.pi * j / (ny * 0.13) + ph[1]) + 0.37)

    tributaries = []
    for t, (j_at, west) in enumerate(((ny * 0.3, True), (ny * 0.72, False))):
        amp, wave = ny * 0.03, nx * (0.25 + 0.1 * t)

        def trib_j(i: np.ndarray, j_at: float = j_at, amp: float = amp, wave: float = wave,
                   p: float = ph[2 + t]) -> np.ndarray:
            return j_at + amp * np.sin(2 * np.pi * i / wave + p) + 0.41

        tributaries.append((trib_j, west))

    jj, ii = np.mgrid[0:ny + 1, 0:nx + 1].astype(float)
    east = ii > main_i(jj)
    crossing_h = east[:, :-1] != east[:, 1:]
    crossing_v = east[:-1, :] != east[1:, :]
    for trib_j, west in tributaries:
        side = jj > trib_j(ii)
        region = ~east if west else east
        crossing_h |= region[:, :-1] & region[:, 1:] & (side[:, :-1] != side[:, 1:])
        crossing_v |= region[:-1, :] & region[1:, :] & (side[:-1, :] != side[1:, :])
    h_bridge = np.zeros(h_cls.shape, bool)
    v_bridge = np.zeros(v_cls.shape, bool)
    for cls, bridge, crossing in ((h_cls, h_bridge, crossing_h), (v_cls, v_bridge, crossing_v)):
        at = crossing & (cls > 0)
        keep = at & ((cls >= TERTIARY) | ((cls >= DRIVABLE) & (water.random(cls.shape) < 0.33)))
        bridge[keep] = True
        cls[at & ~keep] = 0

    js = np.arange(-1.0, ny + 1.01, 0.5)
    main = np.column_stack([main_i(js), js])
    rivers: list[tuple[str, np.ndarray, int | None]] = [(_RIVERS[0], main, None)]
    for t, (trib_j, west) in enumerate(tributaries):
        i_stop = np.arange(0.0, nx + 0.01, 0.5)
        on_side = i_stop < main_i(trib_j(i_stop)) if west else i_stop > main_i(trib_j(i_stop))
        i_pts = i_stop[on_side] if west else i_stop[on_side][::-1]
        end = int(np.argmin(np.abs(main[:, 1] - trib_j(i_pts[-1:])[0])))
        rivers.append((_RIVERS[1 + t], np.column_stack([i_pts, trib_j(i_pts)]), end))

    footways = [(int(i), int(j)) for j, i in zip(*np.nonzero(
        (town[:-1, :-1] >= 0) & (town[1:, 1:] >= 0) & (east[:-1, :-1] == east[1:, 1:])
        & (foot.random((ny, nx)) < 0.05)), strict=True)]
    return County(nx, ny, h_cls, v_cls, h_dir, v_dir, h_bridge, v_bridge, h_route, v_route,
                  town, towns_, routes, footways, rivers)


@dataclass(frozen=True)
class CountySummary:
    """What :func:`write_county` wrote."""

    path: Path
    size_bytes: int
    osm_nodes: int
    ways: int
    towns: int
    km: tuple[float, float]  # width, height
    bbox: tuple[float, float, float, float]  # west, south, east, north
    predicted_nodes: int  # the drivable network after simplification (before the SCC)
    predicted_edges: int
    seconds: float


def _size_for(nodes: int, seed: int) -> County:
    """The county (aspect ≈ 6:5) whose predicted prepared size is nearest ``nodes`` ÷
    :data:`KEPT`: its extent and towns from :data:`NODES_PER_KM2`, then the towns' size
    corrected by the predicted count."""
    target = nodes / KEPT

    def dims(scale: float) -> tuple[int, int]:
        return max(2, round(scale * 6)) * CELL, max(2, round(scale * 5)) * CELL

    nx, ny = dims(math.sqrt(target / NODES_PER_KM2 / 30.0) / (CELL * UNIT_M / 1000.0))
    towns = max(1, round(nx / TOWN_SPACING)), max(1, round(ny / TOWN_SPACING))
    best: tuple[float, County] | None = None

    def count(town_scale: float) -> int:
        nonlocal best
        county = design_county(nx, ny, seed, towns, town_scale)
        got = county.predicted()[0]
        if best is None or abs(got - target) < best[0]:
            best = abs(got - target), county
        return got

    # the towns hold most of the nodes, ∝ their area: a first correction, then bisection
    guess = min(1.3, (target / max(count(1.0), 1)) ** 0.55)
    low, high = guess - 0.05, guess + 0.05
    for _ in range(7):
        if best is not None and best[0] <= 0.002 * target:
            break
        middle = (low + high) / 2
        low, high = (middle, high) if count(middle) < target else (low, middle)
    assert best is not None
    return best[1]


def _opener(path: Path) -> IO[bytes]:
    suffix = path.suffix.lower()
    opener = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}.get(suffix)
    if opener is not None:
        return opener(path, "wb")  # type: ignore[no-any-return]
    return path.open("wb")


def write_county(path: str | Path, *, nodes: int = 49_000, seed: int = 1,
                 center: tuple[float, float] = DEFAULT_CENTER) -> CountySummary:
    """Write a county whose drivable network prepares to ≈ ``nodes`` nodes (see the module
    docstring) to ``path`` (``.osm``, or ``.osm.gz``/``.osm.xz``/``.osm.bz2``)."""
    if nodes < 100:
        raise ValueError(f"nodes: at least 100, got {nodes}")
    start = time.perf_counter()
    path = Path(path)
    county = _size_for(nodes, seed)
    rng = np.random.default_rng([seed, 1])
    nx, ny = county.nx, county.ny

    # where each lattice node lies: a smooth warp (no straight grid) and a little jitter
    ph = rng.uniform(0, 2 * np.pi, 4)

    def metres(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = i + 2.5 * np.sin(2 * np.pi * j / 61.0 + ph[0]) + 1.2 * np.sin(
            2 * np.pi * (i + j) / 97.0 + ph[1])
        y = j + 2.5 * np.sin(2 * np.pi * i / 67.0 + ph[2]) + 1.2 * np.sin(
            2 * np.pi * (i - j) / 89.0 + ph[3])
        return (x - nx / 2) * UNIT_M, (y - ny / 2) * UNIT_M

    lon0, lat0 = center
    m_per_deg_lat = 110_574.0
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(lat0))

    def lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lon0 + x / m_per_deg_lon, lat0 + y / m_per_deg_lat

    used = np.zeros((ny + 1, nx + 1), bool)
    for cls, a, b in ((county.h_cls, np.s_[:, :-1], np.s_[:, 1:]),
                      (county.v_cls, np.s_[:-1, :], np.s_[1:, :])):
        used[a] |= cls > 0
        used[b] |= cls > 0
    for i, j in county.footways:
        used[j, i] = used[j + 1, i + 1] = True
    jj, ii = np.nonzero(used)
    x, y = metres(ii.astype(float), jj.astype(float))
    x += rng.uniform(-0.15, 0.15, x.size) * UNIT_M
    y += rng.uniform(-0.15, 0.15, y.size) * UNIT_M
    lon, lat = lonlat(x, y)

    def node_id(i: int, j: int) -> int:
        return j * (nx + 1) + i + 1

    river_base = (nx + 1) * (ny + 1) + 1
    river_pts = []
    for _name, pts, _end in county.rivers:
        rx, ry = metres(pts[:, 0], pts[:, 1])
        river_pts.append(lonlat(rx, ry))

    everything = [lon] + [p[0] for p in river_pts]
    west, east = float(min(a.min() for a in everything)), float(max(a.max() for a in everything))
    south = float(min(min(lat.min(), p[1].min()) for p in river_pts))
    north = float(max(max(lat.max(), p[1].max()) for p in river_pts))

    n_nodes = n_ways = 0
    way_id = 1
    with _opener(path) as raw:
        out = _Buffered(raw)
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                  '<osm version="0.6" generator="reliefsim benchmarks/osm_county.py">\n'
                  f'  <bounds minlat="{south:.7f}" minlon="{west:.7f}" maxlat="{north:.7f}" '
                  f'maxlon="{east:.7f}"/>\n')
        ids = jj * (nx + 1) + ii + 1
        for k in range(ids.size):
            out.write(f'  <node id="{ids[k]}" version="1" lat="{lat[k]:.7f}" '
                      f'lon="{lon[k]:.7f}"/>\n')
        n_nodes += ids.size
        river_ids = []
        next_id = river_base
        for rlon, rlat in river_pts:
            river_ids.append(np.arange(next_id, next_id + rlon.size))
            for k in range(rlon.size):
                out.write(f'  <node id="{next_id + k}" version="1" lat="{rlat[k]:.7f}" '
                          f'lon="{rlon[k]:.7f}"/>\n')
            next_id += rlon.size
            n_nodes += rlon.size

        def way(refs: list[int], tags: dict[str, str]) -> None:
            nonlocal way_id, n_ways
            out.write(f'  <way id="{way_id}" version="1">\n')
            for r in refs:
                out.write(f'    <nd ref="{r}"/>\n')
            for k, v in tags.items():
                out.write(f'    <tag k="{k}" v="{v}"/>\n')
            out.write("  </way>\n")
            way_id += 1
            n_ways += 1

        for horizontal in (True, False):
            cls_a = county.h_cls if horizontal else county.v_cls.T
            dir_a = county.h_dir if horizontal else county.v_dir.T
            br_a = county.h_bridge if horizontal else county.v_bridge.T
            rt_a = county.h_route if horizontal else county.v_route.T
            town_a = county.town if horizontal else county.town.T
            for line in range(cls_a.shape[0]):
                cls = cls_a[line].astype(np.int64)
                if not cls.any():
                    continue
                seg_town = np.where(town_a[line, :-1] == town_a[line, 1:], town_a[line, :-1], -1)
                key = (cls | (dir_a[line].astype(np.int64) + 1) << 3
                       | br_a[line].astype(np.int64) << 5 | rt_a[line].astype(np.int64) << 6
                       | (seg_town.astype(np.int64) + 1) << 22)
                cuts = np.flatnonzero(np.diff(key)) + 1
                for s, e in zip(np.r_[0, cuts], np.r_[cuts, key.size], strict=True):
                    if cls[s] == 0:
                        continue
                    while s < e:  # long runs are split, as mapped ways are
                        stop = min(e, s + int(rng.integers(8, 33)))
                        pos = range(s, stop + 1)
                        refs = [node_id(p, line) if horizontal else node_id(line, p) for p in pos]
                        way(*_road_tags(county, refs, int(cls[s]), int(dir_a[line, s]),
                                        bool(br_a[line, s]), int(rt_a[line, s]),
                                        int(seg_town[s]), line, horizontal, rng))
                        s = stop
        for i, j in county.footways:
            way([node_id(i, j), node_id(i + 1, j + 1)], {"highway": "footway"})
        for (name, _pts, end), rid in zip(county.rivers, river_ids, strict=True):
            refs = rid.tolist()
            if end is not None:
                refs.append(int(river_ids[0][end]))
            for s in range(0, len(refs) - 1, 150):
                way(refs[s:s + 151], {"waterway": "river", "name": name})
        out.write("</osm>\n")
        out.flush()
    nodes_p, edges_p = county.predicted()
    return CountySummary(
        path=path, size_bytes=path.stat().st_size, osm_nodes=n_nodes, ways=n_ways,
        towns=len(county.towns), km=(nx * UNIT_M / 1000, ny * UNIT_M / 1000),
        bbox=(west, south, east, north), predicted_nodes=nodes_p, predicted_edges=edges_p,
        seconds=time.perf_counter() - start)


def _road_tags(county: County, refs: list[int], cls: int, direction: int, bridge: bool,
               route: int, town: int, line: int, horizontal: bool,
               rng: np.random.Generator) -> tuple[list[int], dict[str, str]]:
    """The node list (in the way's direction) and tags of a road way."""
    tags = {"highway": CLASSES[cls]}
    if route:
        name, ref = county.routes[route]
        tags["name"] = name
        if ref:
            tags["ref"] = ref
        if (cls == PRIMARY and route % 5 != 0) or (cls == SECONDARY and route % 5 < 2) or (
                cls == TERTIARY):
            tags["maxspeed"] = {PRIMARY: "60", SECONDARY: "50", TERTIARY: "40"}[cls]
    elif cls == RESIDENTIAL and town >= 0:
        tname, ci, cj, r = county.towns[town]
        number = line - ((cj if horizontal else ci) - r) + 1
        if number % 5:  # most streets have a name
            tags["name"] = f"{tname}{number}{'街' if horizontal else '路'}"
        if direction and number % 3 == 0:
            tags["maxspeed"] = "30"
    elif cls == UNCLASSIFIED and line % 3 == 0:
        tags["name"] = f"乡道Y{(line * 7 + (0 if horizontal else 500)) % 900 + 100}"
        if line % 9 == 0:
            tags["maxspeed"] = "40 km/h"
    if direction:
        if direction < 0 and rng.random() < 0.2:
            tags["oneway"] = "-1"  # drawn against the traffic
        else:
            tags["oneway"] = "yes"
            if direction < 0:
                refs = refs[::-1]
    if bridge:
        tags["bridge"] = "yes"
        tags["layer"] = "1"
    return refs, tags


class _Buffered:
    """Text written in large UTF-8 chunks to a binary stream."""

    def __init__(self, raw: IO[bytes], size: int = 1 << 20) -> None:
        self.raw, self.size, self.parts, self.held = raw, size, [], 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.held += len(text)
        if self.held >= self.size:
            self.flush()

    def flush(self) -> None:
        self.raw.write("".join(self.parts).encode("utf-8"))
        self.parts, self.held = [], 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="output .osm (or .osm.gz/.osm.xz/.osm.bz2)")
    parser.add_argument("--nodes", type=int, default=49_000,
                        help="nodes of the prepared drivable network (default 49,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--center", type=float, nargs=2, default=DEFAULT_CENTER,
                        metavar=("LON", "LAT"), help="the county's centre")
    args = parser.parse_args()
    s = write_county(args.out, nodes=args.nodes, seed=args.seed, center=tuple(args.center))
    print(f"{s.path}: {s.size_bytes / 1e6:.1f} MB, {s.osm_nodes:,} OSM nodes, {s.ways:,} ways, "
          f"{s.towns} towns, {s.km[0]:.1f} × {s.km[1]:.1f} km, in {s.seconds:.1f} s")
    print(f"predicted after preparation: ≈ {s.predicted_nodes:,} nodes, "
          f"≈ {s.predicted_edges:,} directed edges (reliefsim keeps the largest strongly "
          "connected component: slightly fewer)")


if __name__ == "__main__":
    main()
