"""The on-disk cache of prepared networks: flat arrays, not a pickled graph (#20, item 5).

A prepared :class:`sim.network.Network` is written as one uncompressed ``.npz`` file: the
arrays the engine uses (node ids and coordinates, the edge list with lengths, times and
classes), the edges' geometries as flat coordinates with offsets, the edges' OSM way ids,
the report (JSON) and, in one opaque member read only when a caller asks for
``Network.graph``, the remaining graph attributes (pickled).  Reading maps each member into
memory (``mmap``) instead of copying it, so a cache hit costs milliseconds and the pages a
run never touches are never read; the networkx graph is built from the arrays only when a
caller needs it (GIS export, the routing cross-check, tests).

A file that is missing, corrupt, of another format or for another key reads as ``None``
(a cache miss: the network is prepared again and the file rewritten).
"""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.files import atomic_write

if TYPE_CHECKING:
    from sim.network import Network

__all__ = ["CACHE_FORMAT", "CACHE_SUFFIX", "read_cache", "write_cache"]

#: Bump when the layout of the cache file changes (older files then read as misses).
CACHE_FORMAT = 1

#: File name ending of a cached network.
CACHE_SUFFIX = ".npz"

#: The arrays of a :class:`Network` stored under their own names.
ARRAY_FIELDS = ("node_ids", "lon", "lat", "edge_u", "edge_v", "edge_key", "edge_length_m",
                "edge_time_h", "edge_highway")
#: The arrays of its ``extras`` (geometry, way ids).
EXTRA_FIELDS = ("geom_offsets", "geom_coords", "osmid_edge", "osmid_ids")


def _report_to_json(report: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(report)


def _report_from_json(data: dict[str, Any]) -> Any:
    from sim.network import ClassSummary, NetworkReport

    data = dict(data)
    data["bbox"] = tuple(data["bbox"])
    data["speeds"] = tuple(ClassSummary(**row) for row in data["speeds"])
    return NetworkReport(**data)


def _bytes_member(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype=np.uint8)


def write_cache(path: Path, network: Network) -> None:
    """Write ``network`` to ``path`` (atomically; a failure only warns)."""
    extras = network.extras
    meta = {
        "format": CACHE_FORMAT,
        "key": network.key,
        "kind": network.kind,
        "report": _report_to_json(network.report),
        "has_osmids": extras.osmid_edge is not None,
    }
    members: dict[str, np.ndarray] = {
        "meta": _bytes_member(json.dumps(meta, ensure_ascii=False).encode("utf-8")),
        "graph_attrs": _bytes_member(extras.graph_attrs_blob()),
    }
    for name in ARRAY_FIELDS:
        members[name] = np.ascontiguousarray(getattr(network, name))
    for name in EXTRA_FIELDS:
        value = getattr(extras, name)
        members[name] = np.ascontiguousarray(
            value if value is not None else np.zeros(0, dtype=np.int64))

    def save(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez(fh, **members)  # uncompressed (stored): members can be memory-mapped

    try:
        atomic_write(path, save)
    except OSError as exc:
        warnings.warn(f"could not cache the prepared network at {path}: {exc}", stacklevel=3)


def _map_members(path: Path) -> dict[str, np.ndarray]:
    """Every ``.npy`` member of an uncompressed ``.npz``, memory-mapped (read-only)."""
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for info in zf.infolist():
            if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{info.filename}: not a stored .npy member")
            # the local header: 30 bytes + name + extra field (its lengths at bytes 26..29)
            fh.seek(info.header_offset)
            local = fh.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError("bad local header")
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            fh.seek(start)
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            if dtype.hasobject:
                raise ValueError(f"{info.filename}: object arrays are not cached")
            offset = fh.tell()
            name = info.filename[: -len(".npy")]
            if int(np.prod(shape)) == 0:
                out[name] = np.zeros(shape, dtype=dtype)
            else:
                out[name] = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                      order="F" if fortran else "C")
    return out


def read_cache(path: Path, key: str,
               build: Callable[..., Network]) -> Network | None:
    """The network cached at ``path`` for ``key``, or ``None`` (a miss).

    ``build(arrays..., report=, key=, kind=, extras=)`` makes the :class:`Network`.
    """
    from sim.network import NetworkExtras

    try:
        members = _map_members(path)
        meta = json.loads(bytes(members["meta"]).decode("utf-8"))
        if meta.get("format") != CACHE_FORMAT or meta.get("key") != key:
            return None
        arrays = {name: np.asarray(members[name]) for name in ARRAY_FIELDS}
        extra = {name: np.asarray(members[name]) for name in EXTRA_FIELDS}
        if not meta["has_osmids"]:
            extra["osmid_edge"] = extra["osmid_ids"] = None
        blob = np.asarray(members["graph_attrs"])
        extras = NetworkExtras(**extra, attrs_loader=BlobLoader(blob))
        report = _report_from_json(meta["report"])
        return build(**arrays, report=report, key=meta["key"], kind=meta["kind"],
                     extras=extras)
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt, foreign or older cache file is rebuilt
        return None


class BlobLoader:
    """Unpickles the graph attributes from a (memory-mapped) byte array on demand."""

    def __init__(self, blob: np.ndarray) -> None:
        self.blob = blob

    def __call__(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return pickle.loads(memoryview(self.blob))
