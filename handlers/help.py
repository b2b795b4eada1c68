"""/help: every command in the member's language, with its alias in the other language."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply

router = Router("help")


@router.command("help", aliases=["aide"], help=N_("List the commands"), usage=N_("/help"))
def show_help(ctx: Ctx, args: str) -> Reply:
    assert ctx.commands is not None
    lines = []
    for command in ctx.commands.commands:
        if command.hidden or (command.coordinator_only and not ctx.is_coordinator):
            continue
        names = " = ".join(f"/{name}" for name in command.names)
        lines.append(f"{names} — {ctx._(command.help)}")
    lines.append("")
    lines.append(ctx._("Commands also work with ! instead of / (useful on Matrix/Element)."))
    return Reply("\n".join(lines), title=ctx._("What I can do"))
