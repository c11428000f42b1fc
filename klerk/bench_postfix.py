"""A private Postfix for ``klerk bench smtp``: Debian's package, installed only when the bench is
asked to, and an instance of its own (config, queue and data directories in a temporary directory,
``smtpd`` on a free 127.0.0.1 port, every recipient delivered by the ``discard`` transport).

What Postfix does before its ``250`` (src/cleanup, ``mail_stream_finish_file``): ``smtpd`` streams
the message to the ``cleanup`` service, which writes the queue file under ``incoming/``, flushes
it, sets its execute bit (the "complete" mark) and ``fsync``s it, then answers ``smtpd``; only
then does ``smtpd`` reply ``250 2.0.0 Ok: queued``. Delivery (here: discard) happens after that,
from the queue. So a 250 means "the mail is on disk", which is Klerk's promise too (raw file and
its directory ``fsync``ed, row and job committed, then 250).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PRESEED = ("postfix postfix/main_mailer_type select No configuration\n"
           "postfix postfix/mailname string klerk-bench.localhost\n")


def postfix_installed() -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "postfix"], capture_output=True, text=True)
    return done.returncode == 0 and "install ok installed" in done.stdout


def ensure_postfix(*, install: bool, say: Callable[[str], None]) -> bool:
    """True when Postfix (and its ``smtp-source``) is there; installs it from Debian if ``install``."""
    if postfix_installed():
        say("Postfix: installed (dpkg -s postfix), not installing.")
        return True
    if not install:
        say("Postfix: not installed; the Postfix baseline is skipped (--install-postfix installs it).")
        return False
    if os.geteuid() != 0:
        raise RuntimeError("Postfix is not installed and installing it needs root: "
                           "apt-get install postfix (debconf: No configuration)")
    say("Postfix: not installed; installing Debian's package (apt-get install postfix, 'No configuration').")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["debconf-set-selections"], input=PRESEED, text=True, check=True, env=env)
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:                          # the package's postinst must not start the system Postfix
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o",
                        "DPkg::Lock::Timeout=300", "postfix"], check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)
    return postfix_installed()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Postfix did not listen on 127.0.0.1:{port}")


MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = klerk-bench.localhost
mydomain = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination = {domain}
local_recipient_maps =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
message_size_limit = 26214400
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP
default_process_limit = 100
"""

# chroot "n" everywhere: no chroot jail to populate in a temporary directory.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


@contextmanager
def private_postfix(domain: str) -> Iterator[int]:
    """Start a Postfix instance of its own; yield its SMTP port; stop it and remove its files."""
    root = Path(tempfile.mkdtemp(prefix="klerk-bench-postfix-"))
    root.chmod(0o755)
    port = _free_port()
    conf = root / "etc"
    conf.mkdir()
    (root / "spool").mkdir()
    (root / "data").mkdir()
    shutil.chown(root / "data", "postfix")
    (conf / "main.cf").write_text(MAIN_CF.format(root=root, domain=domain))
    (conf / "master.cf").write_text(MASTER_CF.format(port=port))
    postfix = ["postfix", "-c", str(conf)]
    started = False
    try:
        subprocess.run([*postfix, "start"], check=True, capture_output=True, text=True)
        started = True
        _wait_port(port, 20)
        yield port
    except subprocess.CalledProcessError as exc:
        log = (root / "postfix.log").read_text()[-2000:] if (root / "postfix.log").exists() else ""
        raise RuntimeError(f"Postfix failed: {exc.stderr or exc.stdout}\n{log}") from exc
    finally:
        if started:
            subprocess.run([*postfix, "stop"], capture_output=True)
            for _ in range(50):
                if not (root / "spool" / "pid" / "master.pid").exists():
                    break
                time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
