"""Members' data rights (RGPD): /mydata sends a member, privately, everything the bot holds about them
(a readable summary, and the complete file as JSON); /forgetme, after a confirmation button, erases their
name and accounts and gives back what they held in the future, while what the association counts stays,
as "ancien membre". Coordinators can do both for a member who asks by other means. A daily job deletes
the rows only the machinery needs once they are old (RETENTION_* settings)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.core.context import Ctx, JobCtx
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.member_refs import one_member_named
from bot.core.router import Router
from bot.core.types import Action, Reply
from storage.events import get_occurrence
from storage.models import Identity, Member
from storage.models_events import EventSignup
from storage.privacy import create_export_link, forget_member, member_data, prune_old_rows

router = Router("privacy")
log = logging.getLogger(__name__)

# Telegram holds 4,096 characters per message; the JSON goes in pieces this long when there's no link.
CHUNK = 3500
MAX_CHUNKS = 6
EXPORT_PATH = "/mydata/{token}.json"


def _target(ctx: Ctx, args: str) -> Member:
    """Oneself, or (coordinators) the member named."""
    if not args.strip():
        return ctx.member
    if not ctx.is_coordinator:
        raise UserError(ctx._("Only a coordinator can do that for another member."),
                        example=ctx._("/mydata"))
    return one_member_named(ctx, args.strip())


def _private_only(ctx: Ctx, command: str) -> None:
    if not ctx.incoming.chat.is_private:
        raise UserError(ctx._("That stays between us: send {command} to me in a private chat.")
                        .format(command=command))


# --- /mydata -----------------------------------------------------------------------------------------------

@router.command("mydata", aliases=["mesdonnees"], help=N_("Everything the bot holds about you, sent privately"),
                usage=N_("/mydata (coordinators: /mydata <member>)"))
def my_data(ctx: Ctx, args: str) -> list[Reply]:
    _private_only(ctx, ctx._("/mydata"))
    member = _target(ctx, args)
    assert member.id is not None
    data = member_data(ctx.session, member.id)
    replies = [Reply(summary(ctx, data), title=ctx._("What the bot holds about {name}").format(
        name=member.display_name))]
    document = json.dumps(data, ensure_ascii=False, indent=1)
    if ctx.settings.public_url:
        token = create_export_link(ctx.session, member.id, ctx.now)
        url = ctx.settings.public_url + EXPORT_PATH.format(token=token)
        replies.append(Reply(ctx._("The complete file (JSON), for 24 hours, for you only: {url}").format(url=url)))
        return replies
    pieces = [document[i:i + CHUNK] for i in range(0, len(document), CHUNK)]
    for piece in pieces[:MAX_CHUNKS]:
        replies.append(Reply(piece))
    if len(pieces) > MAX_CHUNKS:
        replies.append(Reply(ctx._("The file is too long for messages; the coordinators can give it to you.")))
    return replies


def summary(ctx: Ctx, data: dict[str, Any]) -> str:
    member = data["member"] or {}
    records: dict[str, dict[str, list[dict[str, Any]]]] = data["records"]

    def rows(table: str, column: str = "member_id") -> list[dict[str, Any]]:
        return records.get(table, {}).get(column, [])

    lines = [ctx._("Name: {name}").format(name=member.get("display_name", "")),
             ctx._("Language: {language}").format(language=member.get("language") or ctx.settings.language)]
    accounts = ", ".join(f"{a['platform']} {a['user_id']}" for a in data["accounts"])
    lines.append(ctx._("Chat accounts: {accounts}").format(accounts=accounts or "—"))
    roles = [ctx._("coordinator")] if member.get("is_coordinator") else []
    roles += [ctx._("organiser")] if member.get("is_organiser") else []
    if roles:
        lines.append(ctx._("Roles: {roles}").format(roles=", ".join(roles)))
    clearances = [q["name"] for q in rows("qualification")]
    if clearances:
        lines.append(ctx._("Cleared for: {names}").format(names=", ".join(clearances)))
    counted = [
        ctx.ngettext("{n} booking", "{n} bookings", len(rows("booking"))),
        ctx.ngettext("{n} event sign-up", "{n} event sign-ups", len(rows("eventsignup"))),
        ctx.ngettext("{n} volunteer shift taken", "{n} volunteer shifts taken", len(rows("shift_signup"))),
        ctx.ngettext("{n} reminder", "{n} reminders", len(rows("reminder"))),
        ctx.ngettext("{n} event organised", "{n} events organised", len(rows("event", "organiser_id"))),
        ctx.ngettext("{n} chat subscribed", "{n} chats subscribed", len(rows("subscription", "subscribed_by"))),
    ]
    for count, line in zip((len(rows("booking")), len(rows("eventsignup")), len(rows("shift_signup")),
                            len(rows("reminder")), len(rows("event", "organiser_id")),
                            len(rows("subscription", "subscribed_by"))), counted, strict=True):
        if count:
            lines.append(line.format(n=count))
    hours = rows("task_entry")
    if hours:
        minutes = sum(int(h.get("minutes", 0)) for h in hours)
        lines.append(ctx.ngettext("Volunteer time: {duration} in {n} entry",
                                  "Volunteer time: {duration} in {n} entries", len(hours))
                     .format(duration=ctx.translator.fmt_duration(minutes), n=len(hours)))
    if rows("calendartoken"):
        lines.append(ctx._("A personal calendar link (/calendar reset makes a new one)"))
    known = {"booking", "eventsignup", "shift_signup", "reminder", "event", "subscription", "task_entry",
             "calendartoken", "qualification"}
    others = {table: sum(len(r) for r in by_column.values()) for table, by_column in records.items()
              if table not in known}
    if others:
        lines.append(ctx._("Other records: {tables}").format(
            tables=", ".join(f"{table} ({count})" for table, count in sorted(others.items()))))
    waiting = len(data["messages_to_you"])
    if waiting:
        lines.append(ctx.ngettext("{n} message to you kept for delivery", "{n} messages to you kept for delivery",
                                  waiting).format(n=waiting))
    lines.append(ctx._("/forgetme erases your name and accounts; what you booked and gave stays counted "
                       "as \"ancien membre\"."))
    return "\n".join(lines)


# --- /forgetme ---------------------------------------------------------------------------------------------

@router.command("forgetme", aliases=["oublie-moi", "oubliemoi"],
                help=N_("Erase your name and accounts from the bot (asks for a confirmation)"),
                usage=N_("/forgetme (coordinators: /forgetme <member>)"))
def forget_me(ctx: Ctx, args: str) -> Reply:
    _private_only(ctx, ctx._("/forgetme"))
    words = args.split()
    if words and words[0] in {"cancel", "annuler"}:
        return Reply(ctx._("Nothing was erased."), edit_original=ctx.incoming.is_action)
    confirmed = bool(words) and words[0] == "confirm" and ctx.incoming.is_action
    rest = " ".join(words[1:]) if words and words[0] == "confirm" else args
    member = _target(ctx, rest)
    assert member.id is not None
    oneself = member.id == ctx.member_id
    suffix = "" if oneself else f" #{member.id}"
    if not confirmed:
        question = ctx._("Erase your name and your chat accounts from the bot? Your future bookings, places and "
                         "shifts are given back; your past bookings and hours stay counted as \"ancien membre\". "
                         "This can't be undone.") if oneself else ctx._(
                         "Erase {name}'s name and chat accounts from the bot? Their future bookings, places and "
                         "shifts are given back; their past bookings and hours stay counted as \"ancien "
                         "membre\". This can't be undone.").format(name=member.display_name)
        return Reply(question, actions=(Action(ctx._("Yes, erase"), f"/forgetme confirm{suffix}"),
                                        Action(ctx._("Cancel"), "/forgetme cancel")))
    if member.display_name == "ancien membre" and not _has_accounts(ctx, member.id):
        return Reply(ctx._("Already done: there is nothing left to erase."), edit_original=True)
    ctx.session.flush()
    forgotten = forget_member(ctx.session, member.id, ctx.now)
    for obj in list(ctx.session.identity_map.values()):  # the accounts are gone from the database
        if isinstance(obj, Identity) and obj.member_id == member.id:
            ctx.session.expunge(obj)
    _tell_promoted(ctx, forgotten.promoted)
    log.info("member %s forgotten (by member %s)", member.id, ctx.member_id)
    released = ctx.ngettext("{n} booking, place or shift given back.", "{n} bookings, places or shifts given back.",
                            forgotten.bookings_cancelled + forgotten.places_given_back + forgotten.shifts_given_back
                            ).format(n=forgotten.bookings_cancelled + forgotten.places_given_back
                                     + forgotten.shifts_given_back)
    done = ctx._("Done: the bot no longer knows your name or your accounts.") if oneself else ctx._(
        "Done: the bot no longer knows that member's name or accounts.")
    return Reply(f"{done} {released}", edit_original=True)


def _has_accounts(ctx: Ctx, member_id: int) -> bool:
    from sqlmodel import select

    return ctx.session.exec(select(Identity.id).where(Identity.member_id == member_id)).first() is not None


def _tell_promoted(ctx: Ctx, promoted: Sequence[EventSignup]) -> None:
    for signup in promoted:
        member = ctx.session.get(Member, signup.member_id)
        if member is None:
            continue
        occurrence, event = get_occurrence(ctx.session, signup.occurrence_id)
        t = ctx.translator_for(member)
        ctx.notify_member(signup.member_id, Reply(
            t.gettext("Good news: a place freed up and it is yours: “{title}”, {when}. Can't come after all? "
                      "/leave {number} gives it to the next person.").format(
                title=event.title, when=t.fmt_range(occurrence.start, occurrence.end), number=occurrence.id),
            title=event.title), dedup_key=f"event-promoted:{signup.id}:{signup.updated_at.isoformat()}")


# --- retention ---------------------------------------------------------------------------------------------

@router.job("data-retention", every_seconds=24 * 3600)
def data_retention(ctx: JobCtx) -> None:
    counts = prune_old_rows(ctx.session, ctx.now, outbox_days=ctx.settings.retention_outbox_days,
                            inbox_days=ctx.settings.retention_inbox_days,
                            buttons_days=ctx.settings.retention_buttons_days)
    if any(counts.values()):
        log.info("retention: deleted %s", ", ".join(f"{n} {name}" for name, n in counts.items() if n))
