"""``klerk demo``: the whole "getting paid" story on this machine, printed as a chat transcript.

Everything runs for real on loopback, with a temporary SQLite data dir: the bot (``BotThread``)
long-polls a local Telegram Bot API double and is driven like a person would (``TerminalChat``);
invoices leave through an aiosmtpd sink on 127.0.0.1; Mollie is ``klerk.mollie_double``; its
webhook is POSTed to Klerk's real Starlette app (``klerk.web``) served by uvicorn, and the
``PaymentWorker`` fetches the payment back and books it; the bot then delivers "Betaald!".

Story: onboarding (name, address, KvK, VAT id, IBAN), Mollie connected, the € 0,01 IBAN check
paid, an invoice sent by e-mail (it gets a Mollie payment link), the customer pays the link, and
the owner reads the "Betaald!" message and thanks the customer with one tap.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

from pydantic import SecretStr
from sqlmodel import select

from core import storage
from core.contacts import create_contact
from core.document import DocumentKind
from core.documents import create_draft
from core.models import Company, Document
from core.payments.models import PaymentRequest
from core.payments.worker import JobResult
from core.settings import Settings
from klerk.mollie_double import LoopbackServer, MollieDouble, free_port
from klerk.payments_wiring import PaymentsFacade

DEMO_KEY = "test_DemoKlerkMollieKey0000000000aa"
IBAN = "NL91ABNA0417164300"
CUSTOMER_IBAN = "NL20INGB0001234567"
USER_ID = 424242


class _Sink:
    """The customer's mailbox: an aiosmtpd handler that keeps what arrives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class _LateApp:
    """An ASGI app whose target is set once the server's URL (the public URL) is known."""

    app = None

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        await self.app(scope, receive, send)


def _wait(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"demo: timed out waiting for {what}")


def run_demo(data_dir: Path, *, echo: Callable[[str], None] = print, language: str = "nl") -> list[str]:
    """Play the story in ``data_dir`` (an empty directory); returns (and echoes) the transcript."""
    from aiosmtpd.controller import Controller

    from core.payments.worker import PaymentServices  # noqa: F401 - the worker's services (via the facade)
    from klerk.botapi_double import BotApiDouble
    from klerk.chat import TerminalChat
    from klerk.runtime import BotThread, make_engine, make_services
    from klerk.web import PaymentWorker, build_web_app

    transcript: list[str] = []

    def out(line: str) -> None:
        transcript.append(line)
        echo(line)

    def clock() -> datetime:
        return datetime.now(UTC)

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    sink, smtp_port = _Sink(), free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    late = _LateApp()
    web = LoopbackServer(late)
    settings = Settings(data_dir=data_dir, secret_key=SecretStr("klerk-demo-secret"), public_url=web.url,
                        smtp_relay_host="127.0.0.1", smtp_relay_port=smtp_port, smtp_relay_starttls=False,
                        smtp_from="facturen@klerk.demo")
    engine = make_engine(settings)
    services = make_services(settings, engine)
    mollie = MollieDouble()
    bot_api = BotApiDouble()
    bot = worker = None
    stop: list[Callable[[], None]] = []
    try:
        smtp.start()
        stop.append(smtp.stop)
        mollie.start()
        stop.append(mollie.stop)
        mollie.add_account(DEMO_KEY)
        payments = PaymentsFacade.from_settings(settings, engine, clock=clock, relay=services.relay,
                                                api_endpoint=mollie.url, redirect_url=f"{web.url}/healthz")
        services.extra["payments"] = payments
        jobs: list[JobResult] = []
        worker = PaymentWorker(engine, payments.job_services, clock=clock, poll=0.2, after_job=jobs.append)
        late.app = build_web_app(engine, settings, clock=clock, on_webhook=worker.wake)
        web.start()
        stop.append(web.stop)
        worker.start()
        stop.append(worker.stop)
        base = bot_api.start()
        stop.append(bot_api.stop)
        bot = BotThread(services, token="demo:token", base_url=base)
        bot.start()
        stop.append(bot.stop)

        chat = TerminalChat(base, data_dir / "chat", {"id": USER_ID, "is_bot": False, "first_name": "Eva",
                                                       "language_code": language})

        def show(line: str) -> None:
            for part in line.splitlines():
                out(part)

        def say(line: str) -> None:
            out(f"🙂 {line}")
            chat.handle(line, echo=show)

        def tap(label: str) -> None:
            out(f"🙂 [{label}]")
            if not chat.tap(label):
                raise RuntimeError(f"demo: no button {label!r} in {chat.last_buttons}")
            chat.show(chat.replies(), echo=show)

        def company_id() -> int:
            with storage.session_scope(engine) as s:
                return s.exec(select(Company.id).where(Company.name == "Studio Vos")).one()

        out("== 1. Onboarding ==")
        say("/start")
        tap("Nederlands" if language == "nl" else "English")
        for answer in ("Studio Vos", None, "Keizersgracht 123", "1015 CJ", "Amsterdam", "12345678",
                       "NL000099998B57"):
            say(answer) if answer else tap("Overslaan" if language == "nl" else "Skip")
        tap("Nee" if language == "nl" else "No")
        say(IBAN)
        say(f"/mollie {DEMO_KEY}")
        tap("Nu controleren" if language == "nl" else "Check now")

        out("== 2. The € 0,01 IBAN check, paid at Mollie ==")
        cid = company_id()
        with storage.session_scope(engine) as s:
            check = s.exec(select(PaymentRequest.provider_ref).where(
                PaymentRequest.company_id == cid, PaymentRequest.purpose == "iban_check")).one()
        mollie.pay(check, consumer_account=IBAN, consumer_name="Studio Vos")
        out(f"(Mollie POSTs the webhook for {check}: HTTP {mollie.fire_webhook(check)})")
        chat.show(chat.replies(first_wait=20), echo=show)
        previous: list[str] = []
        for _ in range(6):                      # logo, colour, accountant, numbering, term: keep or skip
            labels = [label for label, _ in chat.last_buttons]
            if labels == previous:              # the summary has no buttons: set-up is done
                break
            previous = labels
            choice = next((lb for lb in labels if lb in ("Overslaan", "Skip", "Zo laten", "Keep")
                           or lb.endswith(("dagen laten",)) or lb.startswith("Keep ")), None)
            if choice is None:
                break
            tap(choice)

        out("== 3. An invoice, sent by e-mail ==")
        with storage.session_scope(engine) as s:
            contact = create_contact(s, cid, "Bakkerij de Vries B.V.", street="Dorpsstraat 1", postcode="3512 AB",
                                     city="Utrecht", kvk="87654321", vat_id="NL853746333B01",
                                     email="administratie@bakkerijdevries.nl", iban=CUSTOMER_IBAN)
            create_draft(s, cid, DocumentKind.INVOICE, contact.id, today=date.today(), lines=[
                {"description": "Advies", "quantity": "8", "unit": "uur", "unit_price": "75", "vat_rate": "21"}])
        say("/facturen")
        tap("📝")
        tap("Verzenden" if language == "nl" else "Send")
        number = _wait(lambda: sink.messages and sink.messages[-1]["Subject"], what="the invoice mail")
        out(f"(The customer's mailbox received: {number})")
        with storage.session_scope(engine) as s:
            invoice_number = s.exec(select(Document.number).where(Document.company_id == cid,
                                                                  Document.number.is_not(None))).first()

        out("== 4. The customer pays the Mollie payment link ==")

        def link() -> str:
            with storage.session_scope(engine) as s:
                return s.exec(select(Document.payment_link).where(Document.company_id == cid,
                                                                  Document.number == invoice_number)).one()
        url = _wait(link, what="the payment link")
        out(f"(Payment link made in the background: {url})")
        (link_id,) = [lk["id"] for lk in mollie.links()]
        payment = mollie.pay_link(link_id, consumer_account=CUSTOMER_IBAN, consumer_name="Bakkerij de Vries B.V.")
        out(f"(Mollie POSTs the webhook for {payment}: HTTP {mollie.fire_webhook(payment)})")
        chat.show(chat.replies(first_wait=30), echo=show)
        tap("bedankje" if language == "nl" else "thank-you")
        out(f"(The customer's mailbox received: {sink.messages[-1]['Subject']})")
        out("== The end ==")
        return transcript
    finally:
        for fn in reversed(stop):
            fn()
        engine.dispose()


def main(data_dir: Path | None = None) -> None:
    """``klerk demo [DATA_DIR]``: without a directory, a temporary one is used and removed."""
    import tempfile

    if data_dir is not None:
        run_demo(data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="klerk-demo-") as tmp:
        run_demo(Path(tmp))


__all__ = ["main", "run_demo"]
