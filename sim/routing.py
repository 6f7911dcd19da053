"""Travel-time engine: origin×destination matrices on a CSR graph with scipy.sparse.csgraph.

:class:`TravelTimes` wraps a prepared :class:`~sim.network.Network`.  A *closure state*
(closed edges, slowed edges) selects the edge times; for each state the CSR matrix and the
shortest-path trees of every origin solved so far are cached, so switching back to an
earlier state costs nothing.  One ``dijkstra`` call solves all new origins of a query at
once; distances along the fastest paths come from the predecessor trees by pointer jumping
(vectorised, no second Dijkstra on length), only when asked for.  Paths toward a node whose
origin has no tree yet use that destination's tree on the reversed graph, so vehicles
returning from many scattered places to a few bases share one tree per base.

Between the same two nodes only the fastest open parallel edge is used (its length gives
the distance).  Times are in hours, distances in km; unreachable pairs are ``np.inf``.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.network import Network

__all__ = ["TravelTimes"]

#: Lower bound on an edge time (h) so zero-length edges stay edges in the CSR matrix.
_MIN_TIME_H = 1e-12
_NO_PRED = -9999


@dataclass
class _State:
    """One closure state: its edge times, CSR graph and solved shortest-path trees."""

    closed: np.ndarray
    slow_edges: np.ndarray
    slow_factors: np.ndarray
    edge_time_h: np.ndarray | None = None
    csr: csr_matrix | None = None
    pair_keys: np.ndarray | None = None  # sorted u*n+v of open (u, v) pairs
    pair_edge: np.ndarray | None = None  # chosen (fastest) edge index per open pair
    pair_length_km: np.ndarray | None = None
    csr_reversed: csr_matrix | None = None
    time_h: dict[int, np.ndarray] = field(default_factory=dict)
    pred: dict[int, np.ndarray] = field(default_factory=dict)
    dist_km: dict[int, np.ndarray] = field(default_factory=dict)
    next_hop: dict[int, np.ndarray] = field(default_factory=dict)  # toward a destination


class TravelTimes:
    """Shortest travel times (h) and distances (km) over a network under a closure state.

    >>> tt = TravelTimes(network)
    >>> time_h, dist_km = tt.matrix(depot_nodes, site_nodes)
    >>> tt.set_state(closed=flooded_edges, slow={e: 2.0 for e in wet_edges})
    >>> tt.path(a, b)          # node indices of the fastest path under the new state
    """

    def __init__(self, network: Network, *, max_cached_states: int = 32) -> None:
        if max_cached_states < 1:
            raise ValueError("max_cached_states must be >= 1")
        self.network = network
        self.max_cached_states = int(max_cached_states)
        n = network.n_nodes
        self._n = n
        self._base_time_h = np.asarray(network.edge_time_h, dtype=np.float64)
        self._length_km = np.asarray(network.edge_length_m, dtype=np.float64) / 1000.0
        edge_pair = np.asarray(network.edge_u, np.int64) * n + np.asarray(network.edge_v, np.int64)
        self._pairs, self._pair_of_edge = np.unique(edge_pair, return_inverse=True)
        self._states: OrderedDict[str, _State] = OrderedDict()
        self.stats = {"dijkstra_calls": 0, "sources_solved": 0, "graph_builds": 0}
        self._key = ""
        self.set_state()

    # ------------------------------------------------------------------ state

    @property
    def n_nodes(self) -> int:
        return self._n

    @property
    def state_key(self) -> str:
        """Key of the current closure state (``"open"`` when nothing is closed or slowed)."""
        return self._key

    @property
    def closed_edges(self) -> np.ndarray:
        """Edge indices closed in the current state."""
        return self._state.closed.copy()

    def set_state(self, closed: Iterable[int] = (), slow: Mapping[int, float] | None = None
                  ) -> str:
        """Select the closure state: ``closed`` edges removed, ``slow`` edge times × factor.

        A factor of ``inf`` closes the edge; factors must be positive.  Nothing is computed
        until queried; an earlier state's cached results are reused.  Returns the state key.
        """
        if (not slow and isinstance(closed, (tuple, list, set, frozenset)) and not closed
                and self.use_state("open")):
            return "open"
        m = self._base_time_h.size
        closed_arr = np.unique(np.asarray(list(closed), dtype=np.int64).reshape(-1))
        slow = dict(slow or {})
        slow_edges = np.asarray(list(slow.keys()), dtype=np.int64).reshape(-1)
        slow_factors = np.asarray(list(slow.values()), dtype=np.float64).reshape(-1)
        for arr, what in ((closed_arr, "closed"), (slow_edges, "slow")):
            if arr.size and (arr.min() < 0 or arr.max() >= m):
                raise ValueError(f"{what} edge indices must be in [0, {m})")
        if slow_factors.size and (np.isnan(slow_factors).any() or (slow_factors <= 0).any()):
            raise ValueError("slow-down factors must be positive numbers")
        closed_arr = np.union1d(closed_arr, slow_edges[np.isinf(slow_factors)])
        keep = ~np.isinf(slow_factors) & (slow_factors != 1.0) & ~np.isin(slow_edges, closed_arr)
        slow_edges, slow_factors = slow_edges[keep], slow_factors[keep]
        order = np.argsort(slow_edges, kind="stable")
        slow_edges, slow_factors = slow_edges[order], slow_factors[order]
        key = self._make_key(closed_arr, slow_edges, slow_factors)
        if key not in self._states:
            self._states[key] = _State(closed_arr, slow_edges, slow_factors)
        self._states.move_to_end(key)
        while len(self._states) > self.max_cached_states:
            self._states.popitem(last=False)
        self._key = key
        return key

    def use_state(self, key: str) -> bool:
        """Switch back to a state by its key; False when it is no longer cached."""
        if key not in self._states:
            return False
        self._states.move_to_end(key)
        self._key = key
        return True

    @staticmethod
    def _make_key(closed: np.ndarray, slow_edges: np.ndarray, slow_factors: np.ndarray) -> str:
        if closed.size == 0 and slow_edges.size == 0:
            return "open"
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(closed.astype("<i8").tobytes())
        digest.update(b"|")
        digest.update(slow_edges.astype("<i8").tobytes())
        digest.update(slow_factors.astype("<f8").tobytes())
        return digest.hexdigest()[:16]

    @property
    def _state(self) -> _State:
        state = self._states.get(self._key)
        if state is None:  # evicted while current cannot happen, but stay safe
            raise RuntimeError("closure state missing from cache")
        if state.csr is None:
            self._build(state)
        return state

    def _build(self, state: _State) -> None:
        n = self._n
        t = self._base_time_h.copy()
        t[state.slow_edges] *= state.slow_factors
        t[state.closed] = np.inf
        # fastest parallel edge per (u, v): sort by pair then time, take the first of each
        order = np.lexsort((t, self._pair_of_edge))
        grp = self._pair_of_edge[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = grp[1:] != grp[:-1]
        chosen = order[first]
        chosen = chosen[np.isfinite(t[chosen])]
        keys = self._pairs[self._pair_of_edge[chosen]]  # ascending
        data = np.maximum(t[chosen], _MIN_TIME_H)
        state.csr = csr_matrix((data, (keys // n, keys % n)), shape=(n, n))
        state.edge_time_h = t
        state.edge_time_h.setflags(write=False)
        state.pair_keys = keys
        state.pair_edge = chosen
        state.pair_length_km = self._length_km[chosen]
        self.stats["graph_builds"] += 1

    @property
    def edge_time_h(self) -> np.ndarray:
        """Per-edge times (h) in the current state (``inf`` for closed edges), read-only."""
        state = self._state
        assert state.edge_time_h is not None
        return state.edge_time_h

    # ------------------------------------------------------------------ solving

    def _nodes(self, nodes: int | Iterable[int] | np.ndarray, what: str) -> np.ndarray:
        arr = np.asarray(nodes if not isinstance(nodes, (int, np.integer)) else [nodes])
        arr = arr.reshape(-1)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{what} must be integer node indices")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self._n):
            raise ValueError(f"{what} node indices must be in [0, {self._n})")
        return arr

    def _node(self, node: int, what: str) -> int:
        if isinstance(node, (int, np.integer)) and 0 <= node < self._n:
            return int(node)
        return int(self._nodes(node, what)[0])

    def _solve(self, origins: np.ndarray, *, with_km: bool = False) -> _State:
        """Solve (once per state) the shortest-path trees of ``origins`` (and their km)."""
        state = self._state
        missing = np.array([o for o in np.unique(origins).tolist() if o not in state.time_h],
                           dtype=np.int64)
        if missing.size:
            time_h, pred = self._dijkstra(state.csr, missing)
            for i, origin in enumerate(missing.tolist()):
                state.time_h[origin], state.pred[origin] = _frozen(time_h[i]), _frozen(pred[i])
        if with_km:
            need = [o for o in np.unique(origins).tolist() if o not in state.dist_km]
            if need:
                pred = np.stack([state.pred[o] for o in need])
                dist_km = self._tree_distances(state, pred)
                for i, origin in enumerate(need):
                    dist_km[i][~np.isfinite(state.time_h[origin])] = np.inf
                    state.dist_km[origin] = _frozen(dist_km[i])
        return state

    def _solve_toward(self, destination: int) -> _State:
        """Solve (once per state) the tree of fastest paths from every node to ``destination``."""
        state = self._state
        if destination not in state.next_hop:
            if state.csr_reversed is None:
                assert state.csr is not None
                state.csr_reversed = state.csr.T.tocsr()
            _, pred = self._dijkstra(state.csr_reversed, np.array([destination]))
            state.next_hop[destination] = _frozen(pred[0])
        return state

    def _dijkstra(self, csr: csr_matrix | None, sources: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        time_h, pred = dijkstra(csr, directed=True, indices=sources, return_predecessors=True)
        self.stats["dijkstra_calls"] += 1
        self.stats["sources_solved"] += int(sources.size)
        return np.atleast_2d(time_h), np.atleast_2d(pred).astype(np.int32)

    def _tree_distances(self, state: _State, pred: np.ndarray) -> np.ndarray:
        """Length (km) from the root of each predecessor tree, by pointer jumping."""
        n = self._n
        k = pred.shape[0]
        assert state.pair_keys is not None and state.pair_length_km is not None
        valid = pred >= 0
        cols = np.broadcast_to(np.arange(n, dtype=np.int64), pred.shape)
        hop_km = np.zeros((k, n + 1), dtype=np.float64)
        if valid.any():
            pos = np.searchsorted(state.pair_keys, pred[valid].astype(np.int64) * n + cols[valid])
            hop_km[:, :n][valid] = state.pair_length_km[pos]
        # sentinel column n: zero length, points to itself
        jump = np.full((k, n + 1), n, dtype=np.int64)
        jump[:, :n][valid] = pred[valid]
        while (jump[:, :n] != n).any():
            hop_km = hop_km + np.take_along_axis(hop_km, jump, axis=1)
            jump = np.take_along_axis(jump, jump, axis=1)
        return hop_km[:, :n]

    # ------------------------------------------------------------------ queries

    def matrix(self, origins: Iterable[int] | np.ndarray, destinations: Iterable[int] | np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(time_h, dist_km)`` of shape (len(origins), len(destinations)); ``inf`` if cut off.

        Distances are along the fastest path (not the shortest one).
        """
        o = self._nodes(origins, "origins")
        d = self._nodes(destinations, "destinations")
        if o.size == 0 or d.size == 0:
            empty = np.zeros((o.size, d.size))
            return empty, empty.copy()
        state = self._solve(o, with_km=True)
        return _rows(state.time_h, o, d), _rows(state.dist_km, o, d)

    def times(self, origins: Iterable[int] | np.ndarray, destinations: Iterable[int] | np.ndarray
              ) -> np.ndarray:
        """``time_h`` of shape (len(origins), len(destinations)), as :meth:`matrix` gives
        it, without the distances (which cost as much again: only :meth:`matrix` tracks km)."""
        o = self._nodes(origins, "origins")
        d = self._nodes(destinations, "destinations")
        if o.size == 0 or d.size == 0:
            return np.zeros((o.size, d.size))
        return _rows(self._solve(o).time_h, o, d)

    def from_node(self, origin: int) -> np.ndarray:
        """Times (h) from ``origin`` to every node in the current state (read-only, cached)."""
        o = self._node(origin, "origin")
        state = self._state
        row = state.time_h.get(o)
        return row if row is not None else self._solve(np.array([o])).time_h[o]

    def dist_from_node(self, origin: int) -> np.ndarray:
        """Distances (km) along the fastest paths from ``origin`` to every node (read-only)."""
        o = self._node(origin, "origin")
        row = self._state.dist_km.get(o)
        return row if row is not None else self._solve(np.array([o]), with_km=True).dist_km[o]

    def path(self, origin: int, destination: int) -> list[int]:
        """Node indices of the fastest path (``[]`` when unreachable) in the current state.

        Uses the origin's tree when it is solved, else the destination's reversed tree.
        """
        o, t = self._node(origin, "origin"), self._node(destination, "destination")
        state = self._state
        if o in state.pred:
            if not math.isfinite(state.time_h[o][t]):
                return []
            nodes, pred = [t], state.pred[o]
            while nodes[-1] != o:
                nodes.append(int(pred[nodes[-1]]))
            nodes.reverse()
            return nodes
        next_hop = self._solve_toward(t).next_hop[t]
        if o != t and next_hop[o] == _NO_PRED:
            return []
        nodes = [o]
        while nodes[-1] != t:
            nodes.append(int(next_hop[nodes[-1]]))
        return nodes

    def path_edges(self, origin: int, destination: int) -> tuple[np.ndarray, np.ndarray]:
        """``(edge_indices, edge_time_h)`` along the fastest path, in travel order.

        The times are those of the current state and sum to ``matrix(origin, destination)``.
        """
        nodes = self.path(origin, destination)
        return self.edges_of_path(nodes)

    def edges_of_path(self, nodes: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Edge indices and current times (h) for consecutive nodes of a path.

        Uses the fastest open parallel edge between each pair; a hop with no open edge gets
        edge ``-1`` and time ``inf`` (e.g. a planned path crossing a newly closed road).
        """
        arr = np.asarray(nodes, dtype=np.int64).reshape(-1)
        if arr.size < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        state = self._state
        assert state.pair_keys is not None and state.pair_edge is not None
        assert state.edge_time_h is not None
        keys = arr[:-1] * self._n + arr[1:]
        if state.pair_keys.size == 0:
            return np.full(keys.size, -1, dtype=np.int64), np.full(keys.size, np.inf)
        pos = np.minimum(np.searchsorted(state.pair_keys, keys), state.pair_keys.size - 1)
        ok = state.pair_keys[pos] == keys
        edges = np.where(ok, state.pair_edge[pos], -1).astype(np.int64)
        times = np.where(ok, state.edge_time_h[np.maximum(edges, 0)], np.inf)
        return edges, times


def _frozen(row: np.ndarray) -> np.ndarray:
    row = row.copy()
    row.setflags(write=False)
    return row


def _rows(by_origin: Mapping[int, np.ndarray], origins: np.ndarray, destinations: np.ndarray
          ) -> np.ndarray:
    """The solved rows of ``origins`` (each solved once, repeats shared), at ``destinations``."""
    uniq, inverse = np.unique(origins, return_inverse=True)
    return np.stack([by_origin[x] for x in uniq.tolist()])[inverse][:, destinations]
