"""The member a coordinator names in a command, or a choice with buttons when it could be several.

The finding itself is ``storage.members.lookup_member`` (mentions, member numbers, accounts, then names
that match one member only); this module turns its answer into the member, or into a sentence and
buttons in the coordinator's language: pressing one runs the same command with the member's number.
"""

from __future__ import annotations

import re

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.types import Action
from storage.members import accounts_of, lookup_member
from storage.models import Member

PLATFORM_NAMES = {"telegram": "Telegram", "matrix": "Matrix", "console": N_("console")}


def member_label(ctx: Ctx, member: Member, accounts: list[tuple[str, str]]) -> str:
    """'#12 Alice Martin · Telegram @alice_m, Matrix @alice:example.org': who is who, at a glance."""
    shown = ", ".join(
        f"{ctx._(PLATFORM_NAMES.get(platform, platform))} {handle}".strip() for platform, handle in accounts)
    return f"#{member.id} {member.display_name}" + (f" · {shown}" if shown else "")


def command_with(text: str, who: str, replacement: str) -> str | None:
    """The command ``text`` with the reference ``who`` (quoted or not) replaced, or None if not found."""
    head, _, rest = text.partition(" ")
    for form in (f'"{who}"', f"'{who}'", f"“{who}”", who):
        match = re.search(re.escape(form), rest)
        if match:
            return f"{head} {rest[: match.start()]}{replacement}{rest[match.end():]}"
    return None


def one_member_named(ctx: Ctx, who: str) -> Member:
    """The member ``who`` names without doubt; otherwise a UserError listing whom it might mean (with
    buttons re-running the command for each), or saying nobody is known by it."""
    found = lookup_member(ctx.session, who, ctx.incoming.mentions)
    if found.member is not None:
        return found.member
    shown = who.strip()[:40]
    if not found.candidates:
        raise UserError(ctx._("I don't know anyone called “{who}”. They must have written to me once; "
                              "/members lists everyone with their number.").format(who=shown))
    accounts = accounts_of(ctx.session, [m.id for m in found.candidates if m.id is not None])
    labels = [member_label(ctx, m, accounts.get(m.id or 0, [])) for m in found.candidates]
    actions = []
    for member, label in zip(found.candidates, labels, strict=True):
        command = command_with(ctx.incoming.text, who.strip(), f"#{member.id}")
        if command is not None:
            actions.append(Action(label, command))
    message = ctx.ngettext("Did you mean this member? “{who}” is not exactly their name:",
                           "Several members could be “{who}”. Which one?",
                           len(found.candidates)).format(who=shown)
    lines = [message, *labels]
    if not actions:
        lines.append(ctx._("Name them by their number, e.g. #{number}.").format(number=found.candidates[0].id))
    raise UserError("\n".join(lines), actions=tuple(actions))
