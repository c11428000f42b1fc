"""Reading in a child process with a time and memory limit.

One long-lived child (``spawn``) imports the reading module once and keeps its OCR engines loaded
between documents; the worker talks to it over a pipe. A document that takes longer than
``timeout`` (a 20,000-page PDF the reader did not refuse in time), needs more than
``memory_limit`` (a decompression bomb) or kills the child (a crash in a C library) is refused
with that reason; the child is replaced and the worker goes on. Refusals the reader raises on
purpose (``ReceiptRejectedError``) pass through unchanged.
"""
from __future__ import annotations

import importlib
import logging
import multiprocessing
import resource
import signal
import time
from multiprocessing.connection import Connection
from typing import Any

from core.errors import ReceiptRejectedError
from core.extraction import Extraction

log = logging.getLogger(__name__)


def _serve(conn: Connection, module: str, memory_limit: int | None) -> None:
    # Ctrl-C reaches the whole process group: the worker finishes the document in hand and then
    # closes the pipe, so the child must not die of the same SIGINT halfway through a read
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    reader = importlib.import_module(module)
    while True:
        try:
            function, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, getattr(reader, function)(*args))
        except MemoryError:
            reply = (False, ReceiptRejectedError("the file needs too much memory to read"))
        except Exception as exc:                    # handed to the worker, which isolates it
            reply = (False, exc)
        try:
            conn.send(reply)
        except OSError:                             # the worker is gone (killed): nobody to answer
            return
        except Exception as exc:                    # an exception that does not pickle
            try:
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}"[:500])))
            except OSError:
                return


class IsolatedReader:
    def __init__(self, module: str = "ingest.reading", *, timeout: float = 120.0,
                 memory_limit: int | None = 3 * 2**30) -> None:
        self.module, self.timeout, self.memory_limit = module, timeout, memory_limit
        self._proc: Any = None
        self._conn: Connection | None = None

    def read_attachment(self, filename: str, content: bytes, mime: str) -> Extraction:
        return self._run("read_attachment", (filename, content, mime))

    def read_html_body(self, html: str) -> Extraction:
        return self._run("read_html_body", (html,))

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, self.module, self.memory_limit), name="klerk-reader",
                           daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def _run(self, function: str, args: tuple) -> Extraction:
        if self._proc is None or not self._proc.is_alive():
            self.close()
            self._start()
        assert self._conn is not None
        self._conn.send((function, args))
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("reading took more than %.0f s: the reader process is replaced", self.timeout)
                self.close()
                raise ReceiptRejectedError(f"reading took too long (over {self.timeout:.0f} s)")
            if self._conn.poll(min(remaining, 0.5)):
                try:
                    ok, value = self._conn.recv()
                except (EOFError, OSError):
                    ok, value = False, None
                if ok:
                    return value
                if value is not None:
                    raise value
            if not self._proc.is_alive():
                log.warning("the reader process died (exit code %s): it is replaced", self._proc.exitcode)
                self.close()
                raise ReceiptRejectedError("the reader crashed on this file")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=5)
        self._proc, self._conn = None, None
