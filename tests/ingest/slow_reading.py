"""A reading module for the isolation tests: it hangs on one file, eats memory on another and
crashes on a third and reads the rest (through the real reader). Loaded by ``IsolatedReader(module=...)`` in a child."""
from __future__ import annotations

import os
import signal
import time

from core.extraction import Extraction
from ingest import reading


def read_attachment(filename: str, content: bytes, mime: str) -> Extraction:
    if filename == "hangs.pdf":
        time.sleep(60)
    if filename == "crashes.pdf":
        os.kill(os.getpid(), signal.SIGSEGV)     # a crash in a C library
    if filename == "eats.pdf":
        hog = bytearray(8 * 2**30)          # far above the child's memory limit
        return Extraction(source="none", text=str(len(hog)))
    return reading.read_attachment(filename, content, mime)


def read_html_body(html: str) -> Extraction:
    return reading.read_html_body(html)
