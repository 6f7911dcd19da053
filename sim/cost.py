"""What an option costs, and which options are worth considering (the Pareto front).

A depot may carry its costs in 万元: ``build_wan`` (once), ``annual_wan`` (running, per
year) and ``holding_wan`` (holding its stock, per year). An option's cost over an experiment's
planning period of ``years`` is Σ build + years × Σ (annual + holding) over its depots (no
discounting: an assumption stated in the README).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.scenario import Scenario

__all__ = ["pareto_front", "scenario_cost"]


def scenario_cost(scenario: Scenario, years: int) -> float:
    """The cost (万元) of a configuration's depots over ``years``."""
    return sum(d.cost.build_wan + years * (d.cost.annual_wan + d.cost.holding_wan)
               for d in scenario.depots)


def pareto_front(costs: Sequence[float], values: Sequence[float], *,
                 higher_is_better: bool) -> list[bool]:
    """Which options no other option dominates (as cheap or cheaper and as good or better,
    strictly better in one)."""
    sign = 1.0 if higher_is_better else -1.0
    good = [sign * v for v in values]
    front = []
    for i, (c, v) in enumerate(zip(costs, good, strict=True)):
        dominated = any(cj <= c and vj >= v and (cj < c or vj > v)
                        for j, (cj, vj) in enumerate(zip(costs, good, strict=True)) if j != i)
        front.append(not dominated)
    return front
