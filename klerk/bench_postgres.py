"""A private PostgreSQL cluster for the benchmarks: ``initdb`` in a temporary directory, ``pg_ctl``
on a free 127.0.0.1 port, stopped and removed afterwards (as ``./dev test`` does for the tests).

Run as root, the server runs as the ``postgres`` user (``runuser``); PostgreSQL refuses to run as
root. Unlike the test cluster it keeps PostgreSQL's durable defaults (``fsync``,
``synchronous_commit``, full-page writes), so timings include what a production server pays.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): apt-get install postgresql, "
                           "or pass --database-url")
    return Path(found[-1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def cleanup_on_sigterm() -> Iterator[None]:
    """While inside: SIGTERM raises ``SystemExit``, so the ``finally`` blocks stop what a bench started
    (its PostgreSQL cluster, worker processes, Postfix) instead of leaving them running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def private_postgres(*, shared_buffers: str = "512MB", max_connections: int = 200) -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database ``klerk`` on a fresh cluster."""
    pg_bin = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="klerk-bench-pg-"))
    root.chmod(0o755)
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = _free_port()
    started = False
    try:
        subprocess.run(_as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c max_connections={max_connections} "
                   f"-c shared_buffers={shared_buffers}")
        subprocess.run(_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                                     "-o", options, "start"]), check=True, stdout=subprocess.DEVNULL)
        started = True
        admin = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE ROLE klerk LOGIN PASSWORD 'klerk'")
            conn.exec_driver_sql("CREATE DATABASE klerk OWNER klerk")
        admin.dispose()
        yield f"postgresql+psycopg://klerk:klerk@127.0.0.1:{port}/klerk"
    finally:
        if started:
            subprocess.run(_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)


def describe(url: str) -> str:
    """"PostgreSQL 15.x" for the report."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {str(version).split()[0]}"
