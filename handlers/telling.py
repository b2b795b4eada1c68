"""Telling another member something, in their own language (not the language of whoever acted)."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.context import Ctx, JobCtx
from bot.core.i18n import Translator
from bot.core.types import Reply
from storage.models import Member


def tell_member(ctx: Ctx | JobCtx, member_id: int, build: Callable[[Translator], Reply | str],
                dedup_key: str | None = None) -> bool:
    """Write ``build(their translator)`` to the member privately (through the outbox, with the
    command's transaction). False when the member no longer exists."""
    member = ctx.session.get(Member, member_id)
    if member is None:
        return False
    message = build(ctx.translator_for(member))
    ctx.notify_member(member_id, message if isinstance(message, Reply) else Reply(message), dedup_key=dedup_key)
    return True
