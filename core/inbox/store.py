"""The file store of the inbox: raw mails and originals, written durably (fsync before rename).

Raw mails get a fresh name (``raw/YYYY/MM/DD/<uuid>.eml``); originals are content addressed
(``originals/ab/<sha256>.<ext>``), so writing one twice (a worker retried after ``kill -9``) is
harmless. Paths in the database are relative to the root, so the root can move.
"""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

from core.errors import NotFoundError

_EXT = re.compile(r"^[a-z0-9]{1,8}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write_raw(self, data: bytes, *, now: datetime) -> str:
        """Store a raw mail under a new name; returns the relative path once it is on disk."""
        rel = f"raw/{now:%Y/%m/%d}/{uuid.uuid4().hex}.eml"
        self._write_durably(self.root / rel, data)
        return rel

    def write_original(self, data: bytes, ext: str) -> tuple[str, str]:
        """Store an original by its hash; returns (relative path, sha256). Idempotent."""
        digest = sha256_hex(data)
        ext = ext.lower().lstrip(".")
        rel = f"originals/{digest[:2]}/{digest}" + (f".{ext}" if _EXT.match(ext) else "")
        path = self.root / rel
        if not path.exists() or path.stat().st_size != len(data):
            self._write_durably(path, data)
        return rel, digest

    def read(self, rel: str) -> bytes:
        path = (self.root / rel).resolve()
        if not rel or self.root.resolve() not in path.parents:
            raise NotFoundError("no such file in the store")
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError("the stored file is missing") from None

    def _write_durably(self, path: Path, data: bytes) -> None:
        new_dirs = self._make_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(tmp, path)
        for directory in [path.parent, *new_dirs]:
            _fsync_dir(directory)

    def _make_dirs(self, directory: Path) -> list[Path]:
        """mkdir -p; returns the parents of the directories it created (to fsync them)."""
        missing = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        directory.mkdir(parents=True, exist_ok=True)
        return [m.parent for m in missing]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
