"""The deadlines: one reminder a day before a proposal closes to those who haven't voted, and the
result computed and announced when any decision's deadline passes."""

from __future__ import annotations

from bot.core.context import JobCtx
from bot.core.i18n import Translator
from bot.core.types import Action, Reply
from handlers.decisions.common import announce_result, buttons, heading, router
from handlers.telling import tell_member
from storage import decisions as store
from storage.models_decisions import Decision, DecisionOption


@router.job("decision-deadlines", every_seconds=60)
def decision_deadlines(ctx: JobCtx) -> None:
    for decision_id in store.due_for_reminder(ctx.session, ctx.now):
        decision, options = store.get_decision(ctx.session, decision_id, lock=True)
        if decision.reminded_at is not None:
            continue
        for member_id in store.not_voted(ctx.session, decision):
            def build(t: Translator, decision: Decision = decision,
                      options: list[DecisionOption] = options) -> Reply:
                assert decision.deadline is not None
                text = t.gettext("Not voted yet: the vote closes {when}.").format(
                    when=t.fmt_datetime(decision.deadline))
                actions: tuple[Action, ...] = buttons(t, decision, options)
                return Reply(text, title=heading(t, decision), actions=actions)
            tell_member(ctx, member_id, build, dedup_key=f"decision-reminder:{decision_id}:{member_id}")
        decision.reminded_at = ctx.now
        ctx.session.add(decision)
    for decision_id in store.due_to_close(ctx.session, ctx.now):
        decision, options = store.get_decision(ctx.session, decision_id, lock=True)
        if decision.status != store.OPEN:
            continue
        store.close_decision(ctx.session, decision, options, ctx.now)
        announce_result(ctx, decision, options)
