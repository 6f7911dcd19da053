"""Independent random-number streams per purpose (common random numbers across placements).

Every replication draws from streams keyed by (seed, replication, purpose[, item]), so a
placement that adds a depot does not shift the incident stream of any other placement.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream"]

PURPOSES = ("incidents", "work", "contracts", "disruptions", "inputs")


def stream(seed: int, replication: int, purpose: str, item: str = "") -> np.random.Generator:
    """A generator for one purpose (and optionally one named item) of one replication."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown random stream {purpose!r}; expected one of {PURPOSES}")
    key = [seed, replication, PURPOSES.index(purpose), zlib.crc32(item.encode("utf-8"))]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))
