"""Secrets at rest (IMAP passwords): Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

The key is ``settings.secret_key`` when set (a Fernet key: 32 bytes, url-safe base64), else a key
file in the data directory, made on first use with mode 0600. Losing the key loses the stored
passwords (the owner enters them again), never anything else.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import CoreError, ValidationError

KEY_FILE = "secret.key"


class SecretUnreadableError(CoreError):
    """A stored secret that the current key cannot decrypt (the key changed)."""


class SecretBox:
    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ValidationError("secret_key", "Not a Fernet key (32 bytes, url-safe base64)") from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretUnreadableError("the stored secret cannot be decrypted with this key") from None


def load_secret_box(secret_key: str, data_dir: Path) -> SecretBox:
    """The box for ``settings.secret_key``, or for the key file in ``data_dir`` (made if missing)."""
    if secret_key:
        return SecretBox(secret_key.strip())
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretBox(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as fh:
        fh.write(Fernet.generate_key())
        fh.flush()
        os.fsync(fh.fileno())
    return SecretBox(path.read_bytes().strip())
