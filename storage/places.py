"""A network of places (issue 18): who may manage which place, members' and chats' places, place names.

A deployment with one place has no rows in the place tables and behaves as before: its only site is
everyone's place, and coordinators (COORDINATORS, Member.is_coordinator) manage everything."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import Booking, Site, Space
from storage.models_events import OCCURRENCE_SCHEDULED, SIGNUP_CONFIRMED, Event, EventOccurrence, EventSignup
from storage.models_places import AnnouncementPlace, ChatPlace, MemberPlace, PlaceCoordinator, PlaceInfo, RotaSlotPlace
from storage.opening_hours import HoursFormatError, hours_to_json, parse_hours
from storage.prepared import Prepared, flushed_connection
from storage.spaces import SLUG_RE, match_space


def can_manage(is_network_coordinator: bool, site_id: int | None, coordinated: Collection[int]) -> bool:
    """Whether someone may manage a place's spaces, events, rota and report. Network coordinators manage
    every place and what belongs to none (``site_id`` None); a place's coordinators manage only theirs."""
    if is_network_coordinator:
        return True
    return site_id is not None and site_id in coordinated


class PlaceError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "slug" | "exists"


def places(session: Session) -> list[Site]:
    return list(session.exec(select(Site).order_by(Site.id)))  # type: ignore[arg-type]


def is_network(session: Session) -> bool:
    """More than one place: lists say which place, members are asked theirs. Read from the catalog of
    spaces and sites kept in memory (storage.catalog): no query while no space or site changed."""
    from storage.catalog import space_catalog

    return len(space_catalog(session).sites) > 1


def place_info(session: Session, site_id: int) -> PlaceInfo | None:
    return session.get(PlaceInfo, site_id)


def add_place(session: Session, slug: str, name: str, address: str = "", hours_json: str = "{}") -> Site:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise PlaceError("slug")
    if session.exec(select(Site).where(Site.slug == slug)).first() is not None:
        raise PlaceError("exists")
    site = Site(slug=slug, name=(name.strip() or slug)[:200])
    session.add(site)
    session.flush()
    assert site.id is not None
    session.add(PlaceInfo(site_id=site.id, address=address[:300], opening_hours=hours_json))
    session.flush()
    return site


def find_place(session: Session, query: str) -> Site:
    """A place by slug or name, like a space (raises storage.spaces.SpaceNotFound / AmbiguousSpace)."""
    return match_space(places(session), query)


def home_place(session: Session, member_id: int) -> int | None:
    """The member's place: the one they chose, or the only place there is; None when they must choose."""
    row = session.get(MemberPlace, member_id)
    if row is not None:
        return row.site_id
    ids = session.exec(select(Site.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def set_home_place(session: Session, member_id: int, site_id: int) -> None:
    row = session.get(MemberPlace, member_id)
    if row is None:
        session.add(MemberPlace(member_id=member_id, site_id=site_id))
    else:
        row.site_id = site_id
        session.add(row)


def chat_place(session: Session, platform: str, chat_id: str) -> int | None:
    row = session.get(ChatPlace, (platform, chat_id))
    return row.site_id if row is not None else None


def set_chat_place(session: Session, platform: str, chat_id: str, site_id: int | None) -> None:
    """Attach a group chat to a place (None: to the whole network again)."""
    row = session.get(ChatPlace, (platform, chat_id))
    if site_id is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(ChatPlace(platform=platform, chat_id=chat_id, site_id=site_id))
    else:
        row.site_id = site_id
        session.add(row)


_COORDINATED_SITES = Prepared(select(col(PlaceCoordinator.site_id)).where(
    col(PlaceCoordinator.member_id) == bindparam("member_id")))  # /help asks it at every call: built once


def coordinated_sites(session: Session, member_id: int) -> set[int]:
    connection = flushed_connection(session)  # a coordinator added earlier in this transaction is one
    return {int(row[0]) for row in _COORDINATED_SITES.rows(connection, {"member_id": member_id})}


def add_place_coordinator(session: Session, member_id: int, site_id: int) -> bool:
    """False when they already coordinate it."""
    if site_id in coordinated_sites(session, member_id):
        return False
    session.add(PlaceCoordinator(member_id=member_id, site_id=site_id))
    return True


def place_coordinator_ids(session: Session, site_id: int) -> list[int]:
    return list(session.exec(select(PlaceCoordinator.member_id).where(PlaceCoordinator.site_id == site_id)
                             .order_by(col(PlaceCoordinator.member_id))))


class NamedSpace(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def site_id(self) -> int: ...

    @property
    def name(self) -> str: ...


def display_names(spaces: Sequence[NamedSpace], site_names: dict[int, str]) -> dict[int | None, str]:
    """Each space's name, followed by its place's when another place has a space of the same name:
    "Salle de réunion (Orgelet)"."""
    seen = Counter(s.name.casefold() for s in spaces)
    sites_of: dict[str, set[int]] = {}
    for s in spaces:
        sites_of.setdefault(s.name.casefold(), set()).add(s.site_id)
    return {s.id: (f"{s.name} ({site_names.get(s.site_id, '?')})"
                   if seen[s.name.casefold()] > 1 and len(sites_of[s.name.casefold()]) > 1 else s.name)
            for s in spaces}


def space_display_name(session: Session, space: NamedSpace) -> str:
    """One space's name, told apart from a same-named space at another place (from the spaces and sites held
    in memory, storage.catalog: no query but the catalog's version)."""
    from storage.catalog import space_catalog

    return space_catalog(session).display_name(space.name, space.site_id)


def site_names(session: Session, ids: Iterable[int] | None = None) -> dict[int, str]:
    query = select(Site.id, Site.name)
    if ids is not None:
        query = query.where(col(Site.id).in_(list(ids)))
    return {int(i or 0): n for i, n in session.exec(query)}


def import_network(session: Session, data: Mapping[str, Any]) -> tuple[int, int]:
    """A spaces file with several ``[[sites]]``, each with its ``[[sites.spaces]]`` (and optionally
    ``address`` and ``[sites.hours]``, the default hours of its spaces and the place's opening hours).
    Space short names are unique across the network. Returns (created, updated)."""
    from storage.spaces import SpaceFileError, import_spaces

    entries = data.get("sites")
    if not isinstance(entries, list) or not entries:
        raise SpaceFileError("[[sites]]: at least one site is needed")
    slugs = [str(s.get("slug", "")).strip().lower() for e in entries for s in (e.get("spaces") or [])]
    if len(set(slugs)) != len(slugs):
        raise SpaceFileError("a space slug appears at two sites; slugs are unique across the network")
    created = updated = 0
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping) or not entry.get("slug"):
            raise SpaceFileError(f"[[sites]] #{number}: 'slug' is required")
        site_part = {k: v for k, v in entry.items() if k != "spaces"}
        made, changed = import_spaces(session, {"site": site_part, "spaces": entry.get("spaces") or []})
        created, updated = created + made, updated + changed
        site = session.exec(select(Site).where(Site.slug == str(entry["slug"]).strip().lower())).one()
        assert site.id is not None
        info = session.get(PlaceInfo, site.id) or PlaceInfo(site_id=site.id)
        info.address = str(entry.get("address", info.address))[:300]
        if entry.get("hours"):
            try:
                info.opening_hours = hours_to_json(parse_hours(entry["hours"]))
            except HoursFormatError as error:
                raise SpaceFileError(f"[[sites]] #{number}: {error}", "hours") from None
        session.add(info)
    session.flush()
    return created, updated


@dataclass(frozen=True)
class PlaceFigures:
    """A place's activity over a period; every figure adds up across places to the network's."""

    bookings: int = 0  # active bookings starting in the period
    booked_minutes: int = 0
    events: int = 0  # event dates (scheduled) starting in the period
    signups: int = 0  # confirmed sign-ups to those dates

    def __add__(self, other: PlaceFigures) -> PlaceFigures:
        return PlaceFigures(self.bookings + other.bookings, self.booked_minutes + other.booked_minutes,
                            self.events + other.events, self.signups + other.signups)


def place_figures(session: Session, start: datetime, end: datetime) -> dict[int | None, PlaceFigures]:
    """Figures per place (site id) for [start, end); key None: events held at no space in particular."""
    found: dict[int | None, PlaceFigures] = {}
    bookings = session.exec(select(Space.site_id, Booking.start, Booking.end)
                            .join(Space, col(Space.id) == Booking.space_id)
                            .where(Booking.status == "active", col(Booking.start) >= start,
                                   col(Booking.start) < end)).all()
    for site_id, b_start, b_end in bookings:
        minutes = round((b_end - b_start).total_seconds() / 60)
        found[site_id] = found.get(site_id, PlaceFigures()) + PlaceFigures(bookings=1, booked_minutes=minutes)
    occurrences = session.exec(select(EventOccurrence.id, Space.site_id)
                               .join(Event, col(Event.id) == EventOccurrence.event_id)
                               .outerjoin(Space, col(Space.id) == Event.space_id)
                               .where(EventOccurrence.status == OCCURRENCE_SCHEDULED,
                                      col(EventOccurrence.start) >= start, col(EventOccurrence.start) < end)).all()
    site_of = {int(occ_id or 0): site_id for occ_id, site_id in occurrences}
    signups = Counter(session.exec(select(EventSignup.occurrence_id).where(
        col(EventSignup.occurrence_id).in_(list(site_of)), EventSignup.status == SIGNUP_CONFIRMED)).all())
    for occ_id, site_id in site_of.items():
        found[site_id] = found.get(site_id, PlaceFigures()) + PlaceFigures(events=1, signups=signups[occ_id])
    return found


class Subscribed(Protocol):
    @property
    def platform(self) -> str: ...

    @property
    def chat_id(self) -> str: ...


S = TypeVar("S", bound=Subscribed)


def announcement_place(session: Session, announcement_id: int) -> int | None:
    row = session.get(AnnouncementPlace, announcement_id)
    return row.site_id if row is not None else None


def set_announcement_place(session: Session, announcement_id: int, site_id: int) -> None:
    session.add(AnnouncementPlace(announcement_id=announcement_id, site_id=site_id))


def for_place(session: Session, subscriptions: Sequence[S], site_id: int | None) -> list[S]:
    """The subscribed chats an announcement goes to: all of them, or (one place's) the chats attached to it."""
    if site_id is None:
        return list(subscriptions)
    attached = {(p, c) for p, c in session.exec(select(ChatPlace.platform, ChatPlace.chat_id)
                                                 .where(ChatPlace.site_id == site_id))}
    return [s for s in subscriptions if (s.platform, s.chat_id) in attached]




def set_rota_slot_place(session: Session, rota_slot_id: int, site_id: int) -> None:
    session.add(RotaSlotPlace(rota_slot_id=rota_slot_id, site_id=site_id))


def rota_slot_place(session: Session, rota_slot_id: int) -> int | None:
    row = session.get(RotaSlotPlace, rota_slot_id)
    return row.site_id if row is not None else None


def shift_places(session: Session, shift_ids: Sequence[int]) -> dict[int, int]:
    """The place of each rota shift that belongs to a place's rota line (shift id -> site id)."""
    from storage.models_volunteers import Shift

    rows = session.exec(select(Shift.id, RotaSlotPlace.site_id)
                        .join(RotaSlotPlace, col(RotaSlotPlace.rota_slot_id) == Shift.rota_slot_id)
                        .where(col(Shift.id).in_(list(shift_ids)))).all()
    return {int(i or 0): site for i, site in rows}


def shift_sites(session: Session, shift_ids: Sequence[int]) -> dict[int, int]:
    """The place of each shift (shift id -> site id): its space's place, else its rota line's place. A shift
    at no space and on no place's line is the network's (absent from the result)."""
    from storage.models_volunteers import Shift

    ids = list(shift_ids)
    if not ids:
        return {}
    rows = session.exec(select(Shift.id, Space.site_id).join(Space, col(Space.id) == Shift.space_id)
                        .where(col(Shift.id).in_(ids))).all()
    result = {int(i or 0): site for i, site in rows}
    for shift_id, site in shift_places(session, ids).items():
        result.setdefault(shift_id, site)
    return result
