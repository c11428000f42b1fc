"""Secrets at rest (IMAP passwords, payment API keys): Fernet with the installation's one key.

The key comes from ``settings.secret_key`` when it is set (a Fernet key; any other text is stretched
to one with SHA-256), else from ``<data_dir>/secret.key``, created with mode 0600 on first use. Losing
the key means re-entering those passwords and API keys, nothing worse.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import CoreError

KEY_FILE = "secret.key"


class SecretError(CoreError):
    """A stored secret cannot be read with the current key (the key changed or the data is damaged)."""


def _as_fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _key_from_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:            # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


class SecretBox:
    """Encrypts and decrypts short secrets (API keys) as text."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, secret_key: str, data_dir: Path) -> SecretBox:
        """``secret_key`` is ``settings.secret_key.get_secret_value()``; empty = the key file."""
        if secret_key.strip():
            return cls(_as_fernet_key(secret_key))
        return cls(_key_from_file(Path(data_dir) / KEY_FILE))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretError("a stored secret cannot be decrypted with the current key") from exc


SecretUnreadableError = SecretError


def load_secret_box(secret_key: str, data_dir: Path) -> SecretBox:
    """The box for ``settings.secret_key``, or for the key file in ``data_dir`` (made if missing)."""
    return SecretBox.from_settings(secret_key, data_dir)


def derived_key(secret_key: str, data_dir: Path, purpose: str) -> bytes:
    """A key for one purpose ("buttons": signed chat buttons, "bounces": bounce addresses), derived
    from the installation's one key: ``KLERK_SECRET_KEY``, or the key file in ``data_dir`` (made on
    first use). Different purposes give unrelated keys."""
    configured = secret_key.strip()
    if not configured:
        load_secret_box("", data_dir)                   # makes the key file when missing
        configured = (Path(data_dir) / KEY_FILE).read_text().strip()
    return hashlib.sha256(f"klerk-{purpose}|".encode() + configured.encode()).digest()
