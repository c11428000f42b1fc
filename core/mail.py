"""Outgoing e-mail: build a MIME message (pure) and hand it to the configured SMTP relay.

Sending is synchronous (smtplib); callers on an event loop run it in a thread. A refusal by the
relay raises ``MailDeliveryError`` with the SMTP code, so the caller can roll back (the number of
an invoice whose mail was refused is not used) and tell the user why.

Bounces: with ``Relay.bounce_domain`` set (``KLERK_BOUNCES_TO_INGEST``), a company's mail leaves with
the envelope sender ``bounce-<company id>-<signature>@<ingest domain>`` (VERP), so a delivery report
comes straight back to Klerk's own SMTP ingest, already addressed to the right company. The
signature (an HMAC with the installation's key) keeps anyone from making up bounce addresses of
other companies; the From header stays ``KLERK_SMTP_FROM``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING

from core.errors import CoreError

if TYPE_CHECKING:
    from core.settings import Settings


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
    sender: str = ""            # From address (and the envelope sender without bounce_domain)
    timeout: float = 30.0
    bounce_domain: str = ""     # envelope senders bounce-<company>-<signature>@ this domain
    bounce_key: bytes = field(default=b"", repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)

    def envelope_sender(self, company_id: int | None) -> str:
        """MAIL FROM for a company's mail: its bounce address, or ``sender``."""
        if company_id is None or not (self.bounce_domain and self.bounce_key):
            return self.sender
        return bounce_address(company_id, self.bounce_key, self.bounce_domain)


_BOUNCE = re.compile(r"^bounce-(\d{1,12})-([0-9a-f]{20})@(.+)$")


def _bounce_signature(company_id: int, key: bytes) -> str:
    return hmac.new(key, f"klerk|bounce|{company_id}".encode(), hashlib.sha256).hexdigest()[:20]


def bounce_address(company_id: int, key: bytes, domain: str) -> str:
    """The envelope sender of a company's outgoing mail, where delivery reports come back."""
    return f"bounce-{company_id}-{_bounce_signature(company_id, key)}@{domain}"


def company_of_bounce_address(address: str, key: bytes, domain: str) -> int | None:
    """The company a bounce address belongs to; ``None`` when it is not one of ours or is forged."""
    found = _BOUNCE.match(address.strip().strip("<>").lower())
    if not key or found is None or found[3] != domain.lower():
        return None
    company_id = int(found[1])
    return company_id if hmac.compare_digest(found[2], _bounce_signature(company_id, key)) else None


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


def relay_from_settings(settings: Settings) -> Relay:
    """The relay ``KLERK_SMTP_RELAY_*`` and ``KLERK_SMTP_FROM`` describe; with
    ``KLERK_BOUNCES_TO_INGEST`` companies' mails carry their bounce address on the ingest domain."""
    bounce_domain = settings.ingest_domain if settings.bounces_to_ingest else ""
    return Relay(host=settings.smtp_relay_host, port=settings.smtp_relay_port, user=settings.smtp_relay_user,
                 password=settings.smtp_relay_password.get_secret_value(), starttls=settings.smtp_relay_starttls,
                 sender=settings.smtp_from, bounce_domain=bounce_domain,
                 bounce_key=bounce_key(settings) if bounce_domain else b"")


def bounce_key(settings: Settings) -> bytes:
    """The key that signs bounce addresses (the SMTP ingest checks them with it)."""
    from core.secrets import derived_key

    return derived_key(settings.secret_key.get_secret_value(), settings.data_dir, "bounces")


def send_message(relay: Relay, msg: EmailMessage, *, company_id: int | None = None) -> None:
    """Deliver through the relay, a company's mail with its bounce address as envelope sender (when
    set up); raises ``MailDeliveryError`` on refusal or connection trouble."""
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
            refused = smtp.send_message(msg, from_addr=relay.envelope_sender(company_id), to_addrs=recipients)
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
