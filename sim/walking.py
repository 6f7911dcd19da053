"""Walking times between sites (evacuation to shelters, the 15-minute life-support circle).

People walk on the pedestrian network of the scenario's OSM extract when the world has one
(``world.walk``); otherwise on the drivable network at walking speed, and
:func:`walk_basis` says which. Times are hours, ``inf`` where no path exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["WALK_KMH", "walk_basis", "walk_times_h"]

WALK_KMH = 4.5
"""Default walking speed (km/h): about 1.25 m/s, the free walking speed of adults in the
pedestrian literature (Fruin; HCM uses 1.2 m/s); an assumption for evacuees, set
``evacuation.walk_kmh`` in the scenario to change it."""


def walk_basis(world: Any) -> str:
    """'walk' (the extract's pedestrian network) or 'road' (drivable roads at walking pace)."""
    return "walk" if getattr(world, "walk", None) is not None else "road"


def _network_and_nodes(world: Any, site_ids: Sequence[str]) -> tuple[Any, np.ndarray]:
    if walk_basis(world) == "walk":
        return world.walk, np.array([world.walk_nodes[s] for s in site_ids], dtype=int)
    return world.road, np.array([world.node(s) for s in site_ids], dtype=int)


def walk_times_h(world: Any, origins: Sequence[str], destinations: Sequence[str], *,
                 kmh: float = WALK_KMH) -> np.ndarray:
    """Walking time (hours) from each origin site to each destination site: shortest path
    length over the walking network (both directions open, whatever the one-way tags) at
    ``kmh``; ``inf`` where none exists. Shape (origins, destinations)."""
    network, origin_nodes = _network_and_nodes(world, origins)
    _, dest_nodes = _network_and_nodes(world, destinations)
    if not len(origin_nodes) or not len(dest_nodes):
        return np.zeros((len(origin_nodes), len(dest_nodes)))
    n = len(network.node_ids)
    u, v = network.edge_u.astype(np.int64), network.edge_v.astype(np.int64)
    metres_of = np.maximum(network.edge_length_m.astype(float), 1e-6)  # 0 m is still an edge
    order = np.lexsort((metres_of, u * n + v))  # parallel edges: keep the shortest
    keep = order[np.r_[True, np.diff((u * n + v)[order]) != 0]]
    graph = csr_matrix((metres_of[keep], (u[keep], v[keep])), shape=(n, n))
    metres = dijkstra(graph, directed=False, indices=np.unique(origin_nodes))
    rows = {node: k for k, node in enumerate(np.unique(origin_nodes))}
    out = metres[[rows[o] for o in origin_nodes]][:, dest_nodes]
    return out / 1000.0 / kmh
