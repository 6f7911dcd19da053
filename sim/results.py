"""Writing results: tidy tables (Parquet and CSV) plus a JSON summary, all-or-nothing.

A run directory holds one file per table in both formats, ``kpis.*``, ``relief.*`` and
``summary.json`` (scenario hash, seed, package versions, KPIs and resource figures), written
through :mod:`sim.files` (never replacing a file reliefsim did not write). An experiment's
example runs (one per configuration) share one folder: each table once, in Parquet, with a
leading ``config`` column, and ``examples.json`` with each run's summary — a few files
however many configurations; ``FOLDER/CONFIG`` reads as that configuration's run.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ReliefsimError
from sim.files import atomic_write, claim_dir, publish_dir, register

__all__ = ["package_versions", "read_example", "read_summary", "write_examples", "write_json",
           "write_run", "write_tables"]

EXAMPLES = "examples.json"

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


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write strict JSON atomically (temporary file, then rename)."""
    text = json.dumps(_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_tables(directory: Path, tables: Mapping[str, pd.DataFrame], *,
                 kind: str | None = None) -> None:
    """Each table as ``NAME.parquet`` and ``NAME.csv`` (UTF-8 with BOM for Excel), each file
    written to a temporary name and renamed; with ``kind``, recorded in the folder's marker
    (refused if the folder is not reliefsim's ``kind``)."""
    directory = Path(directory)
    if kind is not None:
        claim_dir(directory, kind)
        directory.mkdir(parents=True, exist_ok=True)
    names = []
    for name, frame in tables.items():
        for suffix, write in ((".parquet", lambda p, f=frame: f.to_parquet(p, index=False)),
                              (".csv", lambda p, f=frame: f.to_csv(p, index=False,
                                                                   encoding="utf-8-sig"))):
            names.append(atomic_write(directory / f"{name}{suffix}", write).name)
    if kind is not None:
        register(directory, names, kind)


def write_run(out: Path, *, tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any]
              ) -> Path:
    """Write one run's tables and summary to ``out`` atomically; returns ``out``."""
    with publish_dir(out, "run") as tmp:
        write_tables(tmp, tables)
        write_json(tmp / "summary.json", _meta(summary))
    return out


def _meta(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {"written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": package_versions(), **summary}


def write_examples(out: Path, runs: Mapping[str, tuple[Mapping[str, pd.DataFrame],
                                                       Mapping[str, Any]]]) -> Path:
    """Write several runs (``key``: their tables and summary) into the one folder ``out``
    atomically; ``read_example(out / key)`` reads each back."""
    names = sorted({name for tables, _ in runs.values() for name in tables})
    index = {key: {"tables": sorted(tables), "summary": _meta(summary)}
             for key, (tables, summary) in runs.items()}
    with publish_dir(out, "examples") as tmp:
        for name in names:
            frame = pd.concat([tables[name].assign(config=key)[["config", *tables[name]]]
                               for key, (tables, _) in runs.items() if name in tables],
                              ignore_index=True)
            atomic_write(tmp / f"{name}.parquet",
                         lambda p, f=frame: f.to_parquet(p, index=False))
        write_json(tmp / EXAMPLES, index)
    return out


def read_example(run_dir: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]] | None:
    """The summary and tables of run ``FOLDER/KEY`` written by :func:`write_examples` (None
    when ``run_dir`` is not one)."""
    index_path = Path(run_dir).parent / EXAMPLES
    if not index_path.exists():
        return None
    entry = json.loads(index_path.read_text(encoding="utf-8")).get(Path(run_dir).name)
    if entry is None:
        return None
    tables = {}
    for name in entry["tables"]:
        frame = pd.read_parquet(index_path.parent / f"{name}.parquet",
                                filters=[("config", "==", Path(run_dir).name)])
        tables[name] = frame.drop(columns="config").reset_index(drop=True)
    return entry["summary"], tables


def read_summary(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReliefsimError(f"{directory}: no summary.json — not a reliefsim results "
                             "directory") from None
