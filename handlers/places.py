"""A network of places (issue 18): /lieux lists them; /lieu ajouter adds one (network coordinators);
/lieu <nom> chooses one's home place; /lieu ici <nom> attaches a group chat to a place; /coordinateur
names a place's coordinator."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Generic, Protocol, TypeVar

from sqlmodel import col, func, select

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import LEADING, REST, CustomArg, TitleArg, WordArg
from bot.core.grammar.pieces import fold
from bot.core.grammar.refs import MemberArg
from bot.core.i18n import N_
from bot.core.router import NOT_COORDINATOR, Command, Router
from bot.core.types import Action, Reply
from bot.core.vocabulary import weekday_of
from storage.models import Member, Site, Space
from storage.opening_hours import WEEKDAYS, HoursFormatError, hours_to_json, parse_hours
from storage.places import (
    PlaceError,
    PlaceFigures,
    add_place,
    add_place_coordinator,
    chat_place,
    coordinated_sites,
    find_place,
    home_place,
    is_network,
    place_figures,
    place_info,
    places,
    set_chat_place,
    set_home_place,
    site_names,
)
from storage.spaces import AmbiguousSpace, SpaceNotFound, _key

router = Router("places")

PLACE_EXAMPLE = N_('/place add orgelet "Tiers-lieu d\'Orgelet" address="2 rue du Pont, Orgelet" tue=09:00-18:00')
WHOLE_NETWORK = {"tout", "tous", "all", "reseau", "network", "aucun", "none"}
ADDRESS_KEYS = {"adresse", "address", "addr"}


def _place(ctx: Ctx, text: str) -> Site:
    try:
        return find_place(ctx.session, text)
    except SpaceNotFound as error:
        names = ", ".join(s.slug for s in places(ctx.session))
        raise UserError(ctx._("I don't know the place “{name}”. Places: {names}.").format(
            name=error.query[:40], names=names), example=ctx._("/place orgelet")) from None
    except AmbiguousSpace as error:
        names = ", ".join(f"{s.name} ({s.slug})" for s in error.candidates)
        raise UserError(ctx._("Which place? {names}").format(names=names)) from None


def _choice_buttons(ctx: Ctx, command: str) -> tuple[Action, ...]:
    return tuple(Action(site.name, f"{command} {site.slug}") for site in places(ctx.session))


@router.typed("places", aliases=["lieux", "sites"], help=N_("List the places of the network"),
              examples=(N_("/places"),))
def show_places(ctx: Ctx) -> Reply:
    sites = places(ctx.session)
    if not sites:
        return Reply(ctx._("No place yet. A coordinator can add one with /place add."))
    counts = dict(ctx.session.exec(select(Space.site_id, func.count()).where(Space.closed == False)  # noqa: E712
                                   .group_by(col(Space.site_id))).all())
    mine = home_place(ctx.session, ctx.member_id)
    from handlers.spaces import hours_summary

    lines = []
    for site in sites:
        assert site.id is not None
        n = int(counts.get(site.id, 0))
        line = f"• {site.name} ({site.slug}) — " + ctx.ngettext("{n} space", "{n} spaces", n).format(n=n)
        if site.id == mine:
            line += " — " + ctx._("your place")
        lines.append(line)
        info = place_info(ctx.session, site.id)
        if info is not None and info.address:
            lines.append("   " + info.address)
        if info is not None and info.opening_hours not in ("", "{}"):
            lines.append("   " + hours_summary(ctx, info.opening_hours))
    lines.append("")
    lines.append(ctx._("Choose your place with /place <name>; /spaces all lists the spaces of every place."))
    return Reply("\n".join(lines), title=ctx._("Places"))


def _read_name(ctx: Ctx, text: str) -> tuple[str | None, str]:
    """The new place's name: in quotes, or the words before the first setting."""
    if text[:1] in "\"“«„":
        return TitleArg("name", leading=True).read(ctx, text)
    words = text.split(" ") if text else []
    taken = []
    for word in words:
        if "=" in word:
            break
        taken.append(word)
    return (" ".join(taken)[:200] or None), " ".join(words[len(taken):])


def _read_settings(ctx: Ctx, text: str) -> tuple[dict[str, str] | None, str]:
    """adresse="…" and opening hours per weekday (mar=14:00-19:00)."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise UserError(ctx._("A quote is not closed."), example=ctx._(PLACE_EXAMPLE)) from None
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        weekday = weekday_of(key) if sep else None
        if weekday is not None:
            from handlers.spaces import _hours_value

            hours = _hours_value(value.strip())
            if hours is None:
                raise UserError(ctx._("I couldn't read the hours “{hours}”: write them like 09:00-18:00, or "
                                      "09:00-12:00,14:00-18:00.").format(hours=value[:40]),
                                example=ctx._(PLACE_EXAMPLE))
            pairs[WEEKDAYS[weekday]] = hours
        elif sep and fold(key) in ADDRESS_KEYS:
            pairs["address"] = value.strip()
        else:
            raise UserError(ctx._("I don't understand “{word}”. Give the address as address=\"…\" and the "
                                  "hours as tue=09:00-18:00.").format(word=word[:40]), example=ctx._(PLACE_EXAMPLE))
    return (pairs or None), ""


place = router.group("place", aliases=["lieu", "site"], help=N_("Choose your place; add a place; attach a group "
                                                                 "to a place"))


@place.sub("add", aliases=["ajouter", "creer", "nouveau"], coordinator_only=True,
           help=N_("Add a place to the network (network coordinators)"),
           args=(WordArg("slug", question=N_("Give the new place a short name, e.g. orgelet."),
                         label=N_("<short-name>")),
                 CustomArg("name", _read_name, stage=LEADING, label=N_('"<name>"')),
                 CustomArg("settings", _read_settings, stage=REST, label=N_("[address=…] [hours]"))),
           examples=(PLACE_EXAMPLE, N_('/place add foncine "Foncine-le-Haut"')))
def add(ctx: Ctx, slug: str, name: str | None, settings: dict[str, str] | None) -> Reply:
    pairs = dict(settings or {})
    address = pairs.pop("address", "")
    try:
        hours_json = hours_to_json(parse_hours(pairs)) if pairs else "{}"
        site = add_place(ctx.session, slug, name or slug, address, hours_json)
    except HoursFormatError:
        raise UserError(ctx._("I couldn't read these opening hours."), example=ctx._(PLACE_EXAMPLE)) from None
    except PlaceError as error:
        if error.code == "exists":
            raise UserError(ctx._("A place called {slug} already exists.").format(slug=slug.lower())) from None
        raise UserError(ctx._("A place's short name is lowercase letters, digits and hyphens, e.g. orgelet."),
                        example=ctx._(PLACE_EXAMPLE)) from None
    text = ctx._("Place added: {place} ({slug}).").format(place=site.name, slug=site.slug)
    text += "\n" + ctx._("Add its spaces with /space add <short-name> \"<name>\" place={slug}.").format(slug=site.slug)
    return Reply(text)


def _read_place(ctx: Ctx, text: str) -> tuple[str | None, str]:
    """The place's name as typed (found by the handler, so that examples read without the place)."""
    return (text or None), ""


def _place_or_all(ctx: Ctx, text: str | None) -> Site | None:
    """None: the whole network ("tout")."""
    return None if text is None or fold(text) in WHOLE_NETWORK else _place(ctx, text)


@place.sub("here", aliases=["ici"], help=N_("Attach this group to a place: its digest and announcements"),
           args=(CustomArg("place_name", _read_place, stage=REST, label=N_("<place>|all"),
                           optional=False, question=N_("Which place? e.g. /place here orgelet")),),
           examples=(N_("/place here orgelet"), N_("/place here all")))
def here(ctx: Ctx, place_name: str) -> Reply:
    place = _place_or_all(ctx, place_name)
    chat = ctx.incoming.chat
    t = ctx.chat_translator()
    if chat.is_private:
        raise UserError(ctx._("Write this in the group you want to attach to a place."))
    site_id = place.id if place is not None else None
    if not (ctx.can_manage(site_id) or ctx.is_chat_admin()):
        raise UserError(ctx._("Only the group's administrators or a coordinator can do that."))
    set_chat_place(ctx.session, chat.platform.value, chat.chat_id, site_id)
    if place is not None:
        return Reply(t.gettext("This group now follows {place}: its digest and announcements are that place's.")
                     .format(place=place.name))
    return Reply(t.gettext("This group now follows the whole network."))


@place.sub("choose", aliases=["choisir", "mon"], default=True, strict=False,
           help=N_("Choose your place: your lists show it first"),
           args=(CustomArg("place_name", _read_place, stage=REST, label=N_("<place>")),),
           examples=(N_("/place orgelet"),))
def choose(ctx: Ctx, place_name: str | None) -> Reply:
    place = _place_or_all(ctx, place_name)
    if place is None:
        mine = home_place(ctx.session, ctx.member_id)
        site = ctx.session.get(Site, mine) if mine is not None else None
        text = (ctx._("Your place: {place}.").format(place=site.name) if site is not None
                else ctx._("You haven't chosen your place yet."))
        return Reply(text + "\n" + ctx._("Which is your place?"), actions=_choice_buttons(ctx, "/place"))
    assert place.id is not None
    set_home_place(ctx.session, ctx.member_id, place.id)
    return Reply(ctx._("Your place is now {place}: your lists show it first. Another place: /spaces all, "
                       "or name it (/free {slug} tomorrow).").format(place=place.name, slug=place.slug))


@router.typed("coordinator", aliases=["coordinateur", "coordinatrice"], coordinator_only=True,
              help=N_("Name a coordinator of one place (network coordinators)"),
              args=(MemberArg("member", question=N_("Who? e.g. /coordinator alice orgelet")),
                    WordArg("place", last=True, label=N_("<place>"), sample="la-fabrique",
                            question=N_("Which place? e.g. /coordinator alice orgelet"))),
              examples=(N_("/coordinator alice orgelet"),))
def name_coordinator(ctx: Ctx, place: str, member: Member) -> Reply:
    site = _place(ctx, place)
    assert site.id is not None and member.id is not None
    if not add_place_coordinator(ctx.session, member.id, site.id):
        return Reply(ctx._("{member} already coordinates {place}.").format(member=member.display_name,
                                                                           place=site.name))
    ctx.notify_member(member.id, Reply(ctx.translator_for(member).gettext(
        "You are now a coordinator of {place}: you manage its spaces.").format(place=site.name)))
    return Reply(ctx._("{member} now coordinates {place} (its spaces, events, rota and report).").format(
        member=member.display_name, place=site.name))


def coordinated(ctx: Ctx) -> set[int]:
    return coordinated_sites(ctx.session, ctx.member_id)


def chat_site(ctx: Ctx) -> int | None:
    chat = ctx.incoming.chat
    return None if chat.is_private else chat_place(ctx.session, chat.platform.value, chat.chat_id)


# --- what other features call: who manages which place --------------------------------------------------


def places_guard(ctx: Ctx) -> None:
    """Before a coordinators' command reads its arguments: network coordinators and coordinators of a
    place go on (the handler then checks the place with require_manager); anyone else hears so at once."""
    if not ctx.is_coordinator and not coordinated(ctx):
        raise NotAllowed(ctx._(NOT_COORDINATOR))


def require_manager(ctx: Ctx, site: Site | None) -> None:
    """A place's coordinator acting on another place is told whose it is."""
    if not ctx.can_manage(site.id if site is not None else None):
        if site is None:
            raise NotAllowed(ctx._(NOT_COORDINATOR))
        raise NotAllowed(ctx._("Only the coordinators of {place} can do that.").format(place=site.name))


def space_place(ctx: Ctx, name: str | None) -> Site | None:
    """The place a new (or moved) space goes to: the one named (place=orgelet), else for a place
    coordinator the place they coordinate (if only one), else None (the first site, as before)."""
    if name:
        return _place(ctx, name)
    if ctx.is_coordinator:
        mine = home_place(ctx.session, ctx.member_id)
        return ctx.session.get(Site, mine) if mine is not None and len(places(ctx.session)) > 1 else None
    theirs = sorted(coordinated(ctx))
    if len(theirs) == 1:
        return ctx.session.get(Site, theirs[0])
    raise UserError(ctx._("At which place? Add place=<place>, e.g. place=orgelet."))


# --- lists that show the member's place first (/espaces, /dispo) ----------------------------------------

ALL = "all"


def read_place_scope(ctx: Ctx, text: str) -> tuple[Site | str | None, str]:
    """A place named at the start of a list command ("/dispo Orgelet demain"), or "tout"; only in a network,
    and only an exact name or short name, so that nothing else is taken for a place."""
    if not text or not is_network(ctx.session):
        return None, text
    words = text.split(" ")
    if fold(words[0]) in WHOLE_NETWORK:
        return ALL, " ".join(words[1:])
    sites = places(ctx.session)
    for n in range(min(4, len(words)), 0, -1):
        wanted = _key(" ".join(words[:n]))
        for site in sites:
            if wanted in (_key(site.slug), _key(site.name)):
                return site, " ".join(words[n:])
    return None, text


class Placed(Protocol):
    @property
    def site_id(self) -> int: ...

    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=Placed)


@dataclass(frozen=True)
class Scoped(Generic[P]):
    """What a list shows in a network: its items, a heading per place when several, and how to see others."""

    groups: list[tuple[str | None, list[P]]]  # (place name or None for a deployment of one place, items)
    footer: list[str]
    actions: tuple[Action, ...]


def scope(ctx: Ctx, items: Sequence[P], chosen: Site | str | None, how: str) -> Scoped[P]:
    """Items of the member's place (or the place named, or every place with ``ALL``); ``how``: the command
    with a place, for the footer ("/dispo {place} demain"). One place: everything, as before."""
    shown, footer, actions = scope_sites(ctx, chosen, how)
    if shown is None:
        return Scoped([(None, list(items))], [], ())
    names = site_names(ctx.session)
    groups: list[tuple[str | None, list[P]]] = [(names[i], [x for x in items if x.site_id == i]) for i in shown]
    return Scoped(groups, footer, actions)


def scope_sites(ctx: Ctx, chosen: Site | str | None, how: str) -> tuple[list[int] | None, list[str],
                                                                         tuple[Action, ...]]:
    """Which places a list shows (None: a deployment of one place, everything), home place first; the lines
    that say how to see the others; the buttons asking a member without a place for theirs."""
    sites = places(ctx.session)
    if len(sites) < 2:
        return None, [], ()
    mine = home_place(ctx.session, ctx.member_id)
    ids = [s.id for s in sites if s.id is not None]
    if isinstance(chosen, Site) and chosen.id is not None:
        shown = [chosen.id]
    elif chosen == ALL or mine is None:
        shown = sorted(ids, key=lambda i: (i != mine, i))
    else:
        shown = [mine]
    footer: list[str] = []
    actions: tuple[Action, ...] = ()
    if mine is None:
        footer.append(ctx._("Which is your place? Your lists will show it first (/place <name>)."))
        actions = _choice_buttons(ctx, "/place")
    others = [s for s in sites if s.id not in shown]
    if others:
        footer.append(ctx._("Other places: {places}. See one with {example}, or all with {all}.").format(
            places=", ".join(s.name for s in others), example=how.format(place=others[0].slug),
            all=how.format(place=ctx._("all"))))
    return shown, footer, actions


# --- the report per place and for the network -------------------------------------------------------------


def _read_period(ctx: Ctx, text: str) -> tuple[str | None, str]:
    return (text or None), ""


def _figures_line(ctx: Ctx, name: str, f: PlaceFigures) -> str:
    return ctx._("{place}: {bookings} ({hours}), {events}, {signups}").format(
        place=name, bookings=ctx.ngettext("{n} booking", "{n} bookings", f.bookings).format(n=f.bookings),
        hours=ctx.translator.fmt_duration(f.booked_minutes),
        events=ctx.ngettext("{n} event", "{n} events", f.events).format(n=f.events),
        signups=ctx.ngettext("{n} sign-up", "{n} sign-ups", f.signups).format(n=f.signups))


@place.sub("report", aliases=["bilan"], guard=places_guard,
           help=N_("The figures of each place side by side, and the network's total (coordinators)"),
           args=(CustomArg("period", _read_period, stage=REST, label=N_("[month|YYYY-MM|year|YYYY]")),),
           examples=(N_("/place report 2026-11"), N_("/place report year")))
def place_report(ctx: Ctx, period: str | None) -> Reply:
    from handlers.volunteers import period_label, today_of
    from storage.volunteer_rules import PeriodError, parse_period

    try:
        chosen = parse_period(period or "", today_of(ctx))
    except PeriodError:
        raise UserError(ctx._("Which period? month, year, a month like 2026-11 or a year like 2026."),
                        example=ctx._("/place report 2026-11")) from None
    start = datetime.combine(chosen.start, time(0), tzinfo=ctx.tz)
    end = datetime.combine(chosen.end, time(0), tzinfo=ctx.tz)
    figures = place_figures(ctx.session, start, end)
    sites = [s for s in places(ctx.session) if ctx.can_manage(s.id)]
    lines = [_figures_line(ctx, s.name, figures.get(s.id, PlaceFigures())) for s in sites]
    if ctx.is_coordinator:
        if None in figures:
            lines.append(_figures_line(ctx, ctx._("(at no place in particular)"), figures[None]))
        total = sum(figures.values(), PlaceFigures())
        lines.append(_figures_line(ctx, ctx._("Network (total)"), total))
    return Reply("\n".join(lines), title=ctx._("Report by place — {period}").format(
        period=period_label(ctx.translator, chosen)))


PLACE_PREFIX = {"lieu", "place", "site"}


def announcement_target(ctx: Ctx, text: str) -> tuple[Site | None, str]:
    """An announcement for one place starts with lieu=<place> ("/annonce lieu=orgelet Le café ferme samedi");
    any other text is for the whole network."""
    first, _, rest = text.strip().partition(" ")
    key, sep, value = first.replace(":", "=", 1).partition("=")
    if not sep or fold(key) not in PLACE_PREFIX:
        return None, text
    if not value or not rest.strip():
        raise UserError(ctx._("Write the place, then the announcement: /announce place=orgelet The café is closed "
                              "on Saturday."))
    return _place(ctx, value), rest.strip()


def read_place_setting(ctx: Ctx, text: str) -> tuple[str | None, str]:
    """``lieu=orgelet`` (or place=, site=) anywhere in the text: the place's name, and the text without it."""
    words = text.split(" ") if text else []
    for index, word in enumerate(words):
        key, sep, value = word.partition("=")
        if sep and value and fold(key) in PLACE_PREFIX:
            return value, " ".join(words[:index] + words[index + 1:])
    return None, text


def managed_place(ctx: Ctx, name: str | None) -> Site | None:
    """The place something new belongs to: the one named; else none (the network's) for a network coordinator,
    the place they coordinate for a place's coordinator (asked when they coordinate several)."""
    if name:
        return _place(ctx, name)
    if ctx.is_coordinator:
        return None
    theirs = sorted(coordinated(ctx))
    if len(theirs) == 1:
        return ctx.session.get(Site, theirs[0])
    raise UserError(ctx._("At which place? Add place=<place>, e.g. place=orgelet."))


@router.after_reply
def ask_place_at_first_command(ctx: Ctx, command: Command, replies: list[Reply]) -> list[Reply]:
    """A new member's first command in private, in a network of places: its answer ends with the question of
    their place and a button per place — the command itself is done as usual. Once: only the command that made
    the member (afterwards /bonjour and the lists ask, while they have no place)."""
    if (ctx.session.info.get("new_member_id") != ctx.member_id or not ctx.incoming.chat.is_private or not replies
            or replies[-1].edit_original or command.name in {"place", "places"}):
        return replies
    question, buttons = ask_home_place(ctx)
    last = replies[-1]
    if not question or question.strip() in last.text:
        return replies
    return [*replies[:-1], replace(last, text=last.text + "\n" + question, actions=last.actions + buttons)]


def ask_home_place(ctx: Ctx) -> tuple[str, tuple[Action, ...]]:
    """At a member's hello in a network of places, while they have no place: the question and a button per
    place; nothing otherwise."""
    if not is_network(ctx.session) or home_place(ctx.session, ctx.member_id) is not None:
        return "", ()
    return "\n" + ctx._("Which is your place? Your lists will show it first (/place <name>)."), _choice_buttons(
        ctx, "/place")
