"""Verification and validation (``sim.validation``, the code behind ``reliefsim validate-model``):
queueing theory, routing against networkx, determinism and common random numbers."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy

from sim.model import incidents as incidents_module
from sim.model.roads import RoadState
from sim.scenario import Scenario
from sim.validation import (
    QUEUE_CASES,
    Check,
    check_queue,
    check_routing,
    default_world,
    erlang_c,
    fcfs_waits,
    mmc_stationary_count,
    pollaczek_khinchine,
    run_checks,
)
from sim.world import World, build_world


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validation-cache")


@pytest.fixture(scope="module")
def world(cache_dir: Path) -> World:
    return default_world(cache_dir)


@pytest.fixture(scope="module")
def checks(cache_dir: Path) -> list[Check]:
    """Everything ``reliefsim validate-model`` runs, run once for this module."""
    return run_checks(cache_dir=cache_dir)


def _failures(found: list[Check]) -> str:
    return "\n".join(f"{c.name}: theory {c.theory:.4g}, simulated {c.simulated:.4g} "
                     f"[{c.ci_low:.4g}, {c.ci_high:.4g}] — {c.note}" for c in found)


# -- the formulas ------------------------------------------------------------------------------


def test_erlang_c_matches_textbook_values() -> None:
    assert erlang_c(0.5, 1.0, 1) == pytest.approx((0.5, 1.0))  # M/M/1: rho, rho/(mu - lam)
    assert erlang_c(1.0, 1.0, 2) == pytest.approx((1 / 3, 1 / 3))
    p, w = erlang_c(8.0, 1.0, 10)  # a = 8, c = 10 (tables: C = 0.4092)
    assert p == pytest.approx(0.40918, abs=1e-5) and w == pytest.approx(p / 2)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(2.0, 1.0, 2)


def test_pollaczek_khinchine_agrees_with_mm1_and_md1() -> None:
    assert pollaczek_khinchine(0.8, 1.0, 1.0) == pytest.approx(erlang_c(0.8, 1.0, 1)[1])
    assert pollaczek_khinchine(0.8, 1.0, 0.0) == pytest.approx(2.0)  # M/D/1: half of M/M/1


def test_stationary_count_has_the_mmc_mean() -> None:
    lam, mu, c = 1.6, 1.0, 2
    rng = np.random.default_rng(5)
    draws = np.array([mmc_stationary_count(lam, mu, c, rng) for _ in range(40000)])
    p_wait, w = erlang_c(lam, mu, c)
    assert draws.mean() == pytest.approx(lam * w + lam / mu, rel=0.03)  # L = L_q + a
    assert (draws >= c).mean() == pytest.approx(p_wait, abs=0.01)  # PASTA: P(N >= c) = C


def test_fcfs_recursion_by_hand() -> None:
    calls = np.array([0.0, 0.0, 0.5, 1.0, 4.0])
    service = np.array([2.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(fcfs_waits(calls, service, 2), [0, 0, 0.5, 1.0, 0])
    np.testing.assert_allclose(fcfs_waits(calls, service, 1), [0, 2, 2.5, 3, 1])


# -- every check the CLI runs ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("prefix", [case.name for case in QUEUE_CASES]
                         + ["routing", "determinism", "independence", "common random numbers"])
def test_validation_checks_pass(checks: list[Check], prefix: str) -> None:
    mine = [c for c in checks if c.name.startswith(prefix)]
    assert mine, f"no check named {prefix!r}"
    assert all(c.passed for c in mine), _failures([c for c in mine if not c.passed])


@pytest.mark.slow
def test_statistical_checks_have_binding_intervals(checks: list[Check]) -> None:
    """Each interval is finite and holds its simulated mean, and no bound is vacuous."""
    statistical = [c for c in checks if not math.isnan(c.ci_low)]
    assert len(statistical) >= 4 * len(QUEUE_CASES) - 4
    for c in statistical:
        assert c.ci_low <= c.simulated <= c.ci_high
        assert c.ci_high - c.ci_low < max(abs(c.theory), 0.1), c.name


def test_routing_matches_networkx_on_the_nanjing_flood(cache_dir: Path,
                                                       nanjing_scenario: Scenario) -> None:
    nanjing = build_world(nanjing_scenario, cache_dir=cache_dir)
    check = check_routing(nanjing)
    assert check.passed, _failures([check])
    assert "(0 under closures" not in check.note


# -- and the checks can fail -------------------------------------------------------------------


SMALL = replace(QUEUE_CASES[0], arrivals_h=250, replications=6)


def test_queue_checks_catch_longer_work(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work 25 % longer than specified (rho 0.625, not 0.5): the theory checks fail, while the
    FCFS sample path still holds (the queue itself is still right)."""
    original = incidents_module._work_factors
    monkeypatch.setattr(incidents_module, "_work_factors",
                        lambda rng, cv, n: [1.25 * f for f in original(rng, cv, n)])
    found = {c.name.split(": ", 1)[1]: c for c in check_queue(world, SMALL)}
    assert not found["mean wait (h)"].passed
    assert not found["busy units = λ/μ"].passed
    assert found["waits = FCFS recursion (h)"].passed


def test_queue_checks_catch_a_hidden_delay(world: World, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """A unit that loses 0.01 h on every drive breaks the exact FCFS sample path."""
    original = RoadState.drive

    def slow_drive(self: RoadState, origin: int, destination: int
                   ) -> Generator[simpy.Event, Any, float]:
        yield self.env.timeout(0.01)
        return (yield from original(self, origin, destination))

    monkeypatch.setattr(RoadState, "drive", slow_drive)
    found = {c.name.split(": ", 1)[1]: c for c in check_queue(world, SMALL)}
    assert not found["waits = FCFS recursion (h)"].passed
    assert not found["P(wait > 0)"].passed


def test_routing_check_catches_a_wrong_time(world: World, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    original = RoadState.time_h
    monkeypatch.setattr(RoadState, "time_h",
                        lambda self, a, b: original(self, a, b) * (1.001 if a != b else 1.0))
    check = check_routing(world, replications=1)
    assert not check.passed and check.simulated > 0
