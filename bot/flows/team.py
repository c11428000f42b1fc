"""/team: who works in the company; the owner invites staff or the accountant with a single-use,
expiring deep link (``https://t.me/<bot>?start=<token>``, redeemed by /start) and removes people.

Staff and the accountant see the list; only the owner gets (and may use) the buttons — the router
refuses the owner-only buttons to others, and ``core.team`` checks the role again.
"""
from __future__ import annotations

from bot.flows.field_labels import N_
from bot.router import ANYONE, Turn, button, command
from bot.texts import day
from core.models import Role
from core.team import get_member, invite_member, remove_member, team_members

OWNER = (Role.OWNER,)
INVITE_TEXT = {
    Role.STAFF: N_("Send this link to your new colleague. Whoever opens it first joins {company} as staff "
                   "(they can make quotes and invoices, but not manage the team)."),
    Role.ACCOUNTANT: N_("Send this link to your accountant. Whoever opens it first joins {company} as accountant "
                        "(they can read everything, but not change anything)."),
}


@command("team", roles=ANYONE, menu=("Collega's en je boekhouder", "Colleagues and your accountant"))
async def team(turn: Turn, argument: str = "") -> None:
    await show_team(turn)


async def show_team(turn: Turn, intro: str = "") -> None:
    members = await turn.db(team_members, turn.company_id, turn.person_id)
    lines = [intro, ""] if intro else []
    lines.append(turn.t("Who works in this company:"))
    for member in members:
        you = " " + turn.t("(you)") if member.person_id == turn.person_id else ""
        lines.append(f"• {member.name or '—'}: {turn.t(member.role.value)}{you}")
    if turn.role is not Role.OWNER:
        lines.append("\n" + turn.t("Only the owner can invite or remove people."))
        await turn.say("\n".join(lines))
        return
    rows = [[turn.button(turn.t("Invite a colleague"), "team.inv", Role.STAFF.value),
             turn.button(turn.t("Invite the accountant"), "team.inv", Role.ACCOUNTANT.value)]]
    rows += [[turn.button(turn.t("Remove {name}", name=member.name or "—"), "team.rm", member.membership_id)]
             for member in members if member.person_id != turn.person_id]
    await turn.say("\n".join(lines), keyboard=turn.keyboard(*rows))


@button("team.inv", roles=OWNER)
async def invite(turn: Turn, role: str) -> None:
    invitation = await turn.db(invite_member, turn.company_id, turn.person_id, role, now=turn.services.now())
    link = f"https://t.me/{turn.bot.username}?start={invitation.token}"
    await turn.say(turn.t(INVITE_TEXT[invitation.role], company=invitation.company_name) + "\n\n" + link + "\n\n"
                   + turn.t("The link works once and expires on {date}.",
                            date=day(invitation.expires_at.date(), turn.language)))


@button("team.rm", roles=OWNER)
async def ask_remove(turn: Turn, membership_id: str) -> None:
    member = await turn.db(get_member, turn.company_id, turn.person_id, int(membership_id))
    await turn.say(turn.t("Remove {name} ({role}) from the company? They can no longer see or do anything in it.",
                          name=member.name or "—", role=turn.t(member.role.value)),
                   keyboard=turn.keyboard([turn.button(turn.t("Yes, remove"), "team.rmy", member.membership_id),
                                           turn.button(turn.t("No"), "team.list")]))


@button("team.rmy", roles=OWNER)
async def remove(turn: Turn, membership_id: str) -> None:
    member = await turn.db(remove_member, turn.company_id, turn.person_id, int(membership_id))
    await show_team(turn, intro=turn.t("✅ {name} is removed.", name=member.name or "—"))


@button("team.list", roles=ANYONE)
async def list_again(turn: Turn) -> None:
    await show_team(turn)
