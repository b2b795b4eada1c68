"""What the decision commands share: the router, reading a deadline, showing a decision with its
counts and buttons, and writing its result. Counts never name voters unless the poll was made public."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time

from bot.core.context import Ctx, JobCtx
from bot.core.dates import DateParseError, parse_when
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.moments import date_error
from bot.core.grammar.pieces import fold, squash
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Action, ChatRef, Platform, PollSpec, Reply
from storage import decisions as store
from storage.chats import chat_language
from storage.models import Member
from storage.models_decisions import Decision, DecisionOption

router = Router("decisions")

KIND_NAMES = {store.POLL: N_("Poll"), store.DATEPOLL: N_("Date poll"), store.PROPOSAL: N_("Proposal")}
CHOICE_NAMES = {store.FOR: N_("for"), store.AGAINST: N_("against"), store.ABSTAIN: N_("abstain")}
ANSWER_NAMES = {store.YES: N_("yes"), store.MAYBE: N_("if needed"), store.NO: N_("no")}
OUTCOME_NAMES = {store.ADOPTED: N_("adopted"), store.REJECTED: N_("rejected"),
                 store.NO_QUORUM: N_("quorum not reached"), store.TIE: N_("tie"), store.NO_VOTES: N_("no votes")}

DEADLINE_RE = re.compile(r"(?:(?<=\s)|^)(?:jusqu'?\s*(?:à|a|au|aux)|until|till|avant|before|deadline)\s+(?P<when>.+)$",
                         re.IGNORECASE)


def take_deadline(ctx: Ctx, text: str, example: str) -> tuple[datetime | None, str]:
    """'… jusqu'à vendredi 18h' -> (that moment in UTC, the text before it). A day without a time lasts
    until the end of that day (midnight in the place's time zone, counted in UTC)."""
    match = DEADLINE_RE.search(text)
    if match is None:
        return None, text
    try:
        when = parse_when(match["when"], ctx.now, ctx.tz)
    except DateParseError as error:
        raise date_error(ctx, error, example) from None
    if when.start is not None:
        deadline = when.start
    else:  # the whole day: until 23:59 there
        deadline = datetime.combine(when.day, time(23, 59), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)
    if deadline <= ctx.now:
        raise UserError(ctx._("The deadline has already passed."), example=example)
    return deadline, squash(text[: match.start()])


def take_flag(text: str, words: Sequence[str]) -> tuple[bool, str]:
    pattern = re.compile(r"(?:(?<=\s)|^)(?:" + "|".join(re.escape(w) for w in words) + r")(?=\s|$)", re.IGNORECASE)
    found = pattern.search(text)
    if found is None:
        return False, text
    return True, squash(text[: found.start()] + " " + text[found.end():])


def load(ctx: Ctx, number: int, *, lock: bool = False) -> tuple[Decision, list[DecisionOption]]:
    try:
        return store.get_decision(ctx.session, number, lock=lock)
    except store.DecisionNotFound:
        raise UserError(ctx._("There is no poll or proposal number {id}. /polls lists the open ones.").format(
            id=number)) from None


def may_close(ctx: Ctx, decision: Decision) -> None:
    if decision.author_id != ctx.member_id and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Only its author or a coordinator can close n° {id}.").format(id=decision.id))


def option_label(t: Translator, decision: Decision, option: DecisionOption) -> str:
    if decision.kind == store.PROPOSAL:
        return t.gettext(CHOICE_NAMES.get(option.label, option.label))
    if decision.kind == store.DATEPOLL and option.starts_at is not None and option.ends_at is not None:
        return t.fmt_range(option.starts_at, option.ends_at)
    return option.label


def heading(t: Translator, decision: Decision) -> str:
    return f"{t.gettext(KIND_NAMES[decision.kind])} n° {decision.id} — {decision.question}"


def vote_command(decision: Decision, choice: str) -> str:
    return f"/vote {decision.id} {choice}"


def card(ctx: Ctx, decision: Decision, options: Sequence[DecisionOption], *, status: str = "",
         native: bool = False, tally: store.Tally | None = None) -> Reply:
    """The decision with live counts (numbers only) and one button per choice, in the chat's language
    (a group's own language, whoever asked); ``tally``: its votes already counted (a list of cards)."""
    t = ctx.chat_translator()
    assert decision.id is not None
    if tally is None:
        tally = store.tally_of(ctx.session, decision.id)
    lines = [status] if status else []
    for option in options:
        assert option.id is not None
        label = option_label(t, decision, option)
        if decision.kind == store.DATEPOLL:
            lines.append(t.gettext("{n}. {date}: {yes} yes, {maybe} if needed").format(
                n=option.position, date=label, yes=tally.yes(option.id), maybe=tally.maybe(option.id)))
        else:
            lines.append(f"{option.position}. {label}: {tally.yes(option.id)}")
    lines.append(t.ngettext("{n} member has answered.", "{n} members have answered.", tally.voters).format(
        n=tally.voters))
    if decision.deadline is not None:
        lines.append(t.gettext("Open until {when}.").format(when=t.fmt_datetime(decision.deadline)))
    if decision.role:
        lines.append(t.gettext("Only members with the role “{role}” vote.").format(role=decision.role))
    if decision.quorum_percent is not None:
        lines.append(t.gettext("Quorum: {n} %.").format(n=decision.quorum_percent))
    if decision.multiple:
        lines.append(t.gettext("Several choices allowed."))
    if decision.public:
        lines.append(t.gettext("Public: the result will show who chose what."))
    lines.append(vote_hint(t, decision))
    poll = None
    if native and decision.kind != store.DATEPOLL:  # a date poll's three answers per date are buttons only
        poll = PollSpec(decision.id, heading(t, decision)[:300],
                        tuple(option_label(t, decision, o)[:100] for o in options), decision.multiple,
                        public=decision.public)
    return Reply("\n".join(lines), title=heading(t, decision), actions=buttons(t, decision, options), poll=poll)


def vote_hint(t: Translator, decision: Decision) -> str:
    if decision.kind == store.PROPOSAL:
        return t.gettext("Vote: /vote {id} for | against | abstain").format(id=decision.id)
    if decision.kind == store.DATEPOLL:
        return t.gettext("Answer: /vote {id} 1 yes 2 if-needed 3 no").format(id=decision.id)
    return t.gettext("Vote: /vote {id} <number>").format(id=decision.id)


def buttons(t: Translator, decision: Decision, options: Sequence[DecisionOption]) -> tuple[Action, ...]:
    if decision.status != store.OPEN:
        return ()
    if decision.kind == store.PROPOSAL:
        return tuple(Action(t.gettext(CHOICE_NAMES[o.label]).capitalize(), vote_command(decision, o.label))
                     for o in options)
    if decision.kind == store.DATEPOLL:
        actions = []
        for o in options:
            label = option_label(t, decision, o)
            actions += [Action(f"✓ {label}", vote_command(decision, f"{o.position} yes")),
                        Action(f"? {label}", vote_command(decision, f"{o.position} maybe")),
                        Action(f"✗ {label}", vote_command(decision, f"{o.position} no"))]
        return tuple(actions)
    return tuple(Action(f"{o.position}. {o.label}"[:60], vote_command(decision, str(o.position))) for o in options)


def result_text(ctx: Ctx | JobCtx, t: Translator, decision: Decision, options: Sequence[DecisionOption]) -> str:
    """The closed decision's result: counts and participation; names only for a public poll."""
    assert decision.id is not None
    tally = store.tally_of(ctx.session, decision.id)
    eligible, voters = decision.eligible or 0, decision.voters or 0
    lines = [outcome_line(t, decision, options)]
    for option in options:
        assert option.id is not None
        label = option_label(t, decision, option)
        if decision.kind == store.DATEPOLL:
            line = t.gettext("{date}: {yes} yes, {maybe} if needed").format(
                date=label, yes=tally.yes(option.id), maybe=tally.maybe(option.id))
        else:
            line = f"{label}: {tally.yes(option.id)}"
        if decision.public:
            names = public_names(ctx, option)
            if names:
                line += f" ({names})"
        lines.append("• " + line)
    lines.append(participation_line(t, voters, eligible))
    if decision.quorum_percent is not None:
        reached = store.quorum_reached(voters, eligible, decision.quorum_percent)
        lines.append((t.gettext("Quorum of {n} % reached.") if reached else
                      t.gettext("Quorum of {n} % not reached.")).format(n=decision.quorum_percent))
    return "\n".join(lines)


def participation_line(t: Translator, voters: int, eligible: int) -> str:
    rate = store.participation(voters, eligible)
    percent = round(rate * 100) if rate is not None else 0
    return t.ngettext("{voters} member took part, of {n} ({percent} %).",
                      "{voters} members took part, of {n} ({percent} %).", voters).format(
        voters=voters, n=eligible, percent=percent)


def outcome_line(t: Translator, decision: Decision, options: Sequence[DecisionOption]) -> str:
    result = decision.result or store.NO_VOTES
    if result.startswith("option:"):
        chosen = next((o for o in options if f"option:{o.id}" == result), None)
        shown = option_label(t, decision, chosen) if chosen else "?"
        return t.gettext("Result: {choice}.").format(choice=shown)
    return t.gettext("Result: {outcome}.").format(outcome=t.gettext(OUTCOME_NAMES.get(result, result)))


def public_names(ctx: Ctx | JobCtx, option: DecisionOption) -> str:
    ids = [v.member_id for v in store.votes_of(ctx.session, option.decision_id)
           if v.option_id == option.id and v.answer == store.YES]
    names = [m.display_name for i in ids if (m := ctx.session.get(Member, i)) is not None]
    return ", ".join(names)


def announce_result(ctx: Ctx | JobCtx, decision: Decision, options: Sequence[DecisionOption],
                    skip: ChatRef | None = None) -> None:
    """Tell the chats where it was posted (in the place's language; the author's for a private chat)."""
    assert decision.id is not None
    author = ctx.session.get(Member, decision.author_id)
    for post in store.posts_of(ctx.session, decision.id):
        chat = ChatRef(Platform(post.platform), post.chat_id, post.is_private)
        if skip is not None and (skip.platform, skip.chat_id) == (chat.platform, chat.chat_id):
            continue
        if post.is_private and author is not None:
            t = ctx.translator_for(author)
        else:
            t = ctx.translator_in(chat_language(ctx.session, post.platform, post.chat_id))
        ctx.notify_chat(chat, closed_reply(ctx, t, decision, options), dedup_key=f"decision-result:{decision.id}:"
                        f"{post.platform}:{post.chat_id}")


def closed_reply(ctx: Ctx | JobCtx, t: Translator, decision: Decision, options: Sequence[DecisionOption]) -> Reply:
    actions: tuple[Action, ...] = ()
    poll = None
    if decision.kind != store.DATEPOLL:  # where a native poll shows it, that poll is ended too
        poll = PollSpec(decision.id or 0, heading(t, decision)[:300],
                        tuple(option_label(t, decision, o)[:100] for o in options), decision.multiple, closed=True,
                        public=decision.public)
    if decision.kind == store.DATEPOLL and (decision.result or "").startswith("option:") and decision.event_id is None:
        actions = (Action(t.gettext("Create the event"), f"/datepoll event {decision.id}"),)
    return Reply(result_text(ctx, t, decision, options), title=t.gettext("Closed: {heading}").format(
        heading=heading(t, decision)), actions=actions, poll=poll)


def fold_words(text: str) -> list[str]:
    return [fold(w) for w in re.split(r"[\s,;]+", text) if w]
