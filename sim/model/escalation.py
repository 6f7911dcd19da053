"""A vectorised screen for relief's escalation checks (#20: linear model cost).

Relief re-checks escalation for every open request whose sources changed: would its open tiers'
usable stock cover the need, and would they deliver it by the deadline
(:meth:`sim.model.relief.Relief._escalate`)? One check costs an estimate over the request's
depots and a sorted pass over them; at county scale the open requests and the changes both
grow with the scenario, so the checks grow with its square. The screen computes the same
quantities for a batch of requests at once in numpy, with the same operations in the same order
(so the same floating-point results), and clears the requests it finds no reason to escalate;
relief checks the rest one by one as before. A cleared request is one the scalar check would
not escalate, so the records do not change (``tests/test_choices.py`` holds the screen equal
to the check on real and random states).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.relief import DepotState, Request

SCREEN_FROM = 24
"""Fewest requests screened at once: below it the screen's fixed cost (≈ 0.1 ms) exceeds the
scalar checks it saves (≈ 10–20 µs each), and relief checks them one by one."""


class EscalationScreen:
    """The depots' fixed data as arrays, in the order of their ids (the order
    :func:`sim.model.relief._earliest` breaks ties in)."""

    def __init__(self, depots: Sequence[DepotState], unit_kg: Mapping[str, float],
                 own: Mapping[str, set[str]], rules: Any, eps: float) -> None:
        order = sorted(range(len(depots)), key=lambda i: depots[i].spec.id)
        self.depots = [depots[i] for i in order]
        self.position = np.array(order)
        """Each depot's place in relief's list (the order an estimate lists sources in)."""
        self.commodities = list(unit_kg)
        self.index = {c: i for i, c in enumerate(self.commodities)}
        self.unit_kg = np.array(list(unit_kg.values()), dtype=float)
        self.own = own
        self.rules = rules
        self.eps = eps
        trucks = [d.spec.trucks for d in self.depots]
        self.rank = np.array([d.rank for d in self.depots])
        self.handling = np.array([t.load_h + t.unload_h for t in trucks])
        self.load_h = np.array([t.load_h for t in trucks])
        self.unload_h = np.array([t.unload_h for t in trucks])
        self.count = np.array([t.count for t in trucks], dtype=float)
        self.capacity = np.maximum(np.array([t.capacity_kg for t in trucks], dtype=float), eps)
        # what does not change of each request, by its seq (filled as requests arrive)
        self._known = np.zeros(0, dtype=bool)
        self._node = np.zeros(0, dtype=np.int64)
        self._kind = np.zeros(0, dtype=np.int64)
        self._deadline = np.zeros(0)
        self._raised = np.zeros(0)
        self._mine = np.zeros((0, len(self.depots)), dtype=bool)

    def _register(self, requests: Sequence[Request], seqs: np.ndarray) -> None:
        size = len(self._known)
        if seqs.max(initial=-1) >= size:
            grow = max(2 * size, int(seqs.max()) + 1) - size
            self._known = np.concatenate([self._known, np.zeros(grow, dtype=bool)])
            self._node = np.concatenate([self._node, np.zeros(grow, dtype=np.int64)])
            self._kind = np.concatenate([self._kind, np.zeros(grow, dtype=np.int64)])
            self._deadline = np.concatenate([self._deadline, np.zeros(grow)])
            self._raised = np.concatenate([self._raised, np.zeros(grow)])
            self._mine = np.concatenate(
                [self._mine, np.zeros((grow, len(self.depots)), dtype=bool)])
        for i in np.flatnonzero(~self._known[seqs]).tolist():
            r, k = requests[i], int(seqs[i])
            mine = self.own.get(r.settlement, ())
            self._node[k], self._kind[k] = r.node, self.index[r.commodity]
            self._deadline[k], self._raised[k] = r.deadline_h, r.raised_h
            self._mine[k] = [d.spec.id in mine for d in self.depots]
            self._known[k] = True

    def may_escalate(self, requests: Sequence[Request], now: float, times_from: Any,
                     free_h: Mapping[int, float]) -> np.ndarray:
        """For each request, False when its open tiers surely cover it in time (no escalation
        now), True when relief must check it. ``free_h``: when each depot's (by ``id``) first
        truck is free; ``times_from(node)``: hours from a node to every node now."""
        n, m, eps = len(requests), len(self.depots), self.eps
        seqs = np.fromiter((r.seq for r in requests), dtype=np.int64, count=n)
        self._register(requests, seqs)
        rank = np.fromiter((r.rank for r in requests), dtype=np.int64, count=n)
        remaining = np.fromiter((r.remaining for r in requests), dtype=float, count=n)
        nodes, kinds = self._node[seqs], self._kind[seqs]
        deadline, mine, kg = self._deadline[seqs], self._mine[seqs], self.unit_kg[kinds]
        support = self.rules.support
        level = np.zeros((n, m))
        drive = np.full((n, m), math.inf)
        for j, d in enumerate(self.depots):
            if d.active:
                levels = np.array([d.stock[c].level for c in self.commodities])
                level[:, j] = levels[kinds]
                drive[:, j] = times_from(d.node)[nodes]
        free = np.array([free_h[id(d)] for d in self.depots])
        in_pool = (self.rank <= rank[:, None]) & (mine if support == "never" else True)
        ok = in_pool & (level > eps) & (drive < math.inf)
        eta = (free + self.handling) + drive
        if support == "after_delay":
            late_enough = now >= self._raised[seqs] + self.rules.support_delay_h
            chosen = ok & (mine | late_enough[:, None])
        elif support == "if_earlier":
            best = np.where(ok & mine, eta, math.inf).min(axis=1, initial=math.inf)
            chosen = ok & (mine | (eta + self.rules.support_margin_h <= best[:, None]))
        else:  # never: only the settlement's own depots are in its pool
            chosen = ok
        usable = chosen & (self.count > 0)
        flagged = self._stock(usable, level, mine) + eps < remaining
        if self.rules.escalate_if_late:
            flagged |= self._finish_h(usable, eta, level, drive, remaining, kg) > deadline + eps
        return flagged

    def _stock(self, usable: np.ndarray, level: np.ndarray, mine: np.ndarray) -> np.ndarray:
        """The usable stock of each row, summed in the estimate's order (own depots, then
        supporting ones, each in relief's order) so that it is exactly the scalar sum."""
        rows = np.arange(len(level))
        order = np.argsort(np.where(mine, 0, len(self.depots)) + self.position, axis=1)
        total = np.zeros(len(level))
        for k in range(order.shape[1]):
            j = order[:, k]
            total += np.where(usable[rows, j], level[rows, j], 0.0)
        return total

    def _finish_h(self, usable: np.ndarray, eta: np.ndarray, level: np.ndarray,
                  drive: np.ndarray, remaining: np.ndarray, kg: np.ndarray) -> np.ndarray:
        """:meth:`Relief._finish_h` for every row: the sources in order of arrival (ties by
        depot id), each sending its stock in truckloads, its trucks cycling."""
        n, eps = len(remaining), self.eps
        order = np.argsort(np.where(usable, eta, math.inf), axis=1, kind="stable")
        rows = np.arange(n)
        left = remaining.copy()
        finish = np.full(n, -math.inf)
        done = np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            for k in range(order.shape[1]):
                j = order[:, k]
                use = usable[rows, j] & ~done
                if not use.any():
                    continue
                qty = np.minimum(left, level[rows, j])
                loads = np.ceil(qty * kg / self.capacity[j] - eps)
                rounds = np.ceil(np.maximum(loads, 1) / np.maximum(self.count[j], 1))
                cycle = self.load_h[j] + 2 * drive[rows, j] + self.unload_h[j]
                f = eta[rows, j] + (rounds - 1) * cycle
                finish = np.where(use, np.maximum(finish, f), finish)
                left = np.where(use, left - qty, left)
                done |= use & (left <= eps)
        return np.where(done, finish, math.inf)
