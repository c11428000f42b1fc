"""``klerk send-receipt``: mail a file to the local SMTP ingest, as a person forwarding a receipt."""
from __future__ import annotations

import mimetypes
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from core import settings as settings_module
from core import storage


def _first_address(settings) -> str | None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from core.inbox.addresses import address_of, ingest_address
    from core.models import Company
    from klerk.runtime import make_engine
    from klerk.serve import _now

    engine = make_engine(settings)
    with storage.session_scope(engine) as session:
        company = session.exec(select(Company).order_by(Company.id)).first()
        if company is None:
            return None
        return address_of(ingest_address(session, company.id, now=_now()), settings.ingest_domain)


def send_receipt_file(path: Path, *, to: str | None, echo: Callable[[str], None],
                      err: Callable[[str], None]) -> int:
    settings = settings_module.load()
    if not path.is_file():
        err(f"{path}: no such file")
        return 2
    to = to or _first_address(settings)
    if not to:
        err("No company yet: set one up in the chat first (/start), or pass --to bon-…@" + settings.ingest_domain)
        return 2
    msg = EmailMessage()
    msg["From"] = "ik@example.nl"
    msg["To"] = to
    msg["Subject"] = f"Fwd: {path.name}"
    msg.set_content("Doorgestuurd met klerk send-receipt.")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, _, subtype = mime.partition("/")
    msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        err(f"the ingest refused it: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}")
        return 1
    except (smtplib.SMTPException, OSError) as exc:
        err(f"cannot reach the SMTP ingest on {settings.smtp_host}:{settings.smtp_port}: {exc} — is `klerk serve` running?")
        return 1
    echo(f"sent {path.name} to {to}; the chat will show what was read")
    return 0
