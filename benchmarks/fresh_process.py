"""A measurement in a fresh Python process, for the benchmarks: the child's code may call
``peak_mb()`` (its own peak resident memory) and prints one JSON line, which :func:`run`
returns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = r'''
import resource


def peak_mb():
    """This process's own peak (ru_maxrss would count the parent's memory at the fork)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
'''


def run(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` (after :data:`PRELUDE`) with ``args`` in a fresh interpreter from the
    repository root; its last line of output, read as JSON."""
    done = subprocess.run([sys.executable, "-c", PRELUDE + code, *args], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])
