"""Payment reminders: the schedule (pure), the scheduler entry point, and the owner's one-tap decisions.

Stages: 1 a friendly reminder, 2 a second one, 3 the last one — for a consumer the statutory
14-day letter with the exact collection costs, for a business the demand that names statutory
commercial interest and the EUR 40 compensation.

Guarantees, each carried by the data rather than by timing:
  * one ``Reminder`` row per invoice and stage (unique constraint): a stage is created once and
    so sent at most once, however often or however many processes run the scheduler;
  * the schedule is evaluated from the state, not from "what happened yesterday": after downtime
    the scheduler creates the one next stage that is due — never one per missed day — and the
    following stage waits ``min_gap_days`` after it;
  * a payment that settles the invoice cancels what is pending (``cancel_pending_reminders``,
    called by the booking, and again by every scheduler run for payments booked elsewhere);
  * "wait N days" (``postpone_reminder``) keeps the reminder pending and queues the question again
    as a ``reminder_due`` notification due N days later; a decision or a cancellation in between
    withdraws that unsent question, so a paid invoice is not asked about again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from core.companies import get_company
from core.company_settings import reminder_days
from core.contacts import get_contact
from core.document import DocumentKind
from core.documents import get_document
from core.errors import ConflictError, NotFoundError, ValidationError
from core.invoices import outstanding
from core.jobs import enqueue
from core.models import Company, Contact, Document, DocumentStatus, Notification
from core.money import ZERO
from core.outbox import notify
from core.payments import collection
from core.payments.figures import warn_kor_threshold
from core.payments.models import ContactReminderMode, Reminder

log = logging.getLogger(__name__)
S = DocumentStatus
STAGE_NAMES = {1: "first", 2: "second", 3: "final"}
ACTIVE = ("pending", "approved")          # not yet sent, still cancellable
OPEN = (S.SENT.value, S.PARTIALLY_PAID.value)
MAIL_JOB = "reminder_mail"
QUESTION = "reminder_due"                 # the outbox kind that asks the owner to decide
LOCAL = ZoneInfo("Europe/Amsterdam")


# ---- the schedule (pure) --------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    first_days: int = 3
    second_days: int = 14
    final_days: int = 28
    min_gap_days: int = 7

    def offset(self, stage: int) -> int:
        return (self.first_days, self.second_days, self.final_days)[stage - 1]


@dataclass(frozen=True)
class StageRecord:
    stage: int
    status: str
    on: date          # when it was sent, else when it was created (skipped / cancelled / failed)


def next_stage(*, due_date: date, today: date, schedule: Schedule, history: list[StageRecord]) -> int | None:
    """The stage to create today, or None. One stage at a time: nothing while one is undecided."""
    if any(r.status in ACTIVE or r.status == "sending" for r in history):
        return None
    stage = max((r.stage for r in history), default=0) + 1
    if stage > 3 or today < due_date + timedelta(days=schedule.offset(stage)):
        return None
    previous = [r for r in history if r.stage == stage - 1]
    if previous and today < previous[0].on + timedelta(days=schedule.min_gap_days):
        return None
    return stage


@dataclass(frozen=True)
class ReminderFacts:
    stage: int
    stage_name: str
    is_business: bool
    outstanding: Decimal
    days_overdue: int
    collection_costs: Decimal = ZERO        # B2C final: the WIK amount the letter announces
    interest: Decimal = ZERO                # B2B final: statutory commercial interest so far
    interest_rate: Decimal = ZERO           # B2B final: the rate in force today, and since when
    interest_rate_since: date | None = None
    compensation: Decimal = ZERO            # B2B final: the EUR 40 minimum
    deadline: date | None = None            # B2C final: last day to pay without costs

    def as_payload(self) -> dict:
        return {"stage": self.stage, "stage_name": self.stage_name, "is_business": self.is_business,
                "outstanding": str(self.outstanding), "days_overdue": self.days_overdue,
                "collection_costs": str(self.collection_costs), "interest": str(self.interest),
                "compensation": str(self.compensation),
                "deadline": self.deadline.isoformat() if self.deadline else "",
                "interest_rate": str(self.interest_rate),
                "interest_rate_since": self.interest_rate_since.isoformat() if self.interest_rate_since else "",
                "interest_rates_confirmed": collection.RATES_CONFIRMED}


def reminder_facts(*, stage: int, is_business: bool, open_amount: Decimal, due_date: date, today: date,
                   creditor_deducts_vat: bool = True, channel: str = "email") -> ReminderFacts:
    facts = ReminderFacts(stage, STAGE_NAMES[stage], is_business, open_amount, (today - due_date).days)
    if stage < 3:
        return facts
    if is_business:
        interest = collection.commercial_interest(open_amount, due_date=due_date, until=today)
        since, rate = collection.rate_row_on(today) or (None, ZERO)
        return replace(facts, compensation=collection.B2B_MINIMUM_COMPENSATION, interest=interest,
                       interest_rate=rate, interest_rate_since=since)
    costs = collection.collection_costs_with_vat(open_amount, creditor_deducts_vat=creditor_deducts_vat)
    deadline = collection.letter_deadline(collection.receipt_date(today, channel=channel))
    return replace(facts, collection_costs=costs, deadline=deadline)


# ---- settings -------------------------------------------------------------------------------

MIN_GAP_DAYS = 7          # at least a week between two stages of one invoice (also after downtime)
QUOTE_NUDGE_DAYS = 3      # nudge the owner this many days before a quote expires


def reminder_schedule(session: Session, company_id: int) -> Schedule:
    """The company's schedule: ``reminder_days`` from the company settings ("3,14,28" by default)."""
    first, second, final = reminder_days(session, company_id)
    return Schedule(first, second, final, MIN_GAP_DAYS)


def set_reminder_mode(session: Session, company_id: int, contact_id: int, *, now: datetime,
                      automatic: bool | None = None, paused: bool | None = None) -> ContactReminderMode:
    """Per contact: ``automatic`` sends without asking; ``paused`` sends nothing at all."""
    get_contact(session, company_id, contact_id)
    mode = session.exec(select(ContactReminderMode).where(ContactReminderMode.contact_id == contact_id)).first()
    mode = mode or ContactReminderMode(company_id=company_id, contact_id=contact_id)
    if automatic is not None:
        mode.automatic = automatic
    if paused is not None:
        mode.paused = paused
    mode.updated_at = now
    session.add(mode)
    session.flush()
    return mode


# ---- the scheduler --------------------------------------------------------------------------

@dataclass
class SchedulerRun:
    created: list[Reminder] = field(default_factory=list)
    cancelled: int = 0
    quote_nudges: int = 0
    kor_warnings: list[int] = field(default_factory=list)       # companies near or over the KOR limit
    uncertain: int = 0                                            # reminders stuck in "sending", told to the owner


def run_due_reminders(session: Session, *, today: date, now: datetime,
                      company_id: int | None = None) -> SchedulerRun:
    """Create the reminders that are due today (once each), ask the owner or queue the mail, cancel
    reminders of invoices paid meanwhile, nudge about quotes about to expire, and warn KOR companies
    nearing the turnover limit. Safe to run as often as you like, from any number of processes."""
    run = SchedulerRun()
    run.cancelled = _cancel_settled(session, company_id, now)
    run.uncertain = flag_uncertain(session, now=now, company_id=company_id)
    stmt = select(Document, Contact).join(Contact, Contact.id == Document.contact_id).where(
        Document.kind == DocumentKind.INVOICE.value, Document.status.in_(OPEN), Document.due_date < today)
    if company_id is not None:
        stmt = stmt.where(Document.company_id == company_id)
    rows = list(session.exec(stmt.order_by(Document.company_id, Document.id)))
    history = _history([doc.id for doc, _ in rows], session)
    modes = _modes(session, [contact.id for _, contact in rows])
    schedules: dict[int, Schedule] = {}
    for doc, contact in rows:
        mode = modes.get(contact.id)
        if mode is not None and mode.paused:
            continue
        if doc.company_id not in schedules:
            schedules[doc.company_id] = reminder_schedule(session, doc.company_id)
        schedule = schedules[doc.company_id]
        stage = next_stage(due_date=doc.due_date, today=today, schedule=schedule, history=history.get(doc.id, []))
        if stage is not None:
            reminder = _create(session, doc, contact, stage, automatic=bool(mode and mode.automatic),
                               today=today, now=now)
            if reminder is not None:
                run.created.append(reminder)
    run.quote_nudges = _nudge_quotes(session, company_id, today)
    kor = select(Company.id).where(Company.kor.is_(True))
    for cid in session.exec(kor if company_id is None else kor.where(Company.id == company_id)):
        if warn_kor_threshold(session, cid, today=today).level != "ok":
            run.kor_warnings.append(cid)
    return run


def _history(doc_ids: list[int], session: Session) -> dict[int, list[StageRecord]]:
    out: dict[int, list[StageRecord]] = {}
    if not doc_ids:
        return out
    for r in session.exec(select(Reminder).where(Reminder.document_id.in_(doc_ids))):
        stamp = r.sent_at or r.decided_at or r.created_at
        out.setdefault(r.document_id, []).append(StageRecord(r.stage, r.status, max(stamp.date(), r.due_on)))
    return out


def _modes(session: Session, contact_ids: list[int]) -> dict[int, ContactReminderMode]:
    if not contact_ids:
        return {}
    return {m.contact_id: m for m in session.exec(select(ContactReminderMode).where(
        ContactReminderMode.contact_id.in_(set(contact_ids))))}


def _create(session: Session, doc: Document, contact: Contact, stage: int, *, automatic: bool,
            today: date, now: datetime) -> Reminder | None:
    facts = _facts(session, doc, contact, stage, today)
    reminder = Reminder(company_id=doc.company_id, document_id=doc.id, stage=stage, automatic=automatic,
                        status="approved" if automatic else "pending", due_on=today,
                        outstanding=facts.outstanding, collection_costs=facts.collection_costs,
                        interest=facts.interest, deadline=facts.deadline, created_at=now,
                        decided_at=now if automatic else None)
    try:
        with session.begin_nested():
            session.add(reminder)
    except sa.exc.IntegrityError:            # another scheduler created this stage first
        log.info("reminder stage %s of invoice %s already exists", stage, doc.id)
        return None
    if automatic:
        enqueue(session, MAIL_JOB, {"reminder_id": reminder.id}, company_id=doc.company_id,
                dedupe_key=f"{MAIL_JOB}:{reminder.id}", run_after=now)
    else:
        notify(session, doc.company_id, QUESTION, _payload(doc, contact, reminder, facts),
               dedupe_key=f"{QUESTION}:{reminder.id}", now=now)
    return reminder


def _facts(session: Session, doc: Document, contact: Contact, stage: int, today: date) -> ReminderFacts:
    company = get_company(session, doc.company_id)
    is_business = bool((doc.buyer_snapshot or {}).get("is_business", contact.is_business))
    return reminder_facts(stage=stage, is_business=is_business, open_amount=outstanding(doc),
                          due_date=doc.due_date, today=today, creditor_deducts_vat=not company.kor)


def _payload(doc: Document, contact: Contact, reminder: Reminder, facts: ReminderFacts) -> dict:
    return {"reminder_id": reminder.id, "invoice_id": doc.id, "number": doc.number or "",
            "contact_id": contact.id, "contact_name": contact.name, "has_email": bool(contact.email),
            "due_date": doc.due_date.isoformat() if doc.due_date else "", "total": str(doc.total_incl),
            "currency": doc.currency, "language": doc.language, "automatic": reminder.automatic,
            **facts.as_payload()}


UNCERTAIN_AFTER = timedelta(hours=1)


def flag_uncertain(session: Session, *, now: datetime, company_id: int | None = None) -> int:
    """Reminders left ``sending`` (the service stopped between handing the mail to the relay and
    recording it): we cannot know whether the customer got it, and at most once means we do not send
    it again by ourselves. After an hour such a reminder becomes ``failed`` with that reason, and the
    owner is told, so she can check with the customer and send it again herself."""
    stmt = select(Reminder).where(Reminder.status == "sending", Reminder.sending_at < now - UNCERTAIN_AFTER)
    if company_id is not None:
        stmt = stmt.where(Reminder.company_id == company_id)
    stuck = list(session.exec(stmt))
    for reminder in stuck:
        doc = session.get(Document, reminder.document_id)
        contact = session.get(Contact, doc.contact_id) if doc is not None else None
        reminder.status, reminder.decided_at = "failed", now
        reminder.error = "uncertain: the service stopped while sending; not sent again automatically"
        session.add(reminder)
        notify(session, reminder.company_id, "reminder_failed", {
            "reminder_id": reminder.id, "invoice_id": reminder.document_id, "number": (doc.number if doc else "") or "",
            "contact_id": contact.id if contact else None, "contact_name": contact.name if contact else "",
            "stage": reminder.stage, "error": reminder.error, "uncertain": True,
        }, dedupe_key=f"reminder_failed:{reminder.id}", now=now)
    session.flush()
    return len(stuck)


def _cancel_settled(session: Session, company_id: int | None, now: datetime) -> int:
    stmt = select(Reminder).join(Document, Document.id == Reminder.document_id).where(
        Reminder.status.in_(ACTIVE), Document.status.not_in(OPEN))
    if company_id is not None:
        stmt = stmt.where(Reminder.company_id == company_id)
    stale = list(session.exec(stmt))
    for r in stale:
        r.status, r.decided_at = "cancelled", now
        session.add(r)
        _withdraw_questions(session, r)
    session.flush()
    return len(stale)


def cancel_pending_reminders(session: Session, company_id: int, document_id: int, *, now: datetime) -> int:
    """A payment settled the invoice: whatever was not sent yet will not be."""
    pending = list(session.exec(select(Reminder).where(
        Reminder.company_id == company_id, Reminder.document_id == document_id, Reminder.status.in_(ACTIVE))))
    for r in pending:
        r.status, r.decided_at = "cancelled", now
        session.add(r)
        _withdraw_questions(session, r)
    session.flush()
    return len(pending)


def _nudge_quotes(session: Session, company_id: int | None, today: date) -> int:
    stmt = select(Document, Contact).join(Contact, Contact.id == Document.contact_id).where(
        Document.kind == DocumentKind.QUOTE.value, Document.status == S.SENT.value,
        Document.valid_until >= today, Document.valid_until <= today + timedelta(days=QUOTE_NUDGE_DAYS))
    if company_id is not None:
        stmt = stmt.where(Document.company_id == company_id)
    count = 0
    for quote, contact in session.exec(stmt):
        days_left = (quote.valid_until - today).days
        note = notify(session, quote.company_id, "quote_expiring", {
            "quote_id": quote.id, "number": quote.number or "", "contact_id": contact.id,
            "contact_name": contact.name, "valid_until": quote.valid_until.isoformat(),
            "days_left": days_left, "total": str(quote.total_incl), "currency": quote.currency,
        }, dedupe_key=f"quote_expiring:{quote.id}")
        count += note is not None
    return count


# ---- the owner's decisions ------------------------------------------------------------------

def _reminder(session: Session, company_id: int, reminder_id: int) -> Reminder:
    stmt = select(Reminder).where(Reminder.id == reminder_id, Reminder.company_id == company_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    reminder = session.exec(stmt.execution_options(populate_existing=True)).first()
    if reminder is None:
        raise NotFoundError(f"reminder {reminder_id}")
    return reminder


def approve_reminder(session: Session, company_id: int, reminder_id: int, *, now: datetime) -> Reminder:
    """The owner's tap "send it": the mail goes out through the job queue."""
    reminder = _reminder(session, company_id, reminder_id)
    if reminder.status != "pending":
        raise ConflictError(f"reminder {reminder_id} is {reminder.status}")
    doc = get_document(session, company_id, reminder.document_id)
    if doc.status not in OPEN:
        reminder.status, reminder.decided_at = "cancelled", now
        session.add(reminder)
        raise ConflictError(f"invoice {doc.id} is {doc.status}: the reminder is cancelled")
    reminder.status, reminder.decided_at = "approved", now
    session.add(reminder)
    _withdraw_questions(session, reminder)
    enqueue(session, MAIL_JOB, {"reminder_id": reminder.id}, company_id=company_id,
            dedupe_key=f"{MAIL_JOB}:{reminder.id}", run_after=now)
    session.flush()
    return reminder


def skip_reminder(session: Session, company_id: int, reminder_id: int, *, now: datetime) -> Reminder:
    """The owner's tap "not this one": the stage is done without a mail; the next may follow."""
    reminder = _reminder(session, company_id, reminder_id)
    if reminder.status != "pending":
        raise ConflictError(f"reminder {reminder_id} is {reminder.status}")
    reminder.status, reminder.decided_at = "skipped", now
    session.add(reminder)
    _withdraw_questions(session, reminder)
    session.flush()
    return reminder


def postpone_reminder(session: Session, company_id: int, reminder_id: int, *, days: int = 3,
                      now: datetime) -> Notification:
    """The owner's tap "wait N days": nothing is sent or skipped; the reminder stays pending and the
    question comes back ``days`` days from ``now`` (a ``reminder_due`` notification due then, with
    the facts of that day). Returns that notification. The postponement is that row: the reminder
    table has no column for it. A payment, approval or skip in between withdraws the question."""
    if not 1 <= days <= 60:
        raise ValidationError("days", "Wait between 1 and 60 days")
    reminder = _reminder(session, company_id, reminder_id)
    if reminder.status != "pending":
        raise ConflictError(f"reminder {reminder_id} is {reminder.status}")
    doc = get_document(session, company_id, reminder.document_id)
    if doc.status not in OPEN:
        reminder.status, reminder.decided_at = "cancelled", now
        session.add(reminder)
        _withdraw_questions(session, reminder)
        raise ConflictError(f"invoice {doc.id} is {doc.status}: the reminder is cancelled")
    _withdraw_questions(session, reminder)            # a second "wait" replaces the first
    ask_at = now + timedelta(days=days)
    contact = get_contact(session, company_id, doc.contact_id)
    facts = _facts(session, doc, contact, reminder.stage, ask_at.astimezone(LOCAL).date())
    note = notify(session, company_id, QUESTION, _payload(doc, contact, reminder, facts) | {"postponed": True},
                  dedupe_key=f"{QUESTION}:{reminder.id}:{ask_at.isoformat()}", now=now)
    if note is None:                                 # cannot happen: the same key was withdrawn above
        raise ConflictError(f"reminder {reminder_id} is already postponed to {ask_at:%Y-%m-%d %H:%M}")
    note.next_attempt_at = ask_at
    session.add(note)
    session.flush()
    return note


def _withdraw_questions(session: Session, reminder: Reminder) -> int:
    """Drop the postponed questions about ``reminder`` not yet delivered. (The scheduler's first
    question stays as it always was: a tap on it after a decision is answered "no longer possible".)"""
    unsent = list(session.exec(select(Notification).where(
        Notification.company_id == reminder.company_id, Notification.kind == QUESTION,
        Notification.sent_at.is_(None),
        Notification.dedupe_key.startswith(f"{QUESTION}:{reminder.id}:", autoescape=True))))
    for note in unsent:
        session.delete(note)
    if unsent:
        session.flush()
    return len(unsent)


def pending_reminders(session: Session, company_id: int) -> list[Reminder]:
    return list(session.exec(select(Reminder).where(
        Reminder.company_id == company_id, Reminder.status == "pending").order_by(Reminder.id)))
