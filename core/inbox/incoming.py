"""What an arrival turned out to hold: the value objects the ingest edge hands to the inbox services.

The edge parses MIME and runs the readers (``ingest.mail_parsing``, ``ingest.reading``); the
services here only record the outcome. Pure data.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.extraction import Extraction


@dataclass(frozen=True)
class PartReading:
    """One candidate document of an arrival, read — or refused with a reason."""

    filename: str
    mime: str
    content: bytes
    extraction: Extraction | None = None
    rejection: str = ""              # non-empty: refused, with the reason to state
    from_body: bool = False          # the mail's own HTML/text (a webshop confirmation)

    @property
    def rejected(self) -> bool:
        return bool(self.rejection)


@dataclass(frozen=True)
class MailFacts:
    """The headers of an incoming mail that the inbox needs (never its body)."""

    message_id: str = ""
    subject: str = ""
    sender: str = ""                 # the From address
    reply_to: str = ""               # where an automatic reply may go ("" = none)
    no_reply_reason: str = ""        # why not (auto-submitted, list, bounce, empty return path...)
    references: tuple[str, ...] = () # In-Reply-To + References (Message-IDs)


@dataclass(frozen=True)
class BouncedRecipient:
    address: str
    action: str = "failed"           # failed | delayed | ...
    status: str = ""                 # e.g. 5.1.1
    diagnostic: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    """A DSN (RFC 3464) or a recognisable non-standard bounce."""

    original_message_id: str
    recipients: tuple[BouncedRecipient, ...]
    reason: str = ""

    @property
    def failed(self) -> bool:
        return any(r.action.lower() == "failed" for r in self.recipients) or not self.recipients


@dataclass(frozen=True)
class AccountantReply:
    """A mail that answers (or forwards back) a document Klerk mailed to the accountant."""

    tokens: tuple[str, ...]          # KLERK-... reference tokens found in subject/headers/text
    references: tuple[str, ...]      # Message-IDs it replies to
    sender: str
    says_processed: bool             # "verwerkt" in the new text or the subject
    excerpt: str = ""                # the start of the new text, for the owner
