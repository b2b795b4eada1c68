"""/decisions [year] [markdown]: the log of closed polls and proposals (date, result, participation),
and its Markdown export for the general assembly's minutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.args import FlagArg, NumberArg
from bot.core.i18n import N_, Translator
from bot.core.types import Reply
from handlers.decisions.common import KIND_NAMES, outcome_line, participation_line, router
from storage import decisions as store
from storage.models_decisions import Decision, DecisionOption

SHOWN = 30  # decisions shown in the chat


def year_bounds(ctx: Ctx, year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(datetime(year, 1, 1).date(), time(0), tzinfo=ctx.tz)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), tzinfo=ctx.tz)
    return start, end


def _line(ctx: Ctx, decision: Decision, options: Sequence[DecisionOption]) -> tuple[str, str, str]:
    t = ctx.translator
    assert decision.closed_at is not None and decision.id is not None
    day = t.fmt_day(decision.closed_at.astimezone(ctx.tz).date())
    what = f"{t.gettext(KIND_NAMES[decision.kind])} n° {decision.id} — {decision.question}"
    result = outcome_line(t, decision, options)
    if decision.quorum_percent is not None:
        result += " " + t.gettext("(quorum {n} %)").format(n=decision.quorum_percent)
    return day, what, result + " " + participation_line(t, decision.voters or 0, decision.eligible or 0)


@router.typed("decisions", aliases=["registre", "decisions-log"], help=N_("The log of decisions taken (a year)"),
              args=(NumberArg("year", optional=True, label=N_("[year]"), sample="2026"),
                    FlagArg("markdown", ("export", "md"), label=N_("[markdown]"))),
              examples=(N_("/decisions"), N_("/decisions 2026 markdown")))
def decisions_log(ctx: Ctx, year: int | None, markdown: bool) -> Reply:
    year = year or ctx.now.astimezone(ctx.tz).year
    if not 2000 <= year <= 2100:
        raise UserError(ctx._("Which year? For example /decisions 2026."))
    # In the chat, the last 30 only (one more read says there are more): the Markdown has them all.
    closed = store.closed_between(ctx.session, *year_bounds(ctx, year), last=None if markdown else SHOWN + 1)
    title = ctx._("Decisions {year}").format(year=year)
    if not closed:
        return Reply(ctx._("No decision was closed in {year}.").format(year=year), title=title)
    more = not markdown and len(closed) > SHOWN
    closed = closed if markdown else closed[-SHOWN:]
    options = store.options_of_many(ctx.session, [d.id for d in closed if d.id is not None])
    rows = [_line(ctx, d, options[d.id or 0]) for d in closed]
    if markdown:
        header = ctx._("| Date | Question | Result |")
        body = [f"| {day} | {what.replace('|', '/')} | {result} |" for day, what, result in rows]
        return Reply("\n".join([f"# {title}", "", header, "|---|---|---|", *body]))
    lines = [f"• {day} — {what}\n  {result}" for day, what, result in rows]
    if more:
        lines.insert(0, ctx._("The last 30; the whole year with /decisions {year} markdown.").format(year=year))
    return Reply("\n".join(lines), title=title)


def decisions_line(figures: store.DecisionFigures, t: Translator) -> str:
    """The activity report's line: how many decisions were closed, and how many of those who could vote did."""
    percent = round(figures.participation * 100) if figures.participation is not None else 0
    return t.ngettext("{n} decision taken together (/decisions), participation {percent} %.",
                      "{n} decisions taken together (/decisions), participation {percent} %.",
                      figures.decisions).format(n=figures.decisions, percent=percent)
