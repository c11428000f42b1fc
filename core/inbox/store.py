"""The file store of the inbox: raw mails and originals, written durably (fsync before rename).

Raw mails get a fresh name (``raw/YYYY/MM/DD/<uuid>.eml``); originals are content addressed
(``originals/ab/<sha256>.<ext>``), so writing one twice (a worker retried after ``kill -9``) is
harmless. Paths in the database are relative to the root, so the root can move — to a shared
directory, or to S3-compatible storage (``core.inbox.object_store.S3Store``, the same interface and
the same relative names as keys). ``store_from_settings`` picks one from ``KLERK_STORAGE_URL``.
"""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from core.inbox.object_store import S3Store
    from core.settings import Settings

_EXT = re.compile(r"^[a-z0-9]{1,8}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_name(now: datetime) -> str:
    """A fresh relative name for a raw mail."""
    return f"raw/{now:%Y/%m/%d}/{uuid.uuid4().hex}.eml"


def original_name(data: bytes, ext: str) -> tuple[str, str]:
    """(relative name, sha256) of an original: content addressed."""
    digest = sha256_hex(data)
    ext = ext.lower().lstrip(".")
    return f"originals/{digest[:2]}/{digest}" + (f".{ext}" if _EXT.match(ext) else ""), digest


def is_safe_name(rel: str) -> bool:
    """A relative name inside the store: no absolute path, no ``..``, no empty part."""
    parts = rel.split("/") if rel else []
    return bool(parts) and all(p not in ("", ".", "..") and "\\" not in p for p in parts)


class InboxStore(Protocol):
    """What the inbox needs of a store (``FileStore`` and ``S3Store`` both are one)."""

    @property
    def location(self) -> str: ...
    def write_raw(self, data: bytes, *, now: datetime) -> str: ...
    def write_original(self, data: bytes, ext: str) -> tuple[str, str]: ...
    def read(self, rel: str) -> bytes: ...
    def put(self, rel: str, data: bytes) -> None: ...
    def size(self, rel: str) -> int | None: ...
    def list_files(self, prefix: str = "") -> Iterator[tuple[str, datetime]]: ...
    def move(self, rel: str, new_rel: str) -> None: ...


class FileStore:
    """The store in a local (or shared, e.g. NFS) directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def location(self) -> str:
        return str(self.root)

    def write_raw(self, data: bytes, *, now: datetime) -> str:
        """Store a raw mail under a new name; returns the relative path once it is on disk."""
        rel = raw_name(now)
        self._write_durably(self.root / rel, data)
        return rel

    def write_original(self, data: bytes, ext: str) -> tuple[str, str]:
        """Store an original by its hash; returns (relative path, sha256). Idempotent."""
        rel, digest = original_name(data, ext)
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

    def put(self, rel: str, data: bytes) -> None:
        """Write ``data`` under exactly ``rel`` (restoring a backup), durably."""
        if not is_safe_name(rel):
            raise ValidationError("path", "Not a name inside the store")
        self._write_durably(self.root / rel, data)

    def size(self, rel: str) -> int | None:
        """The stored file's size in bytes, ``None`` when it is not there."""
        if not is_safe_name(rel):
            return None
        try:
            return (self.root / rel).stat().st_size
        except FileNotFoundError:
            return None

    def list_files(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """(name, last modified in UTC) of every stored file under ``prefix``, in name order;
        half-written temporary files are skipped."""
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return
        for directory, dirs, names in os.walk(base):
            dirs.sort()
            for name in sorted(names):
                if name.startswith(".") and name.endswith(".tmp"):
                    continue
                path = Path(directory) / name
                rel = path.relative_to(self.root).as_posix()
                if path.is_file() and not path.is_symlink() and is_safe_name(rel):
                    yield rel, datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)

    def move(self, rel: str, new_rel: str) -> None:
        """Give a stored file another name in the store, durably (both directories fsynced)."""
        if not (is_safe_name(rel) and is_safe_name(new_rel)):
            raise ValidationError("path", "Not a name inside the store")
        source, target = self.root / rel, self.root / new_rel
        new_dirs = self._make_dirs(target.parent)
        os.replace(source, target)
        for directory in dict.fromkeys([target.parent, source.parent, *new_dirs]):
            fsync_path(directory)

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
            fsync_path(directory)

    def _make_dirs(self, directory: Path) -> list[Path]:
        """mkdir -p; returns the parents of the directories it created (to fsync them)."""
        missing = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        directory.mkdir(parents=True, exist_ok=True)
        return [m.parent for m in missing]


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory: so that the names in it survive a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_from_settings(settings: Settings) -> FileStore | S3Store:
    """The store ``settings.storage_url`` names: empty = ``<data_dir>/documents/inbox``; a directory
    (or ``file://`` URL), e.g. a shared mount; or ``s3://bucket/prefix`` on S3-compatible storage
    (``s3_endpoint_url``, ``s3_region`` and the access key settings; empty ones fall back to boto3's
    own configuration: environment, ``~/.aws``, instance roles)."""
    url = settings.storage_url.strip()
    if not url:
        return FileStore(settings.documents_dir / "inbox")
    if url.startswith("s3://"):
        from core.inbox.object_store import S3Store

        return S3Store.from_settings(settings)
    if url.startswith("file://"):
        return FileStore(Path(url[len("file://"):]))
    if "://" in url:
        raise ValidationError("storage_url", "Use a directory or s3://bucket/prefix")
    return FileStore(Path(url))
