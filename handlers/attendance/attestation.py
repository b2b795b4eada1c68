"""Volunteer attestations: /statement (/attestation) gives a volunteer their hours of a year by project and
month, with a link to the PDF (served by the bot's HTTP server for a day); `tierslieu attestations` writes
everyone's. /engagement (coordinators) sets the roles that count for the Compte d'engagement citoyen, lists
who reaches its thresholds, and the coordinators are reminded from mid-June and mid-December (the CEC's
30 June declaration and 31 December validation).

The PDF is made with fpdf2 (pure Python, maintained, already used for the dashboard's report), in the DejaVu
Sans font matplotlib ships (French accents, €)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from babel.dates import format_date
from sqlmodel import Session, col, select

from bot.core.context import Ctx, JobCtx
from bot.core.errors import UserError
from bot.core.grammar.args import KeywordArg, NumberArg
from bot.core.grammar.refs import MemberArg
from bot.core.i18n import N_, Translator
from bot.core.types import Reply
from handlers.attendance.common import router
from storage import attestations as store
from storage.members import coordinator_ids
from storage.models import Member
from storage.models_attendance import ROLE_BOARD, ROLE_LEADER
from storage.spaces import default_site

ATTESTATION_PATH = "/attestation/{token}"
REMINDER_FROM_DAY = 15  # of June and of December
ROLE_NAMES = {ROLE_BOARD: N_("board member"), ROLE_LEADER: N_("volunteer leading others")}


def hours_text(t: Translator, minutes: int) -> str:
    from babel.numbers import format_decimal  # loaded by the first attestation or CEC count only (~0.1 MiB)

    return format_decimal(round(minutes / 60, 2), format="#,##0.##", locale=t.locale)


def month_name(t: Translator, month: int) -> str:
    return format_date(date(2000, month, 1), "LLL", locale=t.locale).rstrip(".")


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def attestation_pdf(statement: store.YearStatement, t: Translator, association: str, today: date) -> bytes:
    """One page, A4 landscape: who, the year, a table of hours (projects × months, totals), the CEC note."""
    from fpdf import FPDF

    _ = t.gettext
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(_("Volunteer attestation {year}").format(year=statement.year))
    pdf.set_creator("tierslieu-bot")
    pdf.add_font("DejaVu", "", str(_fonts() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_fonts() / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(14, 14, 14)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(width, 9, _("Volunteer attestation {year}").format(year=statement.year), new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(width, 6, _("{association} certifies that {name} gave {hours} hours of volunteer work in "
                               "{year}, as follows (hours by project and month).").format(
        association=association, name=statement.name, hours=hours_text(t, statement.minutes), year=statement.year),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    first, cell = 52.0, (width - 52.0) / 13
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.cell(first, 7, _("Project"), border=1)
    for month in range(1, 13):
        pdf.cell(cell, 7, month_name(t, month), border=1, align="C")
    pdf.cell(cell, 7, _("Total"), border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    for project, months in sorted(statement.by_project.items(), key=lambda item: (item[0] == "", item[0])):
        pdf.cell(first, 7, f"#{project}" if project else _("(no project)"), border=1)
        for month in range(1, 13):
            pdf.cell(cell, 7, hours_text(t, months[month]) if months.get(month) else "", border=1, align="R")
        pdf.cell(cell, 7, hours_text(t, sum(months.values())), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.cell(first, 7, _("Total"), border=1)
    for month in range(1, 13):
        total = statement.month_total(month)
        pdf.cell(cell, 7, hours_text(t, total) if total else "", border=1, align="R")
    pdf.cell(cell, 7, hours_text(t, statement.minutes), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("DejaVu", "", 10)
    for line in cec_lines(statement, t):
        pdf.multi_cell(width, 6, line, new_x="LMARGIN", new_y="NEXT")
    if statement.signed is not None:
        signer, when = statement.signed
        pdf.multi_cell(width, 6, _("Validated in the chat by {name}, coordinator, on {day}.").format(
            name=signer, day=format_date(when.astimezone(t.tz).date(), "long", locale=t.locale)),
            new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(width, 6, _("Made on {day}, from the hours recorded with the association's bot. For the "
                               "association (name, role, signature):").format(
        day=format_date(today, "long", locale=t.locale)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def cec_lines(statement: store.YearStatement, t: Translator) -> list[str]:
    if statement.role is None:
        return []
    role = t.gettext(ROLE_NAMES.get(statement.role, statement.role))
    if statement.cec == "eligible":
        return [t.gettext("As {role}, these hours reach the thresholds of the Compte d'engagement citoyen (200 "
                          "hours in the year, at least 100 in the same association).").format(role=role)]
    if statement.cec == "partial":
        return [t.gettext("As {role}, these hours reach 100 hours in the association: the Compte d'engagement "
                          "citoyen also needs 200 hours in the year, other associations included.").format(role=role)]
    return []


def _year(ctx: Ctx, year: int | None) -> int:
    today = ctx.now.astimezone(ctx.tz).date()
    if year is None:
        return today.year
    if not 2000 <= year <= today.year:
        raise UserError(ctx._("Which year? e.g. /statement {year}").format(year=today.year))
    return year


@router.typed("statement", aliases=["attestation"], help=N_("Your volunteer hours of a year, and the PDF attestation"),
              args=(NumberArg("year", optional=True),), examples=(N_("/statement"), N_("/statement 2026")))
def statement(ctx: Ctx, year: int | None) -> Reply:
    wanted = _year(ctx, year)
    found = store.statements(ctx.session, wanted, ctx.member_id)
    if not found:
        return Reply(ctx._("No volunteer hours recorded for you in {year}.").format(year=wanted))
    mine = found[0]
    lines = [ctx._("{hours} h in {year}:").format(hours=hours_text(ctx.translator, mine.minutes), year=wanted)]
    for project, months in sorted(mine.by_project.items()):
        per_month = ", ".join(f"{month_name(ctx.translator, m)} {hours_text(ctx.translator, v)}"
                              for m, v in sorted(months.items()))
        name = "#" + project if project else ctx._("(no project)")
        lines.append("• " + ctx._("{project}: {months}").format(project=name, months=per_month))
    lines += cec_lines(mine, ctx.translator)
    if not ctx.incoming.chat.is_private:  # personal: privately
        ctx.notify_member(ctx.member_id, Reply("\n".join(lines), title=ctx._("Volunteer attestation {year}")
                                               .format(year=wanted)))
        return Reply(ctx._("I've sent it to you privately."))
    if ctx.settings.public_url:
        token = store.new_link(ctx.session, ctx.member_id, wanted, ctx.now)
        link = ctx.settings.public_url.rstrip("/") + ATTESTATION_PATH.format(token=token)
        lines.append(ctx._("The PDF, to print and have signed (the link works for a day): {link}").format(link=link))
    else:
        lines.append(ctx._("A coordinator can print the PDF (tierslieu attestations)."))
    return Reply("\n".join(lines), title=ctx._("Volunteer attestation {year}").format(year=wanted))


ROLE_WORDS = {ROLE_BOARD: ["bureau", "ca", "dirigeant", "dirigeante", "administrateur", "administratrice"],
              ROLE_LEADER: ["encadrant", "encadrante", "responsable"],
              "none": ["aucun", "aucune", "retirer"]}

engagement = router.group("engagement", aliases=["cec"], coordinator_only=True,
                          help=N_("Compte d'engagement citoyen: roles and who reaches the thresholds (coordinators)"))


@engagement.sub("list", aliases=["liste"], default=True, help=N_("Who has a role, their hours this year"),
                args=(NumberArg("year", optional=True),), examples=(N_("/engagement"),))
def engagement_list(ctx: Ctx, year: int | None) -> Reply:
    return Reply(cec_summary(ctx.session, _year(ctx, year), ctx.translator), title=ctx._("Compte d'engagement citoyen"))


def cec_summary(session: Session, year: int, t: Translator) -> str:
    with_role = store.roles(session)
    hours = {s.member_id: s for s in store.statements(session, year)}
    names = {m.id: m.display_name for m in session.exec(
        select(Member).where(col(Member.id).in_(list(with_role))))} if with_role else {}
    if not with_role:
        return t.gettext("Nobody has a role yet: /engagement board alice (or leader).")
    lines = []
    for member_id, role in sorted(with_role.items(), key=lambda item: -(hours[item[0]].minutes if item[0] in hours
                                                                          else 0)):
        minutes = hours[member_id].minutes if member_id in hours else 0
        flag = store.cec_flag(minutes, role)
        mark = {"eligible": t.gettext("reaches the CEC thresholds"),
                "partial": t.gettext("100 h here, 200 h in the year needed")}.get(flag or "", "")
        who = f"{names.get(member_id, '?')} ({t.gettext(ROLE_NAMES.get(role, role))})"
        lines.append("• " + t.gettext("{project}: {months}").format(project=who, months=f"{hours_text(t, minutes)} h")
                     + (f" — {mark}" if mark else ""))
    return "\n".join(lines)


@engagement.sub("set", aliases=["role", "rôle"], help=N_("Set a member's role (board, leader, or none)"),
                args=(KeywordArg("role", ROLE_WORDS, question=N_("Which role? board, leader or none")),
                      MemberArg("member", question=N_("Who?"))),
                examples=(N_("/engagement set board alice"), N_("/engagement set none alice")))
def engagement_set(ctx: Ctx, role: str, member: Member) -> Reply:
    assert member.id is not None
    store.set_role(ctx.session, member.id, None if role == "none" else role)
    if role == "none":
        return Reply(ctx._("{name} no longer has a role.").format(name=member.display_name))
    return Reply(ctx._("{name}: {role}.").format(name=member.display_name, role=ctx._(ROLE_NAMES[role])))


@engagement.sub("sign", aliases=["valider", "signer"],
                help=N_("Validate a volunteer's hours of a year (shown on their attestation)"),
                args=(NumberArg("year", optional=True), MemberArg("member", question=N_("Who?"))),
                examples=(N_("/engagement sign alice"), N_("/engagement sign 2026 alice")))
def engagement_sign(ctx: Ctx, year: int | None, member: Member) -> Reply:
    assert member.id is not None
    wanted = _year(ctx, year)
    found = store.statements(ctx.session, wanted, member.id)
    if not found:
        raise UserError(ctx._("{name} has no volunteer hours in {year}.").format(name=member.display_name,
                                                                               year=wanted))
    if not store.sign_off(ctx.session, member.id, wanted, ctx.member_id, ctx.now):
        return Reply(ctx._("{name}'s hours of {year} were already validated.").format(
            name=member.display_name, year=wanted))
    t = ctx.translator_for(member)
    ctx.notify_member(member.id, Reply(t.gettext("A coordinator validated your volunteer hours of {year} ({hours} "
                                                 "h): /statement {year} gives the attestation.").format(
        year=wanted, hours=hours_text(t, found[0].minutes))), dedup_key=f"attestation-signed-{member.id}-{wanted}")
    return Reply(ctx._("Validated: {name}, {hours} h in {year}.").format(
        name=member.display_name, hours=hours_text(ctx.translator, found[0].minutes), year=wanted))


@router.job("cec-reminders", every_seconds=3600)
def remind_coordinators(ctx: JobCtx) -> None:
    """From 15 June (declaration by 30 June) and 15 December (validation by 31 December), once each."""
    today = ctx.now.astimezone(ctx.tz).date()
    if today.month not in (6, 12) or today.day < REMINDER_FROM_DAY or not store.roles(ctx.session):
        return
    year = today.year if today.month == 12 else today.year - 1
    for coordinator in coordinator_ids(ctx.session, ctx.settings.coordinators):
        member = ctx.session.get(Member, coordinator)
        if member is None:
            continue
        t = ctx.translator_for(member)
        intro = (t.gettext("Compte d'engagement citoyen: volunteers declare their hours of {year} by 30 June.")
                 if today.month == 6 else
                 t.gettext("Compte d'engagement citoyen: the association validates the hours of {year} by "
                           "31 December."))
        ctx.notify_member(coordinator, Reply(intro.format(year=year) + "\n" + cec_summary(ctx.session, year, t),
                                             title=t.gettext("Compte d'engagement citoyen")),
                          dedup_key=f"cec-{today.year}-{today.month:02d}-{coordinator}")


def association_name(session: Session) -> str:
    site = default_site(session)
    return site.name if site else "L'association"


def render_for(session: Session, statement: store.YearStatement, t: Translator, now: datetime) -> bytes:
    return attestation_pdf(statement, t, association_name(session), now.astimezone(t.tz).date())
