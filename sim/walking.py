"""Walking times between sites (evacuation to shelters, the 15-minute life-support circle).

People walk on the pedestrian network of the scenario's OSM extract when the world has one
(``world.walk``); otherwise on the drivable network at walking speed, and
:func:`walk_basis` says which. Times are hours, ``inf`` where no path exists.

The 15-minute life-support circle (市民15分钟生活保障圈): :func:`life_circle` gives each
settlement's walking minutes to its nearest stockpile point (a depot of the chosen kinds) and
to its nearest shelter with room; :func:`life_circle_share` the people-weighted share within
the limit; :func:`life_circle_kpis` the KPI ``life_circle_15min`` — the share of people whose
settlement lies within ``targets.life_circle_min`` minutes' walk of a stockpile point,
passed when it reaches ``targets.life_circle_share``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from scipy.sparse import csr_matrix

__all__ = ["LIFE_CIRCLE_KPI", "WALK_KMH", "life_circle", "life_circle_kpi", "life_circle_kpis",
           "life_circle_share", "shelter_room", "walk_basis", "walk_matrix_h", "walk_network",
           "walk_nodes", "walk_times_h"]

WALK_KMH = 4.5
"""Default walking speed (km/h): about 1.25 m/s, the free walking speed of adults in the
pedestrian literature (Fruin; HCM uses 1.2 m/s); an assumption for evacuees, set
``evacuation.walk_kmh`` in the scenario to change it."""

LIFE_CIRCLE_KPI = "life_circle_15min"
"""KPI id of the 15-minute life-support circle (its limit is ``targets.life_circle_min``)."""


def walk_basis(world: Any) -> str:
    """'walk' (the extract's pedestrian network) or 'road' (drivable roads at walking pace)."""
    return "walk" if getattr(world, "walk", None) is not None else "road"


def walk_network(world: Any) -> Any:
    """The network people walk on: ``world.walk``, else the drivable ``world.road``."""
    return world.walk if walk_basis(world) == "walk" else world.road


def walk_nodes(world: Any, site_ids: Sequence[str]) -> np.ndarray:
    """Node indices of sites on :func:`walk_network`."""
    if walk_basis(world) == "walk":
        return np.array([world.walk_nodes[s] for s in site_ids], dtype=int)
    return np.array([world.node(s) for s in site_ids], dtype=int)


def _graph(network: Any, memo: dict[Any, Any] | None) -> csr_matrix:
    """Edge lengths (m) as a CSR matrix, the shortest of parallel edges; memoised per
    network in the world's memo."""
    from scipy.sparse import csr_matrix

    key = ("walk_csr", network.key, network.n_nodes, network.n_edges)
    if memo is not None and key in memo:
        return memo[key]
    n = len(network.node_ids)
    u, v = network.edge_u.astype(np.int64), network.edge_v.astype(np.int64)
    metres_of = np.maximum(network.edge_length_m.astype(float), 1e-6)  # 0 m is still an edge
    order = np.lexsort((metres_of, u * n + v))  # parallel edges: keep the shortest
    keep = order[np.r_[True, np.diff((u * n + v)[order]) != 0]] if len(order) else order
    graph = csr_matrix((metres_of[keep], (u[keep], v[keep])), shape=(n, n))
    if memo is not None:
        memo[key] = graph
    return graph


def walk_matrix_h(world: Any, origin_nodes: Sequence[int] | np.ndarray,
                  dest_nodes: Sequence[int] | np.ndarray, *, kmh: float = WALK_KMH
                  ) -> np.ndarray:
    """Walking time (hours) between node indices of :func:`walk_network`: shortest path
    length (both directions open) / ``kmh``; ``inf`` where no path exists."""
    origin_nodes = np.asarray(origin_nodes, dtype=int).reshape(-1)
    dest_nodes = np.asarray(dest_nodes, dtype=int).reshape(-1)
    if not len(origin_nodes) or not len(dest_nodes):
        return np.zeros((len(origin_nodes), len(dest_nodes)))
    if not (math.isfinite(kmh) and kmh > 0):
        raise ValueError(f"walking speed must be a positive number of km/h, got {kmh!r}")
    from scipy.sparse.csgraph import dijkstra

    graph = _graph(walk_network(world), getattr(world, "memo", None))
    unique, rows = np.unique(origin_nodes, return_inverse=True)
    metres = dijkstra(graph, directed=False, indices=unique)
    return metres[rows][:, dest_nodes] / 1000.0 / kmh


def walk_times_h(world: Any, origins: Sequence[str], destinations: Sequence[str], *,
                 kmh: float = WALK_KMH) -> np.ndarray:
    """Walking time (hours) from each origin site to each destination site: shortest path
    length over the walking network (both directions open, whatever the one-way tags) at
    ``kmh``; ``inf`` where none exists. Shape (origins, destinations)."""
    return walk_matrix_h(world, walk_nodes(world, origins), walk_nodes(world, destinations),
                         kmh=kmh)


def shelter_room(shelter: Any) -> float:
    """People a shelter can take: its computed ``capacity`` when the scenario gives one, else
    ``capacity_people``."""
    capacity = getattr(shelter, "capacity", None)
    return float(capacity if capacity is not None else getattr(shelter, "capacity_people", 0))


def _nearest(world: Any, settlements: list[str], sites: list[Any], kmh: float
             ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Nearest site (id, name, minutes) of each settlement; '' and inf when none."""
    if not sites or not settlements:
        n = len(settlements)
        return [""] * n, np.array([""] * n, dtype=object), np.full(n, np.inf)
    minutes = walk_times_h(world, settlements, [x.id for x in sites], kmh=kmh) * 60.0
    best = np.argmin(minutes, axis=1)
    best_min = minutes[np.arange(len(settlements)), best]
    reach = np.isfinite(best_min)
    ids = [sites[k].id if ok else "" for k, ok in zip(best, reach, strict=True)]
    names = np.array([(sites[k].name or sites[k].id) if ok else ""
                      for k, ok in zip(best, reach, strict=True)], dtype=object)
    return ids, names, best_min


def life_circle(world: Any, *, minutes: float, kinds: Sequence[str] = ("physical",),
                kmh: float = WALK_KMH) -> pd.DataFrame:
    """Per settlement: walking minutes to the nearest stockpile point (a depot of ``kinds``)
    and to the nearest shelter with room (capacity > 0), and whether each lies within
    ``minutes``. Columns: settlement, name, people, stockpile, stockpile_name,
    stockpile_min, stockpile_within, shelter, shelter_name, shelter_min, shelter_within
    (minutes ``inf`` and ids '' where there is none within reach). ``frame.attrs`` holds
    ``minutes``, ``basis`` (:func:`walk_basis`) and ``kmh``."""
    import pandas as pd

    if not (math.isfinite(minutes) and minutes > 0):
        raise ValueError(f"minutes must be a positive number, got {minutes!r}")
    scenario = world.scenario
    settlements = [s.id for s in scenario.settlements]
    depots = [d for d in scenario.depots if d.kind in tuple(kinds)]
    shelters = [s for s in getattr(scenario, "shelters", []) if shelter_room(s) > 0]
    stock_id, stock_name, stock_min = _nearest(world, settlements, depots, kmh)
    shelter_id, shelter_name, shelter_min = _nearest(world, settlements, shelters, kmh)
    frame = pd.DataFrame({
        "settlement": settlements,
        "name": [s.name or s.id for s in scenario.settlements],
        "people": np.array([s.people for s in scenario.settlements], dtype=float),
        "stockpile": stock_id, "stockpile_name": stock_name, "stockpile_min": stock_min,
        "stockpile_within": stock_min <= minutes + 1e-9,
        "shelter": shelter_id, "shelter_name": shelter_name, "shelter_min": shelter_min,
        "shelter_within": shelter_min <= minutes + 1e-9,
    })
    frame.attrs.update({"minutes": float(minutes), "basis": walk_basis(world),
                        "kmh": float(kmh)})
    return frame


def life_circle_share(frame: pd.DataFrame, people: Mapping[str, float] | Sequence[float]
                      | np.ndarray | None = None, *, of: str = "stockpile") -> float:
    """People-weighted share of settlements within the circle (``of``: 'stockpile' or
    'shelter'); ``people`` by settlement id (a mapping) or row (a sequence), default the
    frame's own column. NaN when nobody is counted."""
    if isinstance(people, Mapping):
        weights = frame.settlement.map(lambda s: float(people.get(s, 0.0))).to_numpy(float)
    elif people is None:
        weights = frame.people.to_numpy(float)
    else:
        weights = np.asarray(people, dtype=float)
        if weights.shape != (len(frame),):
            raise ValueError(f"people: one number per row ({len(frame)}), got {weights.shape}")
    total = float(weights.sum())
    if total <= 0:
        return math.nan
    return float(weights[frame[f"{of}_within"].to_numpy(bool)].sum() / total)


def life_circle_kpis(world: Any, *, kinds: Sequence[str] = ("physical",),
                     kmh: float = WALK_KMH) -> list[Any]:
    """The KPI ``life_circle_15min`` as a :class:`sim.metrics.Kpi` (unit 'min'): walking
    minutes to the nearest stockpile point over people; ``share_within`` the share within
    ``targets.life_circle_min``, passed when it reaches ``targets.life_circle_share``;
    ``never`` the people who cannot reach any stockpile point on foot. Empty without
    settlements. A property of the layout, the same in every replication."""
    targets = world.scenario.targets
    if not world.scenario.settlements:
        return []
    return [life_circle_kpi(life_circle(world, minutes=float(targets.life_circle_min),
                                        kinds=kinds, kmh=kmh), targets)]


def life_circle_kpi(frame: pd.DataFrame, targets: Any) -> Any:
    """The KPI ``life_circle_15min`` of a :func:`life_circle` frame measured with
    ``targets.life_circle_min`` (see :func:`life_circle_kpis`)."""
    from sim.metrics import EPS, Kpi, weighted_quantile

    values, weights = frame.stockpile_min.to_numpy(float), frame.people.to_numpy(float)
    n = float(weights.sum())
    finite = np.isfinite(values)
    served = float(weights[finite].sum())
    mean = float(np.average(values[finite], weights=weights[finite])) if served > 0 else math.nan
    share = life_circle_share(frame)
    required = float(targets.life_circle_share)
    return Kpi(LIFE_CIRCLE_KPI, "市民15分钟生活保障圈（步行至储备点）",
               float(targets.life_circle_min), "min", n, n - served, mean,
               weighted_quantile(values, weights, 0.5), weighted_quantile(values, weights, 0.95),
               float(values.max()), share, required, share >= required - EPS)
