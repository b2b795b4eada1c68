"""/spaces for everyone; /space add|edit|close|open for coordinators."""

from __future__ import annotations

import shlex
from datetime import time
from typing import Any

from sqlmodel import select

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.args import LEADING, REST, CustomArg, TitleArg, WordArg
from bot.core.grammar.pieces import fold
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Reply
from bot.core.vocabulary import weekday_of
from handlers.places import places_guard, read_place_scope, require_manager, scope, space_place
from storage.feed_state import note_space_renamed
from storage.models import Site, Space
from storage.opening_hours import WEEKDAYS, HoursFormatError, hours_from_json, parse_hours
from storage.places import is_network
from storage.spaces import (
    SPACE_KINDS,
    SpaceFileError,
    SpaceView,
    default_site,
    list_spaces,
    space_as_entry,
    space_fields,
)
from storage.volunteer_rules import RotaFormatError, parse_time_range

router = Router("spaces")

SPACE_EXAMPLE = N_('/space add atelier-bois "Atelier bois" kind=machine capacity=4 tue=14:00-19:00 sat=10:00-18:00')
DEFAULT_HOURS = {day: "09:00-18:00" for day in WEEKDAYS[:5]}
# Setting names, French and English, as typed before "=".
SETTINGS = {
    "name": ("nom",), "kind": ("type", "genre", "sorte"), "capacity": ("capacite", "places", "capacité"),
    "max_hours": ("duree_max", "max_heures", "heures_max", "duree-max"),
    "max_days_ahead": ("jours_max", "max_jours", "delai_max", "jours-max"),
    "weekly_quota_hours": ("quota", "quota_heures", "quota_hebdo"),
    "requires": ("habilitation", "requiert", "qualification"), "description": ("desc",),
    "site": ("lieu", "place"),
}
SETTING_KEYS = {fold(alias): key for key, aliases in SETTINGS.items() for alias in (key, *aliases)}
KIND_WORDS = {
    "desk": ("bureau", "bureaux", "poste", "postes", "desks", "coworking", "open-space"),
    "meeting_room": ("salle-reunion", "salle_reunion", "salle-de-reunion", "reunion", "meeting", "meeting-room"),
    "machine": ("machines", "outil", "equipement"),
    "kitchen": ("cuisine",),
    "room": ("salle", "piece", "atelier"),
    "other": ("autre",),
}
KINDS = {fold(alias): key for key, aliases in KIND_WORDS.items() for alias in (key, *aliases)}
CLOSED_WORDS = {"closed", "ferme", "fermee", "non", "none", "-"}


def kind_label(ctx: Ctx, kind: str) -> str:
    labels = {
        "desk": ctx._("desks"), "meeting_room": ctx._("meeting room"), "machine": ctx._("machine"),
        "kitchen": ctx._("kitchen"), "room": ctx._("room"), "other": ctx._("other"),
    }
    return labels.get(kind, kind)


def weekday_names(t: Translator, width: str = "abbreviated") -> tuple[str, ...]:
    """Monday first, in the reader's language: ``width`` "abbreviated" (mar.) or "wide" (mardi)."""
    return t.names.weekdays if width == "wide" else t.names.short_weekdays


def hours_summary(ctx: Ctx, opening_hours: str | None) -> str:
    """'mar. 14:00-19:00; jeu. 14:00-22:00' (closed days left out), in the reader's language."""
    hours = hours_from_json(opening_hours)
    day_names = weekday_names(ctx.translator)
    parts = []
    for index, day in enumerate(WEEKDAYS):
        if day in hours:
            ranges = ",".join(f"{s:%H:%M}-{'24:00' if e == time.max else f'{e:%H:%M}'}" for s, e in hours[day])
            parts.append(f"{day_names[index]} {ranges}")
    return "; ".join(parts) or ctx._("no opening hours")


@router.typed("spaces", aliases=["espaces"], help=N_("List the spaces you can book"), examples=(N_("/spaces"),),
              read_only=True, args=(CustomArg("place", read_place_scope, stage=REST, label=N_("[place|all]")),))
def show_spaces(ctx: Ctx, place: Site | str | None = None) -> Reply:
    spaces = list_spaces(ctx.session, include_closed=ctx.is_coordinator)
    if not spaces:
        return Reply(ctx._("No spaces yet. A coordinator can add one with /space add."))
    scoped = scope(ctx, spaces, place, ctx._("/spaces {place}"))
    lines = []
    for heading, group in scoped.groups:
        if heading is not None:
            lines.append(ctx._("— {place} —").format(place=heading))
            if not group:
                lines.append("   " + ctx._("no spaces yet"))
        lines += _space_lines(ctx, group)
    lines.append("")
    lines.append(ctx._("Book with /book <space> <when>, e.g. /book salle-reunion tomorrow 14:00-16:00"))
    lines += scoped.footer
    return Reply("\n".join(lines), title=ctx._("Spaces"), actions=scoped.actions)


def _space_lines(ctx: Ctx, spaces: list[Space]) -> list[str]:
    lines = []
    for space in spaces:
        line = f"• {space.name} ({space.slug}) — {kind_label(ctx, space.kind)}"
        if space.capacity > 1:
            line += ", " + ctx.ngettext("{n} place", "{n} places", space.capacity).format(n=space.capacity)
        if space.required_qualification:
            line += ", " + ctx._("qualification “{name}” required").format(name=space.required_qualification)
        if space.closed:
            line += " — " + ctx._("closed")
        lines.append(line)
        lines.append("   " + hours_summary(ctx, space.opening_hours))
    return lines


# --- settings: capacity=4 kind=salle mar=14:00-19:00 -----------------------------------------------------


def _bad_setting(ctx: Ctx, word: str) -> UserError:
    return UserError(ctx._("I don't understand “{word}”. Settings look like capacity=4 or tue=09:00-18:00 "
                           "(days: mon…sun or lun…dim).").format(word=word[:40]), example=ctx._(SPACE_EXAMPLE))


def read_settings(ctx: Ctx, text: str) -> tuple[dict[str, str] | None, str]:
    """Every ``key=value`` (value quoted if it has spaces); keys in French or English, weekdays as
    mon/lun/lundi/mardi/tue… -> {'capacity': '4', 'tue': '14:00-19:00'}."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise UserError(ctx._("A quote is not closed."), example=ctx._(SPACE_EXAMPLE)) from None
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise _bad_setting(ctx, word)
        weekday = weekday_of(key)
        if weekday is not None:
            pairs[WEEKDAYS[weekday]] = value.strip()
        elif fold(key.strip()) in SETTING_KEYS:
            pairs[SETTING_KEYS[fold(key.strip())]] = value.strip()
        else:
            raise _bad_setting(ctx, word)
    return (pairs or None), ""


def _read_name(ctx: Ctx, text: str) -> tuple[str | None, str]:
    """The new space's name: in quotes, or the words before the first setting ("Atelier bois mar=…")."""
    if text[:1] in "\"“«„":
        return TitleArg("name", leading=True).read(ctx, text)
    words = text.split(" ") if text else []
    name_words = []
    for word in words:
        if "=" in word:
            break
        name_words.append(word)
    return (" ".join(name_words)[:200] or None), " ".join(words[len(name_words):])


def _hours_value(value: str) -> str | None:
    """'14h-19h', '9h30-12h,14h-18h' or '09:00-18:00' as opening hours the spaces file reads, or None."""
    try:
        parse_hours({"mon": value})
        return value
    except HoursFormatError:
        pass
    ranges = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            start, end = parse_time_range(part)
        except RotaFormatError:
            return None
        ranges.append(f"{start:%H:%M}-{end:%H:%M}")
    return ",".join(ranges) or None


def _check_values(ctx: Ctx, pairs: dict[str, str]) -> dict[str, str]:
    """French kind names and hours checked here, so that errors come in the member's language."""
    day_names = weekday_names(ctx.translator, "wide")
    for key, value in pairs.items():
        if key == "kind":
            kind = KINDS.get(fold(value.strip()).replace(" ", "-"))
            if kind is None:
                kinds = ", ".join(f"{kind_label(ctx, k)} ({k})" for k in SPACE_KINDS)
                raise UserError(ctx._("“{kind}” is not a kind of space I know: {kinds}.").format(
                    kind=value[:40], kinds=kinds), example=ctx._(SPACE_EXAMPLE))
            pairs[key] = kind
        elif key in WEEKDAYS and fold(value) not in CLOSED_WORDS:
            hours = _hours_value(value)
            if hours is None:
                raise UserError(ctx._("I couldn't read the hours “{hours}” for {day}: write them like "
                                      "09:00-18:00, or 09:00-12:00,14:00-18:00.").format(
                    hours=value[:40], day=day_names[WEEKDAYS.index(key)]), example=ctx._(SPACE_EXAMPLE))
            pairs[key] = hours
        elif key in WEEKDAYS:
            pairs[key] = ""
    return pairs


def _fields(ctx: Ctx, entry: dict[str, Any], slug: str) -> dict[str, Any]:
    try:
        return space_fields(entry, slug, {})
    except SpaceFileError as error:
        messages = {
            "slug": ctx._("A space's short name is lowercase letters, digits and hyphens, e.g. atelier-bois."),
            "capacity": ctx._("The capacity must be between 1 and 1000."),
            "numbers": ctx._("capacity, max_hours, max_days_ahead and weekly_quota_hours must be numbers."),
            "limits": ctx._("max_hours must be at most 336 and max_days_ahead at most 730."),
        }
        raise UserError(messages.get(error.code, str(error)), example=ctx._(SPACE_EXAMPLE)) from None


def _apply(entry: dict[str, Any], pairs: dict[str, str], *, replace_hours: bool = False) -> dict[str, Any]:
    hours = {} if replace_hours else dict(entry.get("hours") or {})
    for key, value in pairs.items():
        if key in WEEKDAYS:
            if value:
                hours[key] = value
            else:
                hours.pop(key, None)
        elif key == "requires":
            entry[key] = value or None
        else:
            entry[key] = value
    entry["hours"] = hours
    return entry


space = router.group("space", aliases=["espace"],
                     help=N_("Add, edit, close or reopen a space (coordinators)"))
SETTINGS_ARG = CustomArg("settings", read_settings, label=N_("<settings>"), stage=REST)


@space.sub("add", guard=places_guard, aliases=["ajouter", "creer", "nouveau"],
           help=N_("Add a space: the days given are its opening hours"),
           args=(WordArg("slug", question=N_("Give the new space a short name, e.g. atelier-bois."),
                         label=N_("<short-name>")),
                 CustomArg("name", _read_name, stage=LEADING, label=N_('"<name>"')), SETTINGS_ARG),
           examples=(SPACE_EXAMPLE, N_('/space add petit-bureau "Petit bureau" kind=desk capacity=2')))
def add_space(ctx: Ctx, slug: str, name: str | None, settings: dict[str, str] | None) -> Reply:
    pairs = _check_values(ctx, dict(settings or {}))
    slug = slug.lower()
    if ctx.session.exec(select(Space).where(Space.slug == slug)).first() is not None:
        raise UserError(ctx._("A space called {slug} already exists; use /space edit {slug}.").format(slug=slug))
    days_given = any(key in WEEKDAYS for key in pairs)
    entry = _apply({"slug": slug, "name": name or slug, "hours": {} if days_given else dict(DEFAULT_HOURS)}, pairs)
    values = _fields(ctx, entry, slug)
    site = space_place(ctx, pairs.get("site")) or default_site(ctx.session)
    if site is None or site.id is None:
        raise UserError(ctx._("There is no site yet; import one with tierslieu spaces import FILE.toml."))
    require_manager(ctx, site)
    new = Space(site_id=site.id, **values)
    ctx.session.add(new)
    text = ctx._("Space added: {space} ({slug}).").format(space=new.name, slug=new.slug)
    if is_network(ctx.session):
        text += " " + ctx._("Place: {place}.").format(place=site.name)
    text += "\n" + ctx._("Open: {hours}").format(hours=hours_summary(ctx, new.opening_hours))
    if not days_given:
        text += "\n" + ctx._("(Monday to Friday 09:00-18:00 by default; change with /space edit {slug} "
                             "sat=10:00-18:00 or mon=closed.)").format(slug=new.slug)
    return Reply(text)


def _space_row(ctx: Ctx, view: SpaceView) -> Space:
    row = ctx.session.get(Space, view.id)
    assert row is not None
    require_manager(ctx, ctx.session.get(Site, row.site_id))
    return row


@space.sub("edit", guard=places_guard, aliases=["modifier", "changer"], help=N_("Change a space's settings or hours"),
           args=(SpaceArg("space", include_closed=True, question=N_("Which space?")),
                 CustomArg("settings", read_settings, label=N_("<settings>"), stage=REST, optional=False,
                           question=N_("What should I change? e.g. capacity=2"))),
           examples=(N_("/space edit petite-salle capacity=8 sat=10:00-16:00"), N_("/space edit cuisine mon=closed")))
def edit_space(ctx: Ctx, space: SpaceView, settings: dict[str, str]) -> Reply:
    row = _space_row(ctx, space)
    pairs = _check_values(ctx, dict(settings))
    moved_to = space_place(ctx, pairs["site"]) if pairs.get("site") else None
    values = _fields(ctx, _apply(space_as_entry(row), pairs), row.slug)
    if moved_to is not None and moved_to.id is not None:
        require_manager(ctx, moved_to)
        row.site_id = moved_to.id
    renamed = "name" in values and values["name"] != row.name
    for name, value in values.items():
        setattr(row, name, value)
    ctx.session.add(row)
    if renamed and row.id is not None:  # its events' LOCATION changes in the feeds: their SEQUENCE moves
        note_space_renamed(ctx.session, row.id, ctx.now)
    text = ctx._("{space} updated.").format(space=row.name)
    if any(key in WEEKDAYS for key in pairs):
        text += "\n" + ctx._("Open: {hours}").format(hours=hours_summary(ctx, row.opening_hours))
    return Reply(text)


@space.sub("close", guard=places_guard, aliases=["fermer"], help=N_("Close a space to bookings"),
           args=(SpaceArg("space", include_closed=True, question=N_("Which space?")),),
           examples=(N_("/space close decoupeuse-laser"),))
def close_space(ctx: Ctx, space: SpaceView) -> Reply:
    row = _space_row(ctx, space)
    row.closed = True
    ctx.session.add(row)
    return Reply(ctx._("{space} is closed: nobody can book it until /space open {slug}.")
                 .format(space=row.name, slug=row.slug))


@space.sub("open", guard=places_guard, aliases=["ouvrir", "rouvrir"], help=N_("Open a closed space to bookings again"),
           args=(SpaceArg("space", include_closed=True, question=N_("Which space?")),),
           examples=(N_("/space open decoupeuse-laser"),))
def open_space(ctx: Ctx, space: SpaceView) -> Reply:
    row = _space_row(ctx, space)
    row.closed = False
    ctx.session.add(row)
    return Reply(ctx._("{space} is open for bookings again.").format(space=row.name))
