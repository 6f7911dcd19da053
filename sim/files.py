"""Files a user can trust: reliefsim never deletes or replaces a file it did not write, writes
every output completely or not at all, and gives it the permissions the user's umask asks for.

Every folder reliefsim writes into carries a small marker (:data:`MARKER`) naming the folder's
kind and the files reliefsim wrote there. Only those files are ever replaced, each by an atomic
rename of a finished temporary file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sim.errors import ReliefsimError

__all__ = ["MARKER", "atomic_write_bytes", "claim_dir", "claim_file", "folder_kind",
           "follow_umask", "publish_dir", "publish_file", "register"]

MARKER = ".reliefsim.json"
"""Written in every folder reliefsim writes into: the folder's kind and the files it wrote."""

LEGACY_MARKS = {"run": ("summary.json", "scenario_hash"),
                "experiment": ("manifest.json", "experiment_hash")}
"""Result folders written before :data:`MARKER` existed: a file and a key it holds."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path) -> None:
    """Give a file or folder made by ``mkstemp``/``mkdtemp`` (0600/0700) the permissions the
    user's umask asks for, like any other file they create."""
    mode = 0o777 if Path(path).is_dir() else 0o666
    os.chmod(path, mode & ~_umask())


def _marker(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _legacy_kind(folder: Path) -> str | None:
    for kind, (name, key) in LEGACY_MARKS.items():
        try:
            if key in json.loads((folder / name).read_text(encoding="utf-8")):
                return kind
        except (OSError, ValueError, TypeError):
            continue
    return None


def folder_kind(folder: Path) -> str | None:
    """What reliefsim wrote ``folder`` as ("run", "experiment", "figures", "files"), or None."""
    return _marker(folder).get("kind") or _legacy_kind(folder)


def claim_dir(path: Path, kind: str) -> None:
    """Refuse to write a ``kind`` folder at ``path`` unless it is new, empty or one reliefsim
    wrote as that kind before: nothing a user made is ever replaced or deleted."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ReliefsimError(f"{path}: is an existing file, not a folder; reliefsim never "
                             "replaces files it did not write — choose another output folder")
    if not path.is_dir() or not any(path.iterdir()) or folder_kind(path) == kind:
        return
    found = folder_kind(path)
    what = f"a reliefsim {found} folder" if found else "not a reliefsim results folder"
    raise ReliefsimError(f"{path}: exists, is not empty and is {what}; reliefsim never deletes "
                         f"or replaces files it did not write — choose a new or empty folder "
                         f"for the {kind}")


def claim_file(path: Path) -> None:
    """Refuse to replace ``path`` unless reliefsim wrote it (listed in its folder's marker)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    marker = _marker(path.parent)
    if path.is_file() and (path.name in marker.get("files", [])
                           or (not marker and _legacy_kind(path.parent))):
        return  # listed as ours, or in a results folder written before markers existed
    raise ReliefsimError(f"{path}: exists and was not written by reliefsim; it is never "
                         "replaced — choose another output file or move it away")


def register(folder: Path, names: list[str], kind: str) -> None:
    """Record in ``folder``'s marker that reliefsim wrote ``names`` there as a ``kind``."""
    marker = _marker(folder)
    marker.setdefault("kind", kind)
    marker["files"] = sorted(set(marker.get("files", [])) | set(names))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{MARKER}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(marker, fh, ensure_ascii=False, indent=1)
    follow_umask(Path(tmp))
    os.replace(tmp, folder / MARKER)


class publish_dir:
    """Context manager for writing a whole folder of ``kind``: files go to a temporary
    sibling folder and appear in ``target`` only when all are written. A new ``target`` is
    one rename; an existing reliefsim folder of the same kind gets each file replaced by an
    atomic rename, so files a user added there stay untouched. On failure nothing changes."""

    def __init__(self, target: Path, kind: str) -> None:
        self.target, self.kind = Path(target), kind

    def __enter__(self) -> Path:
        claim_dir(self.target, self.kind)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        names = sorted(p.name for p in self.tmp.iterdir())
        for name in names:
            follow_umask(self.tmp / name)
        if not self.target.exists():
            register(self.tmp, names, self.kind)
            follow_umask(self.tmp)
            os.replace(self.tmp, self.target)
            return
        claim_dir(self.target, self.kind)  # still ours after the work
        _merge(self.tmp, self.target)
        register(self.target, names, self.kind)
        shutil.rmtree(self.tmp, ignore_errors=True)


LAST = ("summary.json", "manifest.json")
"""Moved last when a folder is updated in place: while they are old, the folder reads as the
previous result."""


def _merge(source: Path, target: Path) -> None:
    """Move every file of ``source`` into ``target`` by atomic renames, folder by folder,
    the summary last."""
    for item in sorted(source.iterdir(), key=lambda p: p.name in LAST):
        there = target / item.name
        if item.is_dir() and there.is_dir():
            _merge(item, there)
        else:
            follow_umask(item)
            os.replace(item, there)


class publish_file:
    """Context manager for writing one file: yields a temporary path beside ``target`` that
    replaces it atomically on success (refused if ``target`` is not reliefsim's)."""

    def __init__(self, target: Path, kind: str = "files") -> None:
        self.target, self.kind = Path(target), kind

    def __enter__(self) -> Path:
        claim_file(self.target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.",
                                   suffix=self.target.suffix)
        os.close(fd)
        self.tmp = Path(tmp)
        self.tmp.unlink()  # writers that refuse an existing file (GeoPackage) get a free path
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None or not self.tmp.exists():
            self.tmp.unlink(missing_ok=True)
            return
        follow_umask(self.tmp)
        os.replace(self.tmp, self.target)
        register(self.target.parent, [self.target.name], self.kind)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        follow_umask(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
