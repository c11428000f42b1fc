"""Outgoing e-mail: build a MIME message (pure) and hand it to the configured SMTP relay.

Sending is synchronous (smtplib); callers on an event loop run it in a thread. A refusal by the
relay raises ``MailDeliveryError`` with the SMTP code, so the caller can roll back (the number of
an invoice whose mail was refused is not used) and tell the user why.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from core.errors import CoreError


class MailDeliveryError(CoreError):
    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class Relay:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = ""            # envelope sender / From address
    timeout: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    text: str
    sender_name: str = ""
    reply_to: str = ""
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


def _safe_header(value: str) -> str:
    """No header injection: CR/LF never reach a header."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())[:900]


def build_message(mail: OutgoingMail, relay: Relay, *, domain: str = "klerk.localhost") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((_safe_header(mail.sender_name), relay.sender)) if mail.sender_name else relay.sender
    msg["To"] = ", ".join(str(Address(addr_spec=_safe_header(a))) for a in mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(str(Address(addr_spec=_safe_header(a))) for a in mail.cc)
    if mail.reply_to:
        msg["Reply-To"] = str(Address(addr_spec=_safe_header(mail.reply_to)))
    msg["Subject"] = _safe_header(mail.subject)
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in mail.headers.items():
        msg[_safe_header(name)] = _safe_header(value)
    msg.set_content(mail.text)
    for att in mail.attachments:
        maintype, _, subtype = att.mime.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=_safe_header(att.filename))
    return msg


def send_message(relay: Relay, msg: EmailMessage) -> None:
    """Deliver through the relay; raises ``MailDeliveryError`` on refusal or connection trouble."""
    if not relay.configured:
        raise MailDeliveryError("no outgoing mail server configured (KLERK_SMTP_RELAY_HOST, KLERK_SMTP_FROM)")
    recipients = [a.addr_spec for h in ("To", "Cc") for a in (msg[h].addresses if msg[h] else ())]
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout) as smtp:
            smtp.ehlo()
            if relay.starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if relay.user:
                smtp.login(relay.user, relay.password)
            refused = smtp.send_message(msg, from_addr=relay.sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min(c for c, _ in exc.recipients.values())
        raise MailDeliveryError(f"recipient refused ({code})", code=code, permanent=code >= 500) from None
    except smtplib.SMTPResponseException as exc:
        raise MailDeliveryError(f"the mail server said {exc.smtp_code}: {exc.smtp_error!r}"[:300],
                                code=exc.smtp_code, permanent=exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailDeliveryError(f"could not reach the mail server: {exc}"[:300]) from None
    if refused:
        code = min(c for c, _ in refused.values())
        raise MailDeliveryError(f"recipient refused ({code})", code=code, permanent=code >= 500)
