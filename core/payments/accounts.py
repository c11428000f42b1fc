"""Connecting a company to a payment provider: the API key, encrypted at rest, and its webhook token."""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlmodel import Session, select

from core.companies import get_company
from core.errors import NotFoundError, ValidationError
from core.payments.models import PaymentAccount
from core.secrets import SecretBox

MOLLIE_KEY = re.compile(r"^(live|test)_[A-Za-z0-9]{20,60}$")


def connect_provider(session: Session, box: SecretBox, company_id: int, api_key: str, *,
                     now: datetime, provider: str = "mollie") -> PaymentAccount:
    """Store (or replace) the company's API key, encrypted. The webhook token survives a key change."""
    get_company(session, company_id)
    key = (api_key or "").strip()
    if provider != "mollie":
        raise ValidationError("provider", "Unknown payment provider: {value}", value=provider[:20])
    if not MOLLIE_KEY.match(key):
        raise ValidationError("api_key", "This is not a Mollie API key (it starts with live_ or test_)")
    account = session.exec(select(PaymentAccount).where(
        PaymentAccount.company_id == company_id, PaymentAccount.provider == provider)).first()
    if account is None:
        account = PaymentAccount(company_id=company_id, provider=provider, api_key_encrypted="",
                                 webhook_token=secrets.token_urlsafe(24), created_at=now)
    account.api_key_encrypted = box.encrypt(key)
    account.key_hint = f"{key[:5]}…{key[-4:]}"
    account.active, account.updated_at = True, now
    session.add(account)
    session.flush()
    return account


def disconnect_provider(session: Session, company_id: int, *, now: datetime,
                        provider: str = "mollie") -> None:
    account = get_payment_account(session, company_id, provider=provider)
    account.active, account.updated_at = False, now
    session.add(account)
    session.flush()


def get_payment_account(session: Session, company_id: int, *, provider: str = "mollie") -> PaymentAccount:
    """The company's active account; ``NotFoundError`` when payments are not set up."""
    account = session.exec(select(PaymentAccount).where(
        PaymentAccount.company_id == company_id, PaymentAccount.provider == provider,
        PaymentAccount.active.is_(True))).first()
    if account is None:
        raise NotFoundError(f"no active {provider} account for company {company_id}")
    return account


def has_payment_account(session: Session, company_id: int, *, provider: str = "mollie") -> bool:
    return session.exec(select(PaymentAccount.id).where(
        PaymentAccount.company_id == company_id, PaymentAccount.provider == provider,
        PaymentAccount.active.is_(True))).first() is not None


def find_account_by_token(session: Session, token: str) -> PaymentAccount | None:
    """The active account a webhook token belongs to, or None for an unknown token."""
    if not token or len(token) > 64:
        return None
    return session.exec(select(PaymentAccount).where(
        PaymentAccount.webhook_token == token, PaymentAccount.active.is_(True))).first()


def mask_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` -> ``NL91…4300``: enough to recognise, not to copy."""
    compact = (iban or "").replace(" ", "")
    return f"{compact[:4]}…{compact[-4:]}" if len(compact) > 8 else compact
