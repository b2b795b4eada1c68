"""/help: every command in the member's language, with its alias in the other language;
/help <command>: its usage and examples, written from the command's own declaration."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.args import RawArg
from bot.core.i18n import N_
from bot.core.router import Command, CommandTable, Router, fold
from bot.core.types import Reply
from handlers.places import places_guard
from storage.places import coordinated_sites, is_network

router = Router("help")


@router.typed("help", aliases=["aide"], help=N_("List the commands, or explain one"),
              args=(RawArg("topic", label=N_("<command>"), shown_optional=True),),
              examples=(N_("/help"), N_("/help book")), read_only=True)
def show_help(ctx: Ctx, topic: str) -> Reply:
    assert ctx.commands is not None
    if topic:
        return _one_command(ctx, topic)
    one_place = not is_network(ctx.session)
    coordinates_a_place = ctx.is_coordinator or bool(coordinated_sites(ctx.session, ctx.member_id))
    key = ("help", ctx.language, ctx.is_coordinator, coordinates_a_place, one_place)
    text = ctx.commands.made.get(key)
    if text is None:  # the same for everyone with the same language and role: made once
        text = ctx.commands.made[key] = _command_list(ctx, ctx.commands, coordinates_a_place, one_place)
    return Reply(text, title=ctx._("What I can do"))


def _command_list(ctx: Ctx, commands: CommandTable, coordinates_a_place: bool, one_place: bool) -> str:
    lines = []
    for command in commands.commands:
        if command.hidden or (command.coordinator_only and not ctx.is_coordinator):
            continue
        if _places_only(command) and not coordinates_a_place:
            continue  # every subcommand is for coordinators (of the network or of a place)
        if one_place and command.name in PLACE_COMMANDS and not ctx.is_coordinator:
            continue  # one place: nothing to choose (coordinators still see how to add a second)
        names = " = ".join(f"/{name}" for name in command.names)
        lines.append(f"{names} — {ctx._(command.help)}")
    lines.append("")
    lines.append(ctx._("/help <command> explains one, with examples."))
    lines.append(ctx._("Commands also work with ! instead of / (useful on Matrix/Element)."))
    return "\n".join(lines)


PLACE_COMMANDS = {"place", "places"}
# Commands that check themselves who may run them: network coordinators, and a place's coordinators for
# their place (handlers/report.py: a place's report).
PLACE_COORDINATOR_COMMANDS = {"report"}


def _for_coordinators(sub: Command) -> bool:
    """Network coordinators' subcommands, and those open to a place's coordinators too (issue 18)."""
    return sub.coordinator_only or sub.guard is places_guard


def _places_only(command: Command) -> bool:
    if command.name in PLACE_COORDINATOR_COMMANDS:
        return True
    return bool(command.subcommands) and all(sub.guard is places_guard for sub in command.subcommands)


def _one_command(ctx: Ctx, topic: str) -> Reply:
    assert ctx.commands is not None
    words = topic.lstrip("/!").split()
    command = ctx.commands.find(words[0]) if words else None
    if command is None or command.hidden:
        raise UserError(ctx._("I don't know /{name}. /help lists the commands.").format(name=topic[:40]))
    shown: list[Command] = [command]
    if len(words) > 1:
        wanted = fold(words[1])
        shown = [s for s in command.subcommands if wanted in {fold(n) for n in s.names}] or shown
    lines = [f"{' = '.join('/' + n for n in command.names)} — {ctx._(command.help)}"]
    if command.coordinator_only or _places_only(command):
        lines.append(ctx._("For coordinators."))
    lines.append("")
    may_coordinate = ctx.is_coordinator or bool(coordinated_sites(ctx.session, ctx.member_id))
    for item in shown:
        for sub in item.subcommands or [item]:
            for_coordinators = _for_coordinators(sub) and not (command.coordinator_only or _places_only(command))
            if for_coordinators and not (ctx.is_coordinator or (sub.guard is places_guard and may_coordinate)):
                continue
            text = sub.usage_line(ctx.translator)
            if sub.parent is not None:
                note = ctx._(" (coordinators)") if for_coordinators else ""
                text += f"\n   {ctx._(sub.help)}{note}"
            lines.append(text)
    examples = [ctx._(e) for item in shown for e in item.all_examples()]
    if examples:
        lines.append("")
        lines.append(ctx._("Examples:"))
        lines += [f"• {e}" for e in examples[: max(2, len(shown[0].subcommands) + 1)]]
    return Reply("\n".join(lines), title=f"/{command.name_in(ctx.language)}")
