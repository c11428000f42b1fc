"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the sending tests.

``MailSink`` accepts everything; ``RefusingSink`` answers ``550 5.1.1`` for the addresses it is
given (the relay refusing a recipient). aiosmtpd 1.4.6 cannot bind port 0: a free port is picked
first.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from core.mail import Relay

SENDER = "facturen@klerk.test"


class MailSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def attachments(self, index: int = -1) -> dict[str, bytes]:
        return {part.get_filename(): part.get_content() for part in self.messages[index].iter_attachments()}


class RefusingSink(MailSink):
    def __init__(self, *refused: str) -> None:
        super().__init__()
        self.refused = {a.lower() for a in refused}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(handler: MailSink) -> Iterator[Relay]:
    """Run ``handler`` on a free loopback port; yields the ``Relay`` that sends to it."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Relay(host="127.0.0.1", port=port, starttls=False, sender=SENDER, timeout=10)
    finally:
        controller.stop()
