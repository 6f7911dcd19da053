"""Running experiments: chunks of replications on local processes or a Dask cluster, stored
incrementally so that an interrupted run resumes without loss or repetition.

The prepared world (networks, engines) is built once and shipped to each worker once; every
chunk (one configuration × a block of replications) is deterministic, so the numbers are the
same whatever the backend or the number of workers. A chunk's files are written atomically
and its KPI file last, which marks it done.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import ReliefsimError
from sim.experiment import (
    Config,
    Experiment,
    configurations,
    experiment_hash,
    replication_values,
)
from sim.files import MARKER, atomic_write, claim_dir, register
from sim.metrics import Kpi
from sim.results import package_versions, write_json
from sim.run import RunResult, run_replication
from sim.scenario import Scenario, scenario_hash
from sim.stats import bootstrap_ci, t_ci
from sim.world import World, build_world

__all__ = ["Chunk", "ExperimentRun", "half_width", "load_results", "run_experiment"]

CHUNK_TABLES = ("relief", "incidents", "resources", "kpis")
"""Files of one chunk, in write order: ``kpis`` last marks the chunk complete."""
FOLDED = "all"
"""``chunks/all.TABLE.parquet``: finished chunks folded into one file per table; the chunks it
holds are listed in the metadata of ``all.kpis.parquet``, written last."""
_CHUNKS_KEY = b"reliefsim.chunks"

pa.set_memory_pool(pa.system_memory_pool())
"""Arrow allocates through the C library here: pyarrow's default (mimalloc) keeps ≈ 50 MB of
a fold's many small reads and writes for the rest of the process; the system allocator
returns them (an experiment of 1,000 replications stays under 300 MB, #20)."""


@dataclass(frozen=True)
class Chunk:
    """One configuration × replications [start, stop)."""

    config: str
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"{self.config}__r{self.start:05d}-{self.stop - 1:05d}"

    @classmethod
    def parse(cls, name: str) -> Chunk:
        """The chunk called ``name`` (the inverse of :attr:`name`)."""
        config, _, span = name.rpartition("__r")
        first, _, last = span.partition("-")
        return cls(config, int(first), int(last) + 1)


@dataclass
class ExperimentRun:
    """Where an experiment's results live and what has been done."""

    out: Path
    experiment: Experiment
    base: Scenario
    configs: list[Config]
    hash: str
    replications: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def chunk_dir(self) -> Path:
        return self.out / "chunks"

    def done(self, chunk: Chunk, folded: Collection[str] | None = None) -> bool:
        """Whether ``chunk`` is finished: its own KPI file, or folded (``folded``: the
        chunks in the folded files, read here when not given)."""
        if (self.chunk_dir / f"{chunk.name}.kpis.parquet").exists():
            return True
        return chunk.name in (folded_chunks(self.chunk_dir) if folded is None else folded)

    def fold(self) -> None:
        """Fold the finished chunk files into one Parquet file per table, then delete them
        (a few files whatever the number of replications), streaming: memory holds one batch
        of rows, not the table. Each folded file is replaced atomically and
        ``all.kpis.parquet``, written last, lists the chunks folded: an interrupted fold
        leaves every result readable once and is redone next time."""
        listed = folded_chunks(self.chunk_dir)
        stems = _unfolded(self.chunk_dir, listed)
        if not stems:
            return
        chunks, held = sorted({*listed, *stems}), _held(listed)
        for name in CHUNK_TABLES:
            target = self.chunk_dir / f"{FOLDED}.{name}.parquet"
            old = target if listed and target.exists() else None
            parts = [self.chunk_dir / f"{stem}.{name}.parquet" for stem in stems]
            schema = _schema([old, *parts] if old else parts)
            if name == "kpis":
                schema = schema.with_metadata(
                    {**(schema.metadata or {}), _CHUNKS_KEY: json.dumps(chunks).encode()})
            atomic_write(target, lambda tmp, o=old, p=parts, sc=schema:
                         _write_folded(tmp, sc, o, held, p))
        for stem in stems:
            for name in CHUNK_TABLES:  # kpis last: a chunk is never half-deleted and finished
                (self.chunk_dir / f"{stem}.{name}.parquet").unlink(missing_ok=True)

    def finished_any(self) -> bool:
        return self.chunk_dir.is_dir() and any(self.chunk_dir.glob("*.kpis.parquet"))

    def discard_if_empty(self, *, created: bool) -> None:
        """After a failed start that finished no chunk, remove what this run wrote (manifest,
        empty chunk folder, marker, and ``out`` itself if this run created it), so nothing
        blocks the next attempt."""
        if self.finished_any():
            return
        for stray in self.chunk_dir.glob(".*.tmp"):
            stray.unlink()
        for path in (self.out / "manifest.json", self.out / MARKER):
            path.unlink(missing_ok=True)
        for folder in (self.chunk_dir, *((self.out,) if created else ())):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty


# -- one chunk (runs in a worker) -------------------------------------------------------------

_WORKER: dict[str, Any] = {}
PLACED_KEPT = 2
"""Placed worlds a worker keeps (an 8-configuration experiment kept all eight: 459 MB)."""


def _exit_with_parent(parent: int) -> None:
    """Worker-side watchdog: a worker whose parent died (``kill -9``) exits within a second
    instead of living on as an orphan."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _init_local_worker(world: World, configs: dict[str, Scenario], seed: int,
                       parent: int, chunk_dir: Path | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts us down
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _init_worker(world, configs, seed, chunk_dir)


def _init_worker(world: World, configs: dict[str, Scenario], seed: int,
                 chunk_dir: Path | None = None) -> None:
    _WORKER.clear()
    _WORKER.update(world=world, configs=configs, seed=seed, placed={}, chunk_dir=chunk_dir)


def _chunk_in_worker(chunk: Chunk) -> dict[str, pa.Table] | None:
    """The chunk's tables; with a chunk folder (local workers), written there by the worker
    itself (None returned: the parent has no tables to receive and write)."""
    placed = _WORKER["placed"]
    if chunk.config not in placed:  # chunks come (mostly) configuration by configuration:
        while len(placed) >= PLACED_KEPT:  # keep the latest placed worlds, not all of them
            del placed[next(iter(placed))]  # (each holds its own travel-time caches)
        placed[chunk.config] = _WORKER["world"].with_scenario(_WORKER["configs"][chunk.config])
    tables = run_chunk(placed[chunk.config], chunk, seed=_WORKER["seed"])
    if _WORKER.get("chunk_dir") is None:
        return tables
    write_chunk(_WORKER["chunk_dir"], chunk, tables)
    return None


def _chunk_on_dask(payload: tuple[World, dict[str, Scenario], int], chunk: Chunk
                   ) -> dict[str, pa.Table]:
    world, configs, seed = payload
    if _WORKER.get("payload") is not payload:
        _init_worker(world, configs, seed)
        _WORKER["payload"] = payload
    return _chunk_in_worker(chunk)


_STR, _F64, _I64 = pa.large_string(), pa.float64(), pa.int64()
_KPI_TYPES = {"str": _STR, "float": _F64, "bool | None": pa.bool_()}
_SCHEMAS = {
    "relief": pa.schema({"config": _STR, "replication": _I64, "settlement": _STR,
                         "initial_h": _F64, "effective_h": _F64, "people": _I64}),
    "incidents": pa.schema({"config": _STR, "replication": _I64, "incident": _STR,
                            "type": _STR, "mode": _STR, "call_h": _F64, "arrival_h": _F64,
                            "duration_h": _F64, "area_ha": _F64}),
    "kpis": pa.schema({"config": _STR, "replication": _I64,
                       **{f.name: _KPI_TYPES[f.type] for f in fields(Kpi)}}),
}
"""Columns and types of the chunk tables (``resources`` takes its columns from its rows)."""


def run_chunk(world: World, chunk: Chunk, *, seed: int) -> dict[str, pa.Table]:
    """Simulate the chunk's replications; tidy tables keyed by configuration and replication."""
    tables = ChunkTables(chunk.config)
    for r in range(chunk.start, chunk.stop):
        tables.add(r, run_replication(world, seed=seed, replication=r))
    return tables.tables()


class ChunkTables:
    """A chunk's tables, built column by column as its replications finish (one Arrow table
    per table at the end, not a DataFrame per replication)."""

    def __init__(self, config: str) -> None:
        self.config = config
        self.parts: dict[str, dict[str, list[Any]]] = {name: defaultdict(list)
                                                       for name in _SCHEMAS}
        self.resources: dict[int, dict[str, float]] = {}

    def add(self, replication: int, result: RunResult) -> None:
        relief, incidents = result.relief, result.records.incidents
        self._add("relief", replication, {
            "settlement": relief.settlement.tolist(), "initial_h": relief.initial_h.to_numpy(),
            "effective_h": relief.effective_h.to_numpy(), "people": relief.people.to_numpy()})
        self._add("incidents", replication, {
            "incident": [i.incident for i in incidents], "type": [i.type for i in incidents],
            "mode": [i.mode for i in incidents], "call_h": [i.call_h for i in incidents],
            "arrival_h": [i.first_arrival_h - i.call_h for i in incidents],
            "duration_h": [i.done_h - i.call_h for i in incidents],
            "area_ha": [i.area_ha for i in incidents]})
        self._add("kpis", replication, {f: [getattr(k, f) for k in result.kpis]
                                        for f in _SCHEMAS["kpis"].names[2:]})
        self.resources[replication] = result.resources

    def _add(self, table: str, replication: int, rows: dict[str, Any]) -> None:
        columns = self.parts[table]
        columns["replication"].append(np.full(len(next(iter(rows.values()))), replication))
        for name, values in rows.items():
            columns[name].append(values)

    def tables(self) -> dict[str, pa.Table]:
        tables = {name: _table(self.config, self.parts[name], schema)
                  for name, schema in _SCHEMAS.items()}
        rows = self.resources.values()
        names = dict.fromkeys(k for row in rows for k in row)  # some only with evacuation
        tables["resources"] = _table(self.config, {
            "replication": [np.fromiter(self.resources, dtype=np.int64)],
            **{k: [[row.get(k) for row in rows]] for k in names}},
            pa.schema({"config": _STR, "replication": _I64} | dict.fromkeys(names, _F64)))
        return tables


def _table(config: str, columns: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    """A chunk's table from its parts per column (missing numbers and NaN stored as null, as
    pandas stores them)."""
    replication = np.concatenate(columns["replication"])
    arrays = [pa.array(np.full(len(replication), config, dtype=object), _STR),
              pa.array(replication, _I64)]
    arrays += [pa.concat_arrays([pa.array(part, f.type, from_pandas=True)  # NaN: null
                                 for part in columns[f.name]]) for f in list(schema)[2:]]
    return pa.Table.from_arrays(arrays, schema=schema)


# -- backends ---------------------------------------------------------------------------------


def _local(world: World, configs: dict[str, Scenario], seed: int, chunks: list[Chunk],
           workers: int, chunk_dir: Path) -> Iterator[tuple[Chunk, dict[str, pa.Table] | None]]:
    """Chunks on this machine; each worker writes its chunks' files into ``chunk_dir``."""
    if workers <= 1:
        _init_worker(world, configs, seed, chunk_dir)
        for chunk in chunks:
            yield chunk, _chunk_in_worker(chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_local_worker,
                             initargs=(world, configs, seed, os.getpid(), chunk_dir)) as pool:
        pending: dict[Future[dict[str, pa.Table] | None], Chunk] = {}
        queue = list(chunks)
        try:
            while queue or pending:
                while queue and len(pending) < 2 * workers:
                    chunk = queue.pop(0)
                    pending[pool.submit(_chunk_in_worker, chunk)] = chunk
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: pending[f].name):
                    yield pending.pop(future), future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list((pool._processes or {}).values()):
                process.terminate()  # no half-done chunk outlives an interrupt
            raise


def scheduler_timeout_s() -> float:
    """Seconds to wait for a Dask scheduler: ``RELIEFSIM_SCHEDULER_TIMEOUT_S``, else 20."""
    text = os.environ.get("RELIEFSIM_SCHEDULER_TIMEOUT_S", "20")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ReliefsimError(f"RELIEFSIM_SCHEDULER_TIMEOUT_S: {text!r} — expected a positive "
                             "number of seconds")
    return value


def _dask(world: World, configs: dict[str, Scenario], seed: int, chunks: list[Chunk],
          address: str) -> Iterator[tuple[Chunk, dict[str, pa.Table]]]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise ReliefsimError("--scheduler needs dask[distributed] installed") from None
    try:
        client = Client(address, timeout=f"{scheduler_timeout_s():g}s")
    except OSError as exc:
        raise ReliefsimError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        payload = client.scatter((world, configs, seed), broadcast=True)
        futures = {client.submit(_chunk_on_dask, payload, chunk, pure=False): chunk
                   for chunk in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.close()


# -- the results store ------------------------------------------------------------------------


def write_chunk(chunk_dir: Path, chunk: Chunk, tables: dict[str, pa.Table]) -> None:
    """Write a chunk's tables, each atomically, ``kpis`` last (it marks the chunk done)."""
    for name in CHUNK_TABLES:
        atomic_write(chunk_dir / f"{chunk.name}.{name}.parquet",
                     lambda tmp, table=tables[name]: pq.write_table(table, tmp))


def _open_store(out: Path, experiment: Experiment, base: Scenario, configs: list[Config],
                *, resume: bool) -> ExperimentRun:
    digest = experiment_hash(experiment, base)
    manifest_path = out / "manifest.json"
    run = ExperimentRun(out, experiment, base, configs, digest)
    claim_dir(out, "experiment")  # a user's folder (even with a manifest.json) is refused
    if manifest_path.exists() and not run.finished_any():
        manifest_path.unlink()  # our earlier attempt that finished nothing: start afresh
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("experiment_hash") != digest:
            raise ReliefsimError(
                f"{out} holds results of a different experiment (hash "
                f"{manifest.get('experiment_hash')} ≠ {digest}); refusing to mix them — choose "
                "another --out or delete that directory")
        if not resume:
            raise ReliefsimError(f"{out} already holds results of this experiment; add "
                                 "--resume to finish them, or choose another --out")
    run.chunk_dir.mkdir(parents=True, exist_ok=True)
    register(out, ["manifest.json", "chunks"], "experiment")
    for stray in run.chunk_dir.glob(".*.tmp"):
        stray.unlink()  # left by a killed run
    if not manifest_path.exists():
        write_json(manifest_path, {
            "experiment": experiment.name, "experiment_hash": digest,
            "base_scenario_hash": scenario_hash(base), "master_seed": experiment.master_seed,
            "configs": [{"id": c.id, "placement": c.placement, "policy": c.policy,
                         "variant": c.variant, "scenario_hash": scenario_hash(c.scenario)}
                        for c in configs],
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": package_versions(),
            "definition": experiment.model_dump(mode="json"),
        })
    return run


def _chunks(configs: Iterable[Config], start: int, stop: int, size: int) -> list[Chunk]:
    return [Chunk(c.id, a, min(a + size, stop)) for c in configs for a in range(start, stop, size)]


def run_experiment(experiment: Experiment, base: Scenario, out: Path, *, workers: int = 1,
                   scheduler: str | None = None, resume: bool = False,
                   cache_dir: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> ExperimentRun:
    """Run (or resume) an experiment into ``out``; returns the finished run.

    ``progress(done, total)`` counts replications (over all configurations)."""
    configs = configurations(experiment, base)
    started = time.perf_counter()
    world = build_world(base, cache_dir=cache_dir)
    scenarios = {c.id: c.scenario for c in configs}
    for c in configs:  # fail early, before writing anything, on a placement off the map
        world.with_scenario(c.scenario, origin=f"placement {c.placement}")
    prepare_s = time.perf_counter() - started
    created = not Path(out).exists()
    run = _open_store(Path(out), experiment, base, configs, resume=resume)
    run.timings["prepare_s"] = prepare_s
    try:
        _simulate(run, world, scenarios, workers=workers, scheduler=scheduler,
                  progress=progress)
    except BaseException:
        run.discard_if_empty(created=created)
        raise
    return run


def _simulate(run: ExperimentRun, world: World, scenarios: dict[str, Scenario], *,
              workers: int, scheduler: str | None,
              progress: Callable[[int, int], None] | None) -> None:
    """Run every missing chunk (and sequential batches) into the store."""
    experiment, configs = run.experiment, run.configs
    target = experiment.replications
    done_reps = 0
    simulated = 0
    while True:
        chunks = _chunks(configs, done_reps, target, experiment.chunk_size)
        folded = set(folded_chunks(run.chunk_dir))
        todo = [c for c in chunks if not run.done(c, folded)]
        total = sum(c.stop - c.start for c in chunks)
        finished = total - sum(c.stop - c.start for c in todo)
        if progress:
            progress(finished, total)
        t0 = time.perf_counter()
        stream = (_dask(world, scenarios, experiment.master_seed, todo, scheduler)
                  if scheduler else
                  _local(world, scenarios, experiment.master_seed, todo, workers,
                         run.chunk_dir))
        for chunk, tables in stream:
            if tables is not None:  # from Dask: written here
                write_chunk(run.chunk_dir, chunk, tables)
            finished += chunk.stop - chunk.start
            simulated += chunk.stop - chunk.start
            if progress:
                progress(finished, total)
        run.fold()
        run.timings["simulate_s"] = run.timings.get("simulate_s", 0.0) + time.perf_counter() - t0
        done_reps = target
        seq = experiment.sequential
        if seq is None or target >= seq.max_replications:
            break
        if half_width(run, target) <= seq.half_width:
            break
        target = min(target + seq.batch, seq.max_replications)
    run.replications = target
    run.timings["replications_simulated"] = simulated


def half_width(run: ExperimentRun, replications: int) -> float:
    """Largest 95 % CI half-width of the experiment's KPI statistic over configurations (the
    precision reached; a share as a fraction, a time in hours)."""
    kpis = load_results(run.out, replications, tables=("kpis",))["kpis"]
    values = replication_values(kpis, run.experiment)
    widths = []
    for _, series in values.groupby("config"):
        x = series.value.to_numpy()
        ci = bootstrap_ci(x) if run.experiment.statistic == "share_within" else t_ci(x)
        widths.append(ci.half_width)
    return max(widths) if widths else 0.0


def folded_chunks(chunk_dir: Path) -> list[str]:
    """The chunks held by the folded files (none before the first fold)."""
    path = chunk_dir / f"{FOLDED}.kpis.parquet"
    if not path.exists():
        return []
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(_CHUNKS_KEY, b"[]"))


def _unfolded(chunk_dir: Path, listed: Collection[str]) -> list[str]:
    """Finished chunks with their own files that the folded files do not hold."""
    stems = (p.name.removesuffix(".kpis.parquet") for p in chunk_dir.glob("*.kpis.parquet"))
    return sorted(s for s in stems if s != FOLDED and s not in listed)


def _held(listed: Collection[str]) -> pa.Array:
    """The replications of the chunks ``listed``, as keys "configuration␟replication"."""
    return pa.array([f"{c.config}\x1f{r}" for c in map(Chunk.parse, listed)
                     for r in range(c.start, c.stop)], type=pa.string())


def _only_held(table: pa.Table, held: pa.Array) -> pa.Table:
    """The rows of ``table`` of replications in ``held`` (an interrupted fold may have
    written rows of chunks it did not get to list)."""
    keys = pc.binary_join_element_wise(
        pc.cast(table.column("config"), pa.string()),
        pc.cast(table.column("replication"), pa.int64()).cast(pa.string()), "\x1f")
    return table.filter(pc.is_in(keys, value_set=held))


def _schema(paths: list[Path]) -> pa.Schema:
    """One schema for the parts of a table (a column empty in one chunk is null-typed there,
    whole numbers in one and fractions in another become fractions)."""
    schemas = [pq.read_schema(p) for p in paths]
    return pa.unify_schemas(schemas, promote_options="permissive").with_metadata(
        schemas[0].metadata)


_BATCH_ROWS = 16_384


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema`` in its order and types (a column it lacks:
    all null)."""
    columns = [table.column(f.name) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema.remove_metadata()).cast(schema)


def _write_folded(tmp: Path, schema: pa.Schema, old: Path | None, held: pa.Array,
                  parts: list[Path]) -> None:
    """Stream the held rows of ``old`` and then every chunk file ``parts`` into ``tmp``."""
    batch: list[pa.Table] = []
    rows = 0

    def tables() -> Iterator[pa.Table]:
        if old is not None:
            yield from (_only_held(group, held) for group in _row_groups(old))
        for part in parts:
            yield from _row_groups(part)

    with pq.ParquetWriter(tmp, schema) as writer:
        for table in tables():
            batch.append(_conform(table, schema))
            rows += table.num_rows
            if rows >= _BATCH_ROWS:
                writer.write_table(pa.concat_tables(batch))
                batch, rows = [], 0
        if batch:
            writer.write_table(pa.concat_tables(batch))


def _row_groups(path: Path, filters: list[tuple[str, str, Any]] | None = None
                ) -> Iterator[pa.Table]:
    """A Parquet file's row groups, each with only its rows matching ``filters`` (column,
    ``==`` or ``<``, value). Read directly, not through ``pyarrow.dataset`` (as
    ``pq.read_table`` does), whose first use holds ≈ 60 MB for the rest of the process."""
    source = pq.ParquetFile(path)
    for i in range(source.num_row_groups):
        group = source.read_row_group(i)
        for column, op, value in filters or ():
            compare = pc.equal if op == "==" else pc.less
            group = group.filter(compare(group.column(column), value))
        yield group


def _read_store(chunk_dir: Path, name: str, held: pa.Array, stems: list[str],
                filters: list[tuple[str, str, Any]] | None = None) -> pd.DataFrame:
    """Table ``name`` of the replications ``held`` as folded and of the chunk files
    ``stems`` (rows matching ``filters``: column, ``==`` or ``<``, value)."""
    paths = [chunk_dir / f"{stem}.{name}.parquet" for stem in stems]
    folded = chunk_dir / f"{FOLDED}.{name}.parquet"
    groups = [_only_held(g, held) for g in _row_groups(folded, filters)] if (
        len(held) and folded.exists()) else []
    groups += [g for path in paths for g in _row_groups(path, filters)]
    parts = [g.to_pandas() for g in groups if g.num_rows] or [g.to_pandas() for g in groups[:1]]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def load_results(out: Path, replications: int | None = None, *,
                 tables: Collection[str] = CHUNK_TABLES, config: str | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The finished chunks of a results directory (folded or not): each of ``tables``, of
    the first ``replications`` and of one ``config`` if given, sorted."""
    chunk_dir = Path(out) / "chunks"
    listed = folded_chunks(chunk_dir)
    stems, held = _unfolded(chunk_dir, listed), _held(listed)
    filters = [("config", "==", config)] if config is not None else []
    if replications is not None:
        filters.append(("replication", "<", replications))
    loaded = {}
    for name in tables:
        frame = _read_store(chunk_dir, name, held, stems, filters or None)
        if len(frame):
            frame = frame.sort_values(["config", "replication"], kind="stable")
        loaded[name] = frame.reset_index(drop=True)
    return loaded
