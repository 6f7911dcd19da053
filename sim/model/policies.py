"""Dispatch policies: one interface, the plans' rule as default, FCFS and nearest-idle to compare.

A policy sees the open work (relief requests, or team needs of incidents) and the options that
can serve each item (depots with stock and an idle truck, or free units), each with its travel
time under the current road state, and picks the next assignment. The models keep their open
work in the policy's order as it arises (:meth:`Policy.add`), so nothing is sorted per decision.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

__all__ = ["POLICIES", "FcfsPolicy", "NearestIdlePolicy", "Option", "PlanPolicy", "Policy",
           "make_policy"]


class Option(NamedTuple):
    """Something that can serve a work item, and how long it takes to get there."""

    resource: Any
    time_h: float
    name: str


class Work(Protocol):
    """A unit of open work: a relief request or one team need of an incident."""

    seq: int
    urgency: int
    main: bool
    raised_h: float


Options = Callable[[Any], list[Option]]

_NEAREST = itemgetter(1, 2)
"""Options compare by travel time, then name (a stable tie-break)."""


class Policy:
    """Base policy: order the work by :meth:`key`, serve the first item from its nearest option."""

    name = "base"
    waits_for_busy = True
    """Whether work waits for its best option while that option is busy (relief: a depot whose
    trucks are all out) rather than taking the best idle one."""

    def key(self, work: Work) -> tuple[Any, ...]:
        raise NotImplementedError

    def add(self, items: list[Any], work: Work) -> None:
        """Insert ``work`` into ``items``, which are kept in this policy's order."""
        insort(items, work, key=self.key)

    def choose(self, items: Sequence[Work], options: Options) -> tuple[Any, Option] | None:
        """The next (work, option) to assign, or None when nothing can be assigned now.

        ``items`` are in this policy's order (built with :meth:`add`).
        """
        for item in items:
            found = options(item)
            if found:
                return item, min(found, key=_NEAREST)
        return None


class PlanPolicy(Policy):
    """先近后远、先主后次、满足急需: most urgent first, main before secondary, nearest first."""

    name = "plan"

    def key(self, work: Work) -> tuple[Any, ...]:
        return (-work.urgency, not work.main, work.raised_h, work.seq)


class FcfsPolicy(Policy):
    """First come, first served: work in the order it arose, each from its nearest option."""

    name = "fcfs"

    def key(self, work: Work) -> tuple[Any, ...]:
        return (work.raised_h, work.seq)


class NearestIdlePolicy(Policy):
    """Whatever idle resource is closest to any open work goes there first."""

    name = "nearest_idle"
    waits_for_busy = False

    def key(self, work: Work) -> tuple[Any, ...]:
        return (work.raised_h, work.seq)

    def choose(self, items: Sequence[Work], options: Options) -> tuple[Any, Option] | None:
        best: tuple[Any, Option] | None = None
        for item in items:
            for option in options(item):
                if best is None or _NEAREST(option) < _NEAREST(best[1]):
                    best = (item, option)
        return best


POLICIES: dict[str, type[Policy]] = {p.name: p for p in (PlanPolicy, FcfsPolicy, NearestIdlePolicy)}


def make_policy(name: str) -> Policy:
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; expected one of {sorted(POLICIES)}") from None
