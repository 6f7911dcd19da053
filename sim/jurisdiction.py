"""Jurisdictions (属地): which depot of each stockpile tier serves each settlement.

A depot that names its administrative unit (``area: 开平市/赤水镇``) serves the settlements in
that unit. Settlements that no depot of a tier claims by area are served by the depot of that
tier nearest to them by open-road travel time, among the tier's depots that name no area (a
service area derived from the network, as a planner would draw it). Resolved once per world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.scenario import TIERS, Scenario, within

__all__ = ["BY_AREA", "BY_TIME", "ServiceAreas", "service_areas"]

BY_AREA = "area"
BY_TIME = "travel time"


@dataclass(frozen=True)
class ServiceAreas:
    """Owners per settlement and tier, and how each depot's area was found."""

    owners: dict[str, dict[str, tuple[str, ...]]]
    """settlement → tier → the depots of that tier that serve it (its own unit's)."""
    basis: dict[str, str]
    """depot → :data:`BY_AREA` or :data:`BY_TIME`."""

    def serves(self, depot: str, tier: str, settlement: str) -> bool:
        return depot in self.owners.get(settlement, {}).get(tier, ())

    def first_tier(self, settlement: str) -> str | None:
        """The lowest tier with a depot serving ``settlement`` (None when no depot does)."""
        tiers = self.owners.get(settlement, {})
        return next((t for t in TIERS if tiers.get(t)), None)

    def served_by(self, depot: str) -> list[str]:
        """The settlements ``depot`` serves, in scenario order."""
        return [s for s, tiers in self.owners.items()
                if any(depot in ids for ids in tiers.values())]


def service_areas(scenario: Scenario, times_h: np.ndarray) -> ServiceAreas:
    """Resolve the service areas; ``times_h[i, j]`` is the open-road time from depot ``i`` to
    settlement ``j`` (in scenario order)."""
    depots, settlements = scenario.depots, scenario.settlements
    basis = {d.id: BY_AREA if d.area else BY_TIME for d in depots}
    owners: dict[str, dict[str, tuple[str, ...]]] = {s.id: {} for s in settlements}
    for tier in TIERS:
        members = [i for i, d in enumerate(depots) if d.tier == tier]
        if not members:
            continue
        by_time = [i for i in members if not depots[i].area]
        for j, s in enumerate(settlements):
            own = _by_area(depots, members, s.area)
            if not own and by_time:
                own = [_nearest(depots, by_time, times_h[:, j])]
            if own:
                owners[s.id][tier] = tuple(depots[i].id for i in own)
    return ServiceAreas(owners, basis)


def _by_area(depots: Sequence, members: list[int], area: str) -> list[int]:
    """The tier's depots whose unit holds ``area``, the innermost units only."""
    found = [i for i in members if within(area, depots[i].area)]
    if not found:
        return []
    deepest = max(depots[i].area.count("/") for i in found)
    return [i for i in found if depots[i].area.count("/") == deepest]


def _nearest(depots: Sequence, members: list[int], times: np.ndarray) -> int:
    """The member nearest by time (ties and unreachable by id, so the result is stable)."""
    return min(members, key=lambda i: (float(times[i]), depots[i].id))
