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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import ReliefsimError

__all__ = ["MARKER", "atomic_write", "atomic_write_bytes", "claim_dir", "claim_file", "folder_kind",
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


def _real(path: Path) -> Path:
    """The place a path writes to: absolute (``--out .`` has a name), through a symbolic
    link (so temporary files sit on the target's own filesystem)."""
    path = Path(path).expanduser().absolute()
    if path.is_symlink():
        if not path.exists():
            raise ReliefsimError(f"{path}: a broken symbolic link; point it at a folder or "
                                 "choose another output")
        return path.resolve()
    return path


def _writable(path: Path) -> None:
    """Refuse early (before any work) when the nearest existing folder cannot be written."""
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReliefsimError(f"{path}: cannot write in {folder} (permission denied); choose "
                             "another output")


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns] if path.is_file() else None


def _owned(marker: dict[str, Any]) -> dict[str, Any]:
    """The marker's files with their [size, mtime] when written (None: not recorded)."""
    files = marker.get("files", {})
    return dict.fromkeys(files) if isinstance(files, list) else dict(files)


def claim_dir(path: Path, kind: str) -> None:
    """Refuse to write a ``kind`` folder at ``path`` unless it is new, empty or one reliefsim
    wrote as that kind before: nothing a user made is ever replaced or deleted."""
    path = _real(path)
    if path.exists() and not path.is_dir():
        raise ReliefsimError(f"{path}: is an existing file, not a folder; reliefsim never "
                             "replaces files it did not write — choose another output folder")
    _writable(path)
    if not path.is_dir() or not any(path.iterdir()) or folder_kind(path) == kind:
        return
    found = folder_kind(path)
    what = f"a reliefsim {found} folder" if found else "not a reliefsim results folder"
    raise ReliefsimError(f"{path}: exists, is not empty and is {what}; reliefsim never deletes "
                         f"or replaces files it did not write — choose a new or empty folder "
                         f"for the {kind}")


def _unchanged(path: Path, marker: dict[str, Any]) -> bool:
    """Whether ``path`` is listed in ``marker`` and still as reliefsim wrote it."""
    files = _owned(marker)
    if path.name not in files:
        return False
    recorded = files[path.name]
    return recorded is None or recorded == _stat(path)


def claim_file(path: Path) -> None:
    """Refuse to replace ``path`` unless reliefsim wrote it and nobody has changed it since
    (a ledger or GeoPackage edited by a planner is never overwritten)."""
    path = _real(path)
    _writable(path)
    if not path.exists():
        return
    if path.is_dir():
        raise ReliefsimError(f"{path}: is a folder; give a file name")
    marker = _marker(path.parent)
    if not marker and _legacy_kind(path.parent):
        return  # a results folder written before markers existed
    if _unchanged(path, marker):
        return
    why = ("has changed since reliefsim wrote it" if path.name in _owned(marker)
           else "was not written by reliefsim")
    raise ReliefsimError(f"{path}: exists and {why}; it is never replaced — choose another "
                         "output file or move it away")


def register(folder: Path, names: list[str], kind: str, *, drop: list[str] = ()) -> None:
    """Record in ``folder``'s marker that reliefsim wrote ``names`` there (with their size
    and time, to notice later edits), as a folder of ``kind`` unless it already has one."""
    marker = _marker(folder)
    marker["kind"] = marker.get("kind") or _legacy_kind(folder) or kind
    files = _owned(marker)
    for name in drop:
        files.pop(name, None)
    files.update({name: _stat(folder / name) for name in names})
    marker["files"] = dict(sorted(files.items()))
    atomic_write(folder / MARKER, lambda tmp: tmp.write_text(
        json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8"))


class publish_dir:
    """Context manager for writing a whole folder of ``kind``: files go to a temporary
    sibling folder and appear in ``target`` only when all are written. A new ``target`` is
    one rename; an existing reliefsim folder of the same kind gets each file replaced by an
    atomic rename, and reliefsim's files of the previous result that this one does not write
    (a report or GeoPackage of the old run) are removed unless someone changed them; files a
    user added stay untouched. On failure nothing changes."""

    def __init__(self, target: Path, kind: str) -> None:
        self.target, self.kind = _real(target), kind

    def __enter__(self) -> Path:
        claim_dir(self.target, self.kind)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            self._publish()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _publish(self) -> None:
        names = sorted(p.name for p in self.tmp.iterdir())  # written with the umask already
        if not self.target.exists():
            register(self.tmp, names, self.kind)
            follow_umask(self.tmp)
            os.replace(self.tmp, self.target)
            return
        claim_dir(self.target, self.kind)  # still ours after the work
        marker = _marker(self.target)
        stale = [n for n in _owned(marker) if n not in names and (self.target / n).is_file()
                 and _unchanged(self.target / n, marker)]
        _merge(self.tmp, self.target)
        for name in stale:
            (self.target / name).unlink()
        register(self.target, names, self.kind, drop=stale)


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
            os.replace(item, there)


class publish_file:
    """Context manager for writing one file: yields a temporary path beside ``target`` that
    replaces it atomically on success (refused if ``target`` is not reliefsim's)."""

    def __init__(self, target: Path, kind: str = "files") -> None:
        self.target, self.kind = _real(target), kind

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


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` by ``write(temporary path)`` beside it and one rename: readers see the
    old file or the new one, never half of one (a left-over ``.NAME.*.tmp`` marks a killed
    write). Through a symbolic link to its target; an existing file keeps its permissions, a
    new one follows the umask."""
    path = _real(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            follow_umask(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda tmp: tmp.write_bytes(payload))
