"""/start (new owner, returning owner, invitation deep links), /help, /cancel, /taal, /bedrijf."""
from __future__ import annotations

from bot.router import ANYONE, Turn, button, command
from core.companies import get_company, require_role
from core.conversations import companies_of
from core.errors import ConflictError, NotFoundError
from core.invites import redeem_invite
from core.models import Person, Role


def _redeem(session, token: str, person_id: int, now):  # type: ignore[no-untyped-def]
    membership = redeem_invite(session, token, session.get(Person, person_id), now=now)
    return membership.company_id, Role(membership.role), get_company(session, membership.company_id).name


@command("start", roles=None)
async def start(turn: Turn, argument: str) -> None:
    if argument.startswith("inv_"):
        try:
            company_id, role, name = await turn.db(_redeem, argument, turn.person_id, turn.services.now())
        except (NotFoundError, ConflictError):
            await turn.say(turn.t("This invitation link is not valid: it was used already or has expired. "
                                  "Ask for a new one."))
            return
        turn.switch_company(company_id, role)
        turn.finish()
        await turn.say(turn.t("Welcome! You now work in {company} as {role}. /help shows what you can do.",
                              company=name, role=turn.t(role.value)))
        if role is Role.OWNER:                 # a company made by `klerk admin company-add`: set it up now
            from bot.flows.onboarding import ask
            from core.onboarding import DONE, current_progress

            progress, _ = await turn.db(current_progress, company_id, turn.person_id, today=turn.services.today())
            if progress.step != DONE:
                await ask(turn, progress)
        return
    from bot.flows.onboarding import begin_onboarding, resume_onboarding

    if turn.company_id is None:
        await begin_onboarding(turn)
    else:
        await resume_onboarding(turn)


@command("help", "hulp", roles=None, menu=("Wat kan Klerk?", "What can Klerk do?"))
async def help_(turn: Turn, argument: str = "") -> None:
    if turn.company_id is None:
        await turn.say(turn.t("Hello, I am Klerk. Start with /start to set up your company."))
        return
    if turn.role is Role.ACCOUNTANT:
        await turn.say(turn.t(
            "You are the accountant of this company.\n/facturen invoices · /bonnen receipts · "
            "/export 2026-Q3 an export · /bedrijf switch company"))
        return
    await turn.say(turn.t(
        "Type an invoice in one sentence, e.g. “factuur Acme 8 uur advies à 75, 14 dagen”, or use:\n"
        "/factuur new invoice · /offerte new quote · /facturen · /offertes\n"
        "/klanten contacts · /artikelen items · /instellingen settings\n"
        "/bonnen receipts · /team invite people · /bedrijf switch company · /cancel stop what we are doing\n"
        "Forward receipts to your Klerk address or send me a photo."))


@command("cancel", "stop", "annuleer", roles=None, menu=("Stop wat we aan het doen zijn", "Stop what we are doing"))
async def cancel(turn: Turn, argument: str = "") -> None:
    had_flow = bool(turn.flow)
    turn.finish()
    await turn.say(turn.t("Stopped. Nothing more will happen with that.") if had_flow
                   else turn.t("There was nothing to stop. /help shows what I can do."))


@command("taal", "language", roles=None)
async def language(turn: Turn, argument: str = "") -> None:
    await turn.say(turn.t("Which language?"), keyboard=turn.keyboard(
        [turn.button("Nederlands", "start.lang", "nl"), turn.button("English", "start.lang", "en")]))


@button("start.lang", roles=None)
async def set_language(turn: Turn, language: str) -> None:
    turn.language = "en" if language == "en" else "nl"
    await turn.say(turn.t("I will speak English from now on.") if turn.language == "en"
                   else turn.t("Ik praat vanaf nu Nederlands."))


@command("bedrijf", "company", menu=("Wissel van bedrijf", "Switch company"))
async def companies(turn: Turn, argument: str = "") -> None:
    rows = await turn.services.read(companies_of, turn.person_id)
    if len(rows) <= 1:
        await turn.say(turn.t("You work in one company: {name}.", name=rows[0][1] if rows else "—"))
        return
    await turn.say(turn.t("Which company?"), keyboard=turn.keyboard(*[
        turn.button(("✅ " if cid == turn.company_id else "") + name, "start.company", cid) for cid, name, _ in rows]))


def _switch(session, person_id: int, company_id: int):  # type: ignore[no-untyped-def]
    membership = require_role(session, company_id, person_id)
    company = get_company(session, company_id)
    return Role(membership.role), company.trade_name or company.name


@button("start.company", roles=ANYONE)
async def switch_company(turn: Turn, company_id: str) -> None:
    role, name = await turn.db(_switch, turn.person_id, int(company_id))
    turn.switch_company(int(company_id), role)
    turn.finish()
    await turn.say(turn.t("You now work in {name}.", name=name))
