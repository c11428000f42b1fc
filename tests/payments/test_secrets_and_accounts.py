"""API keys at rest: encrypted, with a key from the settings or a key file; and the Dutch texts."""
from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from core.errors import NotFoundError, ValidationError
from core.i18n import translations
from core.payments.accounts import connect_provider, disconnect_provider, find_account_by_token, get_payment_account
from core.payments.models import PaymentAccount
from core.secrets import SecretBox, SecretError
from tests.conftest import NOW, REPO
from tests.payments.conftest import TEST_KEY


def test_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    box = SecretBox.from_settings("", tmp_path)
    token = box.encrypt("live_abc")
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert SecretBox.from_settings("", tmp_path).decrypt(token) == "live_abc"
    with pytest.raises(SecretError):
        SecretBox.from_settings("another key entirely", tmp_path).decrypt(token)


def test_a_setting_key_wins_and_any_text_is_stretched(tmp_path: Path) -> None:
    box = SecretBox.from_settings("my long passphrase", tmp_path)
    assert SecretBox.from_settings("my long passphrase", tmp_path / "elsewhere").decrypt(box.encrypt("x")) == "x"
    assert not (tmp_path / "secret.key").exists()


def test_the_api_key_is_stored_encrypted(session, make_company, box) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    account = connect_provider(session, box, company.id, TEST_KEY, now=NOW)
    stored = session.exec(select(PaymentAccount.api_key_encrypted)).one()
    assert TEST_KEY not in stored and box.decrypt(stored) == TEST_KEY
    assert account.key_hint == "test_…lXsM"
    assert find_account_by_token(session, account.webhook_token).id == account.id
    assert find_account_by_token(session, "nope") is None
    token = account.webhook_token
    again = connect_provider(session, box, company.id, "live_" + "x" * 30, now=NOW)
    assert again.id == account.id and again.webhook_token == token                   # a new key keeps the URL
    with pytest.raises(ValidationError) as exc:
        connect_provider(session, box, company.id, "sk_live_stripe_key", now=NOW)
    assert "Mollie API-sleutel" in exc.value.translated("nl")
    disconnect_provider(session, company.id, now=NOW)
    with pytest.raises(NotFoundError):
        get_payment_account(session, company.id)
    assert find_account_by_token(session, token) is None


def _messages(path: Path) -> list[str]:
    """The English msgids a payments module hands to translate(): error messages and text constants."""
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("ValidationError", "StatementError"):
            args = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            found.append(args[-1].value)
    return found


def test_every_payments_message_has_a_dutch_translation() -> None:
    from core.payments import figures, letters

    catalogue = translations("nl")
    msgids = [m for p in sorted((REPO / "core" / "payments").glob("*.py")) for m in _messages(p)]
    msgids += [*letters.SUBJECTS.values(), letters.BODY_FIRST, letters.BODY_SECOND, letters.BODY_FINAL_CONSUMER,
               letters.STATUTORY_CONSUMER, letters.BODY_FINAL_BUSINESS, letters.LINK_LINE, letters.CLOSING,
               *figures.RUBRIEKEN.values(), *figures.CSV_HEADERS, figures.NOTE_KOR, figures.NOTE_NO_RECEIPTS,
               "Invoiced", "Received"]
    assert len(msgids) > 40
    missing = [m for m in msgids if catalogue.gettext(m) == m]
    assert missing == []
