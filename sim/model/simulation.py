"""One replication of a scenario: wire the parts together and run SimPy to the horizon."""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.model.disruptions import Disruptions
from sim.model.evacuation import Evacuation, evacuation_plan
from sim.model.incidents import sample_incidents
from sim.model.policies import make_policy
from sim.model.records import Records
from sim.model.relief import Relief
from sim.model.rescue import Rescue
from sim.model.roads import RoadState
from sim.world import World

__all__ = ["simulate"]

PROGRESS_STEPS = 50


def simulate(world: World, *, seed: int | None = None, replication: int = 0,
             policy: str | None = None, env: simpy.Environment | None = None,
             progress: Callable[[float], None] | None = None) -> Records:
    """Run one replication and return its records.

    ``seed`` defaults to the scenario's; ``replication`` selects independent streams;
    ``policy`` overrides the scenario's dispatch policy. Same inputs, same records.
    """
    scenario = world.scenario
    seed = scenario.seed if seed is None else seed
    env = env or simpy.Environment()
    records = Records(horizon_h=scenario.horizon_h)
    plan = evacuation_plan(world)
    roads = RoadState(env, world.roads, world.route_cache)
    chosen = make_policy(policy or scenario.dispatch.policy)
    relief = Relief(env, world, roads, chosen, records, seed=seed, replication=replication,
                    at_home=plan.at_home)
    evacuation = (Evacuation(env, world, roads, relief, records, plan) if plan.groups
                  else None)
    rescue = Rescue(env, world, roads, chosen, records,
                    sample_incidents(world, seed=seed, replication=replication))
    relief.share_aircraft(rescue)
    Disruptions(env, world, roads, records, seed=seed, replication=replication,
                on_change=[relief.roads_changed, rescue.poke,
                           *([evacuation.poke] if evacuation is not None else [])])
    horizon = scenario.horizon_h
    if progress is None:
        env.run(until=horizon)
    else:
        for k in range(1, PROGRESS_STEPS + 1):
            env.run(until=horizon * k / PROGRESS_STEPS)
            progress(env.now)
    relief.finish()
    rescue.finish()
    if evacuation is not None:
        evacuation.finish()
    world.roads.set_state()
    return records
