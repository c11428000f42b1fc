"""The processes of the crash test: ``klerk serve --role ...`` children that are killed and restarted.

Each child runs in its own session (process group), so a kill of the child leaves any process it
started (the reading processes of a worker) in that group, where ``orphans`` finds them: children
must follow their parent within seconds, not live on.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], seconds: float, *, every: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()        # state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def klerk_command() -> list[str]:
    """``klerk`` of this environment (``.venv/bin/klerk``), else ``python -m klerk``."""
    script = Path(sys.executable).with_name("klerk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "klerk"]


class Fleet:
    """Named children: ``smtp``, ``worker-1`` … (any role of ``klerk serve``)."""

    def __init__(self, env: dict[str, str], work: Path, names: list[str], *, smtp_port: int | None = None) -> None:
        self.env, self.work, self.names, self.smtp_port = env, work, names, smtp_port
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.kills: Counter[str] = Counter()
        self.starts: Counter[str] = Counter()
        self.problems: list[str] = []
        (work / "logs").mkdir(parents=True, exist_ok=True)

    @staticmethod
    def role(name: str) -> str:
        return name.split("-", 1)[0]

    @property
    def restarts(self) -> int:
        return sum(self.starts.values()) - len(self.starts)

    def start(self, name: str) -> None:
        self.starts[name] += 1
        log = self.work / "logs" / f"{name}.{self.starts[name]}.log"
        with open(log, "wb") as out:                      # the child keeps its own descriptor
            env = self.env | {"KLERK_HTTP_PORT": str(free_port())}     # each process serves /healthz
            self.procs[name] = subprocess.Popen([*klerk_command(), "serve", "--role", self.role(name)], env=env,
                                                cwd=self.work, stdin=subprocess.DEVNULL, stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        self.logs[name] = log

    def ready(self, name: str) -> bool:
        if self.procs[name].poll() is not None:
            return False
        if self.role(name) == "smtp" and self.smtp_port:
            try:
                with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=0.5):
                    return True
            except OSError:
                return False
        return b"started" in self.logs[name].read_bytes()

    def wait_ready(self, name: str, seconds: float = 90.0) -> bool:
        if wait_until(lambda: self.ready(name) or self.procs[name].poll() is not None, seconds):
            if self.procs[name].poll() is None:
                return True
            self.problems.append(f"{name} exited while starting (code {self.procs[name].returncode}): "
                                 f"{self.tail(name)}")
            return False
        self.problems.append(f"{name} did not come up within {seconds:.0f} s: {self.tail(name)}")
        return False

    def kill(self, name: str) -> None:
        """SIGKILL, and check that the children follow (a reading process must not outlive its worker)."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        self.kills[self.role(name)] += 1
        if not wait_until(lambda: not group_members(proc.pid), 15, every=0.1):
            left = group_members(proc.pid)
            self.problems.append(f"{len(left)} child process(es) outlived the kill -9 of {name}")
            _kill_group(proc.pid)

    def check(self) -> None:
        """A child that exited without being killed is a finding; it is started again."""
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.problems.append(f"{name} exited by itself (code {proc.returncode}): {self.tail(name)}")
                _kill_group(proc.pid)
                self.start(name)
                self.wait_ready(name)

    def stop(self, seconds: float = 30.0) -> None:
        """SIGTERM to all; each must finish the work in hand and exit within ``seconds``."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.problems.append(f"{name} did not stop within {seconds:.0f} s of SIGTERM")
            _kill_group(proc.pid)

    def kill_all(self) -> None:
        for proc in self.procs.values():
            _kill_group(proc.pid)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.problems.append(f"process {proc.pid} did not die")

    def tail(self, name: str, lines: int = 6) -> str:
        text = self.logs[name].read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])[-1500:] or "(no output)"


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
