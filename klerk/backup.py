"""``klerk admin backup`` and ``restore``: one ``.tar.gz`` with the database, the originals of a local
inbox store and the key file.

Consistency: the database is copied first — SQLite with the online backup API (one step, a snapshot
of a single read transaction, so it is safe while ``klerk serve`` writes), PostgreSQL with
``pg_dump --format=custom`` (one repeatable-read snapshot) — and the store after it. A file is
written (and fsynced) before the row that names it is committed, so every file the copied database
names is already on disk when the store is copied; files that arrive later are extra, never missing.
Originals on S3 are not in the archive: the bucket is backed up with its own tools.

Layout of the archive::

    klerk-backup.json          what is inside (format, database kind, revision, store, key file)
    database/klerk.sqlite3     or database/klerk.pgdump
    store/raw/..., store/originals/...   the local inbox store, as it is on disk
    secret.key                 the key file of KLERK_DATA_DIR, when the key comes from it
"""
from __future__ import annotations

import glob
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import storage
from core.inbox.store import FileStore, InboxStore, fsync_path, is_safe_name
from core.secrets import KEY_FILE
from core.settings import Settings

FORMAT = 1
MANIFEST = "klerk-backup.json"
SQLITE_MEMBER = "database/klerk.sqlite3"
PG_MEMBER = "database/klerk.pgdump"
STORE_PREFIX = "store/"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator."""


@dataclass
class Outcome:
    """What a backup or restore did, in lines for the operator."""

    lines: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)


# ---- backup -----------------------------------------------------------------------------------

def create_backup(settings: Settings, engine: Engine, store: InboxStore, out: Path, *, now: datetime) -> Outcome:
    outcome = Outcome()
    kind = engine.url.get_backend_name()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="klerk-backup-", dir=out.parent) as tmp:
        dump = Path(tmp) / "db"
        if kind == "sqlite":
            _sqlite_copy(_sqlite_path(engine), dump, to_file=True)
            db_member = SQLITE_MEMBER
        elif kind == "postgresql":
            _pg_run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"], engine)
            db_member = PG_MEMBER
        else:
            raise BackupError(f"backups of a {kind} database are not supported (SQLite or PostgreSQL)")
        key_file = _key_file(settings)
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "database": kind,
                    "revision": storage.current_revision(engine), "store": {"location": store.location},
                    "key_file": key_file is not None}
        partial = Path(tmp) / "backup.tar.gz"
        partial.touch(mode=0o600)                    # it may hold the key file
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            files, size = 0, 0
            members: list[tuple[Path, str]] = []
            if isinstance(store, FileStore):
                members = [(store.root / rel, rel) for rel, _ in store.list_files()]
                files, size = len(members), sum(p.stat().st_size for p, _ in members)
                manifest["store"].update(kind="local", included=True, files=files, bytes=size)
            else:
                manifest["store"].update(kind="s3", included=False)
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode(), mtime=now.timestamp())
            tar.add(dump, arcname=db_member, recursive=False)
            for path, rel in members:
                tar.add(path, arcname=STORE_PREFIX + rel, recursive=False)
            if key_file is not None:
                tar.add(key_file, arcname=KEY_FILE, recursive=False)
        fsync_path(partial)
        os.replace(partial, out)
    fsync_path(out.parent)
    outcome.say(f"backup written: {out} ({out.stat().st_size} bytes)")
    outcome.say(f"database: {kind}, revision {manifest['revision']}")
    if manifest["store"]["kind"] == "local":
        outcome.say(f"originals: {files} files ({size} bytes) from {store.location}")
    else:
        outcome.say(f"originals: NOT in this backup: they are on S3 ({store.location}). Back up the bucket with "
                    "its own tools (versioning, replication, or `aws s3 sync`).")
    outcome.lines.extend(_key_notes(settings, key_file))
    return outcome


def _key_file(settings: Settings) -> Path | None:
    if settings.secret_key.get_secret_value().strip():
        return None
    path = Path(settings.data_dir) / KEY_FILE
    return path if path.is_file() else None


def _key_notes(settings: Settings, key_file: Path | None) -> list[str]:
    if key_file is not None:
        return [f"key file: {KEY_FILE} is IN this backup. It decrypts the stored IMAP passwords and payment API "
                "keys: keep the backup as secret as the key itself."]
    if settings.secret_key.get_secret_value().strip():
        return ["key: comes from KLERK_SECRET_KEY and is NOT in this backup. Keep it yourself: without it the "
                "stored IMAP passwords and payment API keys cannot be decrypted after a restore."]
    return ["key: no key file yet (nothing has been encrypted), so none is in the backup."]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, *, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(mtime)
    tar.addfile(info, io.BytesIO(data))


# ---- restore ----------------------------------------------------------------------------------

def restore_backup(settings: Settings, engine: Engine, store: InboxStore, src: Path, *, force: bool) -> Outcome:
    outcome = Outcome()
    kind = engine.url.get_backend_name()
    try:
        tar = tarfile.open(src, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{src}: not a Klerk backup ({exc})") from None
    with tar, tempfile.TemporaryDirectory(prefix="klerk-restore-") as tmp:
        manifest = _manifest(tar, src)
        if manifest["database"] != kind:
            raise BackupError(f"{src} holds a {manifest['database']} database, but this installation uses {kind}: "
                              "restore it into the same kind of database")
        if _has_rows(engine) and not force:
            raise BackupError("the database is not empty: restore refuses to overwrite it (add --force to replace "
                              "everything in it with the backup)")
        key = _member_bytes(tar, KEY_FILE) if manifest.get("key_file") else None
        key_path = Path(settings.data_dir) / KEY_FILE
        env_key = bool(settings.secret_key.get_secret_value().strip())
        if key is not None and not env_key and key_path.is_file() and key_path.read_bytes() != key and not force:
            raise BackupError(f"{key_path} differs from the key in the backup: add --force to replace it")

        dump = Path(tmp) / "db"
        member = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
        dump.write_bytes(_member_bytes(tar, member))
        if kind == "sqlite":
            _restore_sqlite(engine, dump)
        else:
            _restore_postgres(engine, dump)
        storage.upgrade(engine)
        outcome.say(f"database: restored ({kind}), now at revision {storage.current_revision(engine)}")

        files = 0
        for info in tar.getmembers():
            if not info.name.startswith(STORE_PREFIX) or not info.isfile():
                continue
            rel = info.name[len(STORE_PREFIX):]
            if not is_safe_name(rel):
                raise BackupError(f"{src}: refusing the unsafe name {info.name!r}")
            extracted = tar.extractfile(info)
            assert extracted is not None
            store.put(rel, extracted.read())
            files += 1
        if manifest["store"].get("included"):
            outcome.say(f"originals: {files} files restored into {store.location}")
        else:
            outcome.say(f"originals: not in this backup (they were on S3, {manifest['store'].get('location')}); "
                        "restore the bucket with its own tools")

        if key is not None and env_key:
            outcome.say("key: the backup holds a key file, but KLERK_SECRET_KEY is set and is used instead; if it "
                        "is another key, stored IMAP passwords and payment API keys must be entered again")
        elif key is not None:
            _write_key(key_path, key)
            outcome.say(f"key: {key_path} restored")
        elif not env_key:
            outcome.say("key: the backup has no key file: if KLERK_SECRET_KEY was used, set it again")
    return outcome


def _manifest(tar: tarfile.TarFile, src: Path) -> dict:  # type: ignore[type-arg]
    try:
        manifest = json.loads(_member_bytes(tar, MANIFEST))
    except (BackupError, ValueError):
        raise BackupError(f"{src}: not a Klerk backup (no readable {MANIFEST})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: backup format {manifest.get('format') if isinstance(manifest, dict) else '?'} "
                          f"is not supported (this Klerk reads format {FORMAT})")
    return manifest


def _member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        info = tar.getmember(name)
    except KeyError:
        raise BackupError(f"the backup has no {name}") from None
    extracted = tar.extractfile(info) if info.isfile() else None
    if extracted is None:
        raise BackupError(f"the backup has no {name}")
    return extracted.read()


def _has_rows(engine: Engine) -> bool:
    """Whether any table (other than alembic's) holds a row."""
    names = [n for n in sa.inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.connect() as conn:
        for name in names:
            if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first() is not None:
                return True
    return False


def _write_key(path: Path, key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# ---- SQLite -----------------------------------------------------------------------------------

def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path, *, to_file: bool) -> None:
    """Copy ``source`` into ``target`` with the online backup API, in one step (one snapshot)."""
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target, timeout=60)
    try:
        src.backup(dst)
        if to_file:                                  # a self-contained file, checked before it is kept
            dst.execute("PRAGMA journal_mode=DELETE")
            ok = dst.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise BackupError(f"the copy of the database fails its check: {ok}")
    except sqlite3.Error as exc:
        raise BackupError(f"copying the SQLite database failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _restore_sqlite(engine: Engine, dump: Path) -> None:
    check = sqlite3.connect(dump)
    try:
        ok = check.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"the database in the backup is damaged: {exc}") from None
    finally:
        check.close()
    if not ok or ok[0] != "ok":
        raise BackupError(f"the database in the backup is damaged: {ok}")
    engine.dispose()
    _sqlite_copy(dump, _sqlite_path(engine), to_file=False)


# ---- PostgreSQL -------------------------------------------------------------------------------

def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")])
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name} not found (on PATH or in /usr/lib/postgresql/*/bin): install the PostgreSQL "
                      "client tools of your server's version")


def _pg_run(tool: str, args: list[str], engine: Engine) -> None:
    url = engine.url
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)     # not on the command line, where ps would show it
    result = subprocess.run([_pg_binary(tool), f"--dbname={conninfo}", *args], env=env, capture_output=True,
                            text=True, timeout=6 * 3600)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise BackupError(f"{tool} failed ({result.returncode}): " + (detail[-1] if detail else "no message"))


def _restore_postgres(engine: Engine, dump: Path) -> None:
    names = sa.inspect(engine).get_table_names()
    with engine.begin() as conn:                     # start from nothing: tables of a newer schema too
        for name in names:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    engine.dispose()
    _pg_run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                           "--exit-on-error", str(dump)], engine)
