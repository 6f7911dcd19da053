"""The SimPy model: relief logistics, rescue response, disruptions and dispatch policies."""

from sim.model.policies import POLICIES, Policy, make_policy
from sim.model.records import Records
from sim.model.simulation import simulate

__all__ = ["POLICIES", "Policy", "Records", "make_policy", "simulate"]
