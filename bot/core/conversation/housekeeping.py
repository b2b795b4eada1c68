"""A daily job: conversations that can no longer be used are deleted (what a member was in the middle of
saying, and the buttons last offered to them, are kept minutes, not forever)."""

from __future__ import annotations

from bot.core.context import JobCtx
from bot.core.router import Router
from storage.conversation import forget_expired

router = Router("conversation")


@router.job("conversation-housekeeping", every_seconds=24 * 3600)
def forget_old_conversations(ctx: JobCtx) -> None:
    forget_expired(ctx.session, ctx.now)
