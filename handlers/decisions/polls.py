"""/poll (/sondage) asks a question with choices; /polls lists the open ones; /vote answers any kind;
/poll close ends one early (its author or a coordinator)."""

from __future__ import annotations

import re

from bot.core.context import Ctx
from bot.core.errors import UsageError, UserError
from bot.core.grammar.args import NumberArg, RawArg
from bot.core.grammar.pieces import GrammarError, fold, take_quoted
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.decisions.common import (
    ANSWER_NAMES,
    CHOICE_NAMES,
    announce_result,
    card,
    closed_reply,
    heading,
    load,
    may_close,
    option_label,
    router,
    take_deadline,
    take_flag,
)
from storage import decisions as store
from storage.models_decisions import Decision, DecisionOption

POLL_EXAMPLE = N_('/poll "Which day for the clean-up?" "Saturday" "Sunday" until friday 18:00')
SEVERAL = ("plusieurs", "several", "multiple", "multiples")
PUBLIC = ("public", "publique")


def read_quoted(ctx: Ctx, text: str) -> tuple[list[str], str]:
    found: list[str] = []
    while True:
        try:
            value, rest = take_quoted(text)
        except GrammarError:
            raise UserError(ctx._("A quote is not closed."), example=ctx._(POLL_EXAMPLE)) from None
        if value is None:
            return found, text
        if value.strip():
            found.append(value.strip())
        text = rest


def post_here(ctx: Ctx, decision: Decision) -> None:
    assert decision.id is not None
    chat = ctx.incoming.chat
    store.remember_post(ctx.session, decision.id, chat.platform.value, chat.chat_id, chat.is_private)


poll = router.group("poll", aliases=["sondage"], help=N_("Ask members a question with choices"))


@poll.sub("new", aliases=["nouveau"], default=True, help=N_("Ask a question with choices"),
          args=(RawArg("request", label=N_('"<question>" "<choice>" "<choice>" … [until <when>] [several] [public]')),),
          examples=(POLL_EXAMPLE, N_('/poll "Snacks for the AG?" "Crêpes" "Soup" "Cake" several')))
def new_poll(ctx: Ctx, request: str) -> Reply:
    example = ctx._(POLL_EXAMPLE)
    quoted, rest = read_quoted(ctx, request)
    multiple, rest = take_flag(rest, SEVERAL)
    public, rest = take_flag(rest, PUBLIC)
    deadline, rest = take_deadline(ctx, rest, example)
    if rest:
        raise UsageError(ctx._("I didn't understand “{words}”.").format(words=rest[:60]), example=example)
    if len(quoted) < 3:
        raise UsageError(ctx._("Give the question, then at least two choices, each in quotes."), example=example)
    question, choices = quoted[0], quoted[1:]
    if len(choices) > store.MAX_OPTIONS:
        raise UserError(ctx._("At most {n} choices, please.").format(n=store.MAX_OPTIONS), example=example)
    if len({fold(c) for c in choices}) < len(choices):
        raise UserError(ctx._("Two choices are the same."), example=example)
    decision, options = store.create_decision(
        ctx.session, kind=store.POLL, question=question, author_id=ctx.member_id,
        options=[store.NewOption(c) for c in choices], now=ctx.now, deadline=deadline, multiple=multiple,
        public=public)
    post_here(ctx, decision)
    return card(ctx, decision, options, status=ctx._("Poll created."), native=True)


@poll.sub("close", aliases=["fermer", "clore", "cloturer"],
          help=N_("Close a poll or proposal early (its author or a coordinator)"),
          args=(NumberArg("number", question=N_("Which one? Give its number (see /polls).")),),
          examples=(N_("/poll close 3"),))
def close_poll(ctx: Ctx, number: int) -> Reply:
    decision, options = load(ctx, number, lock=True)
    may_close(ctx, decision)
    if decision.status != store.OPEN:
        return Reply(ctx._("n° {id} is already closed.").format(id=number), edit_original=ctx.incoming.is_action)
    store.close_decision(ctx.session, decision, options, ctx.now)
    announce_result(ctx, decision, options, skip=ctx.incoming.chat)
    return closed_reply(ctx, ctx.chat_translator(), decision, options)


@router.typed("polls", aliases=["sondages", "votes"], help=N_("List the open polls and proposals"),
              examples=(N_("/polls"),))
def list_polls(ctx: Ctx) -> list[Reply]:
    mine = set(store.member_roles(ctx.session, ctx.member_id))  # one query, not one per poll kept to a role
    shown = [d for d in store.open_decisions(ctx.session) if d.role is None or d.role in mine or ctx.is_coordinator]
    if not shown:
        return [Reply(ctx._('Nothing to vote on right now. Ask a question with /poll "Question?" "Yes" "No".'))]
    options = store.options_of_many(ctx.session, [d.id for d in shown[:5] if d.id is not None])
    tallies = store.tallies_of(ctx.session, shown[:5])
    replies = [card(ctx, d, options[d.id or 0], tally=tallies[d.id or 0]) for d in shown[:5]]
    if len(shown) > 5:
        rest = ", ".join(f"n° {d.id}" for d in shown[5:20])
        replies.append(Reply(ctx.ngettext("{n} more is open: {list}. /vote <number> … answers it.",
                                           "{n} more are open: {list}. /vote <number> … answers them.",
                                           len(shown) - 5).format(n=len(shown) - 5, list=rest)))
    return replies


WITHDRAW = {"withdraw", "retirer", "retrait", "aucun", "none"}
ANSWER_WORDS = {
    store.YES: {"yes", "oui", "y", "o", "ok", "✓"},
    store.MAYBE: {"maybe", "if-needed", "ifneeded", "si-besoin", "sibesoin", "peut-etre", "?", "possible"},
    store.NO: {"no", "non", "n", "✗", "x"},
}
PROPOSAL_WORDS = {
    store.FOR: {"for", "pour", "yes", "oui", "1"},
    store.AGAINST: {"against", "contre", "no", "non", "2"},
    store.ABSTAIN: {"abstain", "abstention", "abstiens", "abstient", "blanc", "3"},
}


def words_of(text: str) -> list[str]:
    text = re.sub(r"\bsi\s+besoin\b|\bif\s+needed\b|\bpeut\s*-?\s*[eê]tre\b",
                  lambda m: "si-besoin", text, flags=re.IGNORECASE)
    return [fold(w) for w in re.split(r"[\s,;:]+", text) if w]


def read_choices(ctx: Ctx, decision: Decision, options: list[DecisionOption], text: str) -> dict[int, str]:
    """The member's answers as {option id: answer}; anything not understood is refused, never guessed."""
    by_position = {str(o.position): o for o in options}
    words = words_of(text)
    if not words:
        raise UsageError(ctx._("What do you choose?"), example=example_for(ctx, decision))
    if decision.kind == store.PROPOSAL:
        by_label = {o.label: o for o in options}
        if len(words) != 1:
            raise UserError(ctx._("One answer: for, against or abstain."), example=example_for(ctx, decision))
        for choice, synonyms in PROPOSAL_WORDS.items():
            if words[0] in synonyms or words[0] == fold(ctx._(CHOICE_NAMES[choice])):
                return {by_label[choice].id or 0: store.YES}
        raise UserError(ctx._("One answer: for, against or abstain."), example=example_for(ctx, decision))
    if decision.kind == store.DATEPOLL:
        answers: dict[int, str] = {}
        current: DecisionOption | None = None
        for word in words:
            if word in by_position:
                if current is not None:
                    answers[current.id or 0] = store.YES
                current = by_position[word]
                continue
            answer = next((a for a, synonyms in ANSWER_WORDS.items() if word in synonyms), None)
            if answer is None or current is None:
                raise UserError(ctx._("I didn't understand “{words}”.").format(words=word[:40]),
                                example=example_for(ctx, decision))
            answers[current.id or 0] = answer
            current = None
        if current is not None:
            answers[current.id or 0] = store.YES
        return answers
    by_label = {fold(o.label): o for o in options}
    whole = fold(text.strip().strip("\"“”«» "))
    if whole in by_label:
        return {by_label[whole].id or 0: store.YES}
    chosen: dict[int, str] = {}
    for word in words:
        option = by_position.get(word)
        if option is None:
            raise UserError(ctx._("There is no choice “{words}” in n° {id}.").format(words=word[:40], id=decision.id),
                            example=example_for(ctx, decision))
        chosen[option.id or 0] = store.YES
    return chosen


def example_for(ctx: Ctx, decision: Decision) -> str:
    if decision.kind == store.PROPOSAL:
        return ctx._("/vote {id} for").format(id=decision.id)
    if decision.kind == store.DATEPOLL:
        return ctx._("/vote {id} 1 yes 2 if-needed 3 no").format(id=decision.id)
    return ctx._("/vote {id} 1").format(id=decision.id)


REFUSALS = {
    "closed": N_("n° {id} is closed: votes are no longer taken."),
    "not_eligible": N_("n° {id} is put to members with the role “{role}” only."),
    "one_choice": N_("Only one choice in n° {id}."),
    "no_choice": N_("What do you choose?"),
}


@router.typed("vote", aliases=["voter"], help=N_("Vote in a poll or on a proposal (you can change your vote)"),
              args=(NumberArg("number", question=N_("Which one? Give its number (see /polls).")),
                    RawArg("choices", label=N_("<choice…>"), sample="1")),
              examples=(N_("/vote 3 1"), N_("/vote 4 for"), N_("/vote 5 1 yes 2 if-needed 3 no"),
                        N_("/vote 3 withdraw")))
def vote(ctx: Ctx, number: int, choices: str) -> Reply:
    decision, options = load(ctx, number, lock=True)
    if decision.status != store.OPEN or (decision.deadline is not None and decision.deadline <= ctx.now):
        raise UserError(ctx._(REFUSALS["closed"]).format(id=number))
    if set(words_of(choices)) & WITHDRAW and len(words_of(choices)) == 1:
        store.withdraw_vote(ctx.session, number, ctx.member_id)
        return Reply(ctx._("Your vote on n° {id} is withdrawn.").format(id=number))
    answers = read_choices(ctx, decision, options, choices)
    changed = bool(store.member_answers(ctx.session, number, ctx.member_id))
    try:
        store.record_vote(ctx.session, decision, ctx.member_id, answers, ctx.now)
    except store.VoteRefused as refused:
        raise UserError(ctx._(REFUSALS[refused.reason]).format(id=number, role=decision.role or "")) from None
    if ctx.incoming.chat.is_private or decision.public:
        mine = store.member_answers(ctx.session, number, ctx.member_id)
        shown = ", ".join(
            option_label(ctx.translator, decision, o)
            + (f" : {ctx._(ANSWER_NAMES[mine[o.id or 0]])}" if decision.kind == store.DATEPOLL else "")
            for o in options if (o.id or 0) in mine)
        text = ctx._("Your vote on n° {id}: {choices}.").format(id=number, choices=shown)
    else:
        text = ctx._("Your vote on n° {id} is counted (what you chose stays private).").format(id=number)
    if changed:
        text += "\n" + ctx._("It replaces your previous vote.")
    if decision.deadline is not None:
        until = ctx.translator.fmt_datetime(decision.deadline)
        text += "\n" + ctx._("You can change it until {when}.").format(when=until)
    return Reply(text, title=heading(ctx.translator, decision))
