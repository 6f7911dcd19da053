"""Writing results: tidy tables (Parquet and CSV) plus a JSON summary, all-or-nothing.

A run directory holds one file per table in both formats, ``kpis.*``, ``relief.*`` and
``summary.json`` (scenario hash, seed, package versions, KPIs and resource figures). Files are
written into a temporary sibling directory that replaces the target only when complete.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ReliefsimError

__all__ = ["atomic_dir", "package_versions", "read_summary", "write_json", "write_run"]

VERSIONED_PACKAGES = ("reliefsim", "simpy", "numpy", "scipy", "pandas", "networkx", "osmnx",
                      "pyrosm", "pydantic")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that decide the numbers."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _jsonable(value: Any) -> Any:
    """Plain JSON: non-finite numbers become null (a KPI's ``never`` count says why)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


class atomic_dir:
    """Context manager: write into a temporary directory, move it to ``target`` on success."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
            os.replace(self.tmp, self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.target)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(_jsonable(data), fh, ensure_ascii=False, indent=2, allow_nan=False)
    os.replace(tmp, path)


def write_tables(directory: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Each table as ``NAME.parquet`` and ``NAME.csv`` (UTF-8 with BOM for Excel)."""
    for name, frame in tables.items():
        frame.to_parquet(directory / f"{name}.parquet", index=False)
        frame.to_csv(directory / f"{name}.csv", index=False, encoding="utf-8-sig")


def write_run(out: Path, *, tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any]
              ) -> Path:
    """Write one run's tables and summary to ``out`` atomically; returns ``out``."""
    meta = {"written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": package_versions(), **summary}
    with atomic_dir(out) as tmp:
        write_tables(tmp, tables)
        (tmp / "summary.json").write_text(
            json.dumps(_jsonable(meta), ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
    return out


def read_summary(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReliefsimError(f"{directory}: no summary.json — not a reliefsim results "
                             "directory") from None
