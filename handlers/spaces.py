"""/spaces for everyone; /space add|edit|close|open for coordinators."""

from __future__ import annotations

import shlex

from sqlmodel import select

from bot.core.context import Ctx
from bot.core.errors import UsageError, UserError
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply
from handlers.explain import space_error
from storage.models import Space
from storage.opening_hours import WEEKDAYS, hours_from_json
from storage.spaces import (
    AmbiguousSpace,
    SpaceFileError,
    SpaceNotFound,
    default_site,
    list_spaces,
    match_space,
    space_as_entry,
    space_fields,
)

router = Router("spaces")

SPACE_EXAMPLE = '/space add atelier-bois "Atelier bois" kind=machine capacity=4 max_hours=3 mon=09:00-18:00'
EDITABLE = {"name", "kind", "capacity", "max_hours", "max_days_ahead", "weekly_quota_hours", "requires",
            "description", *WEEKDAYS}


def _kind_label(ctx: Ctx, kind: str) -> str:
    labels = {
        "desk": ctx._("desks"), "meeting_room": ctx._("meeting room"), "machine": ctx._("machine"),
        "kitchen": ctx._("kitchen"), "room": ctx._("room"), "other": ctx._("other"),
    }
    return labels.get(kind, kind)


def _hours_summary(ctx: Ctx, space: Space) -> str:
    hours = hours_from_json(space.opening_hours)
    day_names = ctx.translator.locale.days["format"]["abbreviated"]
    parts = []
    for index, day in enumerate(WEEKDAYS):
        if day in hours:
            ranges = ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in hours[day])
            parts.append(f"{day_names[index]} {ranges}")
    return "; ".join(parts) or ctx._("no opening hours")


@router.command("spaces", aliases=["espaces"], help=N_("List the spaces you can book"), usage=N_("/spaces"))
def show_spaces(ctx: Ctx, args: str) -> Reply:
    spaces = list_spaces(ctx.session, include_closed=ctx.is_coordinator)
    if not spaces:
        return Reply(ctx._("No spaces yet. A coordinator can add one with /space add."))
    lines = []
    for space in spaces:
        line = f"• {space.name} ({space.slug}) — {_kind_label(ctx, space.kind)}"
        if space.capacity > 1:
            line += ", " + ctx.ngettext("{n} place", "{n} places", space.capacity).format(n=space.capacity)
        if space.required_qualification:
            line += ", " + ctx._("qualification “{name}” required").format(name=space.required_qualification)
        if space.closed:
            line += " — " + ctx._("closed")
        lines.append(line)
        lines.append("   " + _hours_summary(ctx, space))
    lines.append("")
    lines.append(ctx._("Book with /book <space> <when>, e.g. /book salle-reunion tomorrow 14:00-16:00"))
    return Reply("\n".join(lines), title=ctx._("Spaces"))


def _pairs(ctx: Ctx, words: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        key = key.strip().lower()
        if not sep or key not in EDITABLE:
            raise UserError(ctx._("I don't understand “{word}”. Settings look like capacity=4 or mon=09:00-18:00.")
                            .format(word=word[:40]), example=SPACE_EXAMPLE)
        pairs[key] = value.strip()
    return pairs


def _apply(entry: dict[str, object], pairs: dict[str, str]) -> dict[str, object]:
    hours = dict(entry.get("hours") or {})  # type: ignore[call-overload]
    for key, value in pairs.items():
        if key in WEEKDAYS:
            hours[key] = value
        elif key == "requires":
            entry[key] = value or None
        else:
            entry[key] = value
    entry["hours"] = hours
    return entry


@router.command("space", aliases=["espace"], coordinator_only=True,
                help=N_("Add, edit, close or reopen a space (coordinators)"),
                usage=N_('/space add|edit|close|open <slug> [settings]  e.g. /space add atelier-bois "Atelier bois" '
                         "kind=machine capacity=4 mon=09:00-18:00"))
def manage_space(ctx: Ctx, args: str) -> Reply:
    try:
        words = shlex.split(args)
    except ValueError:
        raise UserError(ctx._("A quote is not closed."), example=SPACE_EXAMPLE) from None
    if len(words) < 2 or words[0].lower() not in {"add", "ajouter", "edit", "modifier", "close", "fermer",
                                                    "open", "ouvrir"}:
        raise UsageError(ctx._("What should I do with the space?"))
    action, slug = words[0].lower(), words[1]
    if action in {"add", "ajouter"}:
        return _add_space(ctx, slug, words[2:])
    try:
        space = match_space(list_spaces(ctx.session, include_closed=True), slug)
    except (SpaceNotFound, AmbiguousSpace) as error:
        raise space_error(ctx, error) from None
    if action in {"close", "fermer", "open", "ouvrir"}:
        space.closed = action in {"close", "fermer"}
        ctx.session.add(space)
        if space.closed:
            return Reply(ctx._("{space} is closed: nobody can book it until /space open {slug}.")
                         .format(space=space.name, slug=space.slug))
        return Reply(ctx._("{space} is open for bookings again.").format(space=space.name))
    if len(words) < 3:
        raise UsageError(ctx._("What should I change? e.g. capacity=2"))
    entry = _apply(space_as_entry(space), _pairs(ctx, words[2:]))
    try:
        values = space_fields(entry, space.slug, {})
    except SpaceFileError as error:
        raise UserError(str(error), example=SPACE_EXAMPLE) from None
    for name, value in values.items():
        setattr(space, name, value)
    ctx.session.add(space)
    return Reply(ctx._("{space} updated.").format(space=space.name))


def _add_space(ctx: Ctx, slug: str, words: list[str]) -> Reply:
    name = slug
    if words and "=" not in words[0]:
        name, words = words[0], words[1:]
    if ctx.session.exec(select(Space).where(Space.slug == slug.lower())).first() is not None:
        raise UserError(ctx._("A space called {slug} already exists; use /space edit {slug}.").format(slug=slug))
    entry = _apply({"slug": slug, "name": name, "hours": {d: "09:00-18:00" for d in WEEKDAYS[:5]}},
                   _pairs(ctx, words))
    try:
        values = space_fields(entry, slug, {})
    except SpaceFileError as error:
        raise UserError(str(error), example=SPACE_EXAMPLE) from None
    site = default_site(ctx.session)
    if site is None or site.id is None:
        raise UserError(ctx._("There is no site yet; import one with tierslieu spaces import FILE.toml."))
    space = Space(site_id=site.id, **values)
    ctx.session.add(space)
    return Reply(ctx._("Space added: {space} ({slug}).").format(space=space.name, slug=space.slug))
