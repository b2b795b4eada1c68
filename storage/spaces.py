"""Sites and spaces: lookup by slug or name, import from TOML, edits by coordinators."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlmodel import Session, select

from bot.core.router import fold
from storage.booking_rules import SpaceRules
from storage.models import Site, Space
from storage.opening_hours import HoursFormatError, hours_from_json, hours_to_json, parse_hours

SPACE_KINDS = ("desk", "meeting_room", "machine", "kitchen", "room", "other")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class SpaceName(Protocol):
    @property
    def slug(self) -> str: ...

    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=SpaceName)


class SpaceFileError(ValueError):
    """A spaces file or a space edit that can't be loaded; the message says where and why (in English,
    for the command line); ``code`` and ``params`` let a chat handler say it in the member's language."""

    def __init__(self, message: str, code: str = "file", **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class SpaceNotFound(LookupError):
    def __init__(self, query: str, suggestions: Sequence[Any]) -> None:
        super().__init__(query)
        self.query = query
        self.suggestions = list(suggestions)


class AmbiguousSpace(LookupError):
    def __init__(self, query: str, candidates: Sequence[Any]) -> None:
        super().__init__(query)
        self.query = query
        self.candidates = list(candidates)


def rules_of(space: Space) -> SpaceRules:
    return SpaceRules(
        capacity=space.capacity,
        hours=hours_from_json(space.opening_hours),
        max_duration=timedelta(minutes=space.max_duration_minutes),
        max_days_ahead=space.max_days_ahead,
        weekly_quota=timedelta(minutes=space.weekly_quota_minutes) if space.weekly_quota_minutes else None,
        required_qualification=space.required_qualification,
        closed=space.closed,
    )


def list_spaces(session: Session, include_closed: bool = False) -> list[Space]:
    query = select(Space).order_by(Space.site_id, Space.name)  # type: ignore[arg-type]
    if not include_closed:
        query = query.where(Space.closed == False)  # noqa: E712
    return list(session.exec(query))


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def key_of(text: str) -> str:
    """How a space's name or slug is compared: accents, case, hyphens and punctuation ignored."""
    return _key(text)


@lru_cache(maxsize=8192)
def _words(name: str, slug: str) -> tuple[str, ...]:
    return tuple(f"{_key(name)} {_key(slug)}".split())


class SpaceIndex(Generic[S]):
    """Spaces (or sites) ready to be found by what a member typed: the exact slugs and names in dicts, the
    words for prefix matching computed once. Built once per catalog version (storage.catalog), not per
    command; the functions below also accept a plain sequence (they index it on the spot)."""

    def __init__(self, spaces: Sequence[S]) -> None:
        self.spaces: tuple[S, ...] = tuple(spaces)
        # the first space, in order, whose slug or name is exactly the key (a lookup by the whole query)
        self.first: dict[str, S] = {}
        for space in self.spaces:
            self.first.setdefault(_key(space.slug), space)
            self.first.setdefault(_key(space.name), space)
        # leading words naming a space: a slug wins over a name, the last space of a name wins (as before)
        self.exact: dict[str, S] = {_key(s.name): s for s in self.spaces} | {_key(s.slug): s for s in self.spaces}
        self._words: list[tuple[S, tuple[str, ...]]] | None = None

    def words(self) -> list[tuple[S, tuple[str, ...]]]:
        if self._words is None:
            self._words = [(s, _words(s.name, s.slug)) for s in self.spaces]
        return self._words

    def candidates(self, query: str) -> list[S]:
        """Exact slug/name match first, else every space whose words start with the query's words."""
        wanted = _key(query)
        if not wanted:
            return []
        exact = self.first.get(wanted)
        if exact is not None:
            return [exact]
        words = wanted.split()
        return [s for s, keys in self.words() if all(any(k.startswith(w) for k in keys) for w in words)]

    def not_found(self, query: str) -> SpaceNotFound:
        names = {_key(s.slug): s for s in self.spaces} | {_key(s.name): s for s in self.spaces}
        suggestions: list[S] = []
        for key in difflib.get_close_matches(_key(query), list(names), n=3, cutoff=0.6):
            if names[key] not in suggestions:
                suggestions.append(names[key])
        return SpaceNotFound(query, suggestions)


def index_of(spaces: Sequence[S] | SpaceIndex[S]) -> SpaceIndex[S]:
    return spaces if isinstance(spaces, SpaceIndex) else SpaceIndex(spaces)


def match_space(spaces: Sequence[S] | SpaceIndex[S], query: str) -> S:
    """Find a space by slug or name, ignoring case, accents, hyphens and small words."""
    index = index_of(spaces)
    hits = index.candidates(query)
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise AmbiguousSpace(query, hits)
    raise index.not_found(query)


def split_space_and_rest(spaces: Sequence[S] | SpaceIndex[S], text: str) -> tuple[S, str]:
    """'salle reunion demain 14h' -> (Salle de réunion, 'demain 14h'): the longest leading words that
    name exactly one space. Otherwise the longest ambiguity, or "not found" with suggestions for
    the first word. Exact names are looked up in a dict; words are compared only when none is exact."""
    index = index_of(spaces)
    words = text.split()
    for count in range(min(len(words), 6), 0, -1):
        found = index.exact.get(_key(" ".join(words[:count])))
        if found is not None:
            return found, " ".join(words[count:])
    ambiguous: AmbiguousSpace | None = None
    for count in range(min(len(words), 6), 0, -1):
        hits = index.candidates(" ".join(words[:count]))
        if len(hits) == 1:
            return hits[0], " ".join(words[count:])
        if hits and ambiguous is None:
            ambiguous = AmbiguousSpace(" ".join(words[:count]), hits)
    raise ambiguous or index.not_found(words[0] if words else text)


@dataclass(frozen=True)
class SpaceView:
    """A space as read-only commands see it, with its rules already parsed."""

    id: int
    site_id: int
    slug: str
    name: str
    kind: str
    capacity: int
    required_qualification: str | None
    closed: bool
    rules: SpaceRules


_VIEW_COLUMNS = (Space.id, Space.site_id, Space.slug, Space.name, Space.kind, Space.capacity,
                 Space.required_qualification, Space.closed, Space.opening_hours, Space.max_duration_minutes,
                 Space.max_days_ahead, Space.weekly_quota_minutes)


@lru_cache(maxsize=4096)
def _view(row: tuple[Any, ...]) -> SpaceView:
    sid, site_id, slug, name, kind, capacity, qualification, closed, hours, max_min, ahead, quota = row
    rules = SpaceRules(
        capacity=capacity, hours=hours_from_json(hours), max_duration=timedelta(minutes=max_min),
        max_days_ahead=ahead, weekly_quota=timedelta(minutes=quota) if quota else None,
        required_qualification=qualification, closed=closed,
    )
    return SpaceView(sid, site_id, slug, name, kind, capacity, qualification, closed, rules)


def space_views(session: Session, include_closed: bool = False) -> list[SpaceView]:
    """Every space (ordered by site, then name), from the catalog held in memory (storage.catalog: checked
    against the database's catalog version, so an edit by any process is seen at the next command)."""
    from storage.catalog import space_catalog

    catalog = space_catalog(session)
    return list(catalog.views if include_closed else catalog.open_views)


class SpaceKey(Protocol):
    """What finding a space by what a member typed needs: its id, slug and name."""

    @property
    def id(self) -> int: ...

    @property
    def slug(self) -> str: ...

    @property
    def name(self) -> str: ...


def space_keys(session: Session, include_closed: bool = False) -> list[SpaceKey]:
    """Every space's id, slug and name, in ``space_views``' order (from the catalog)."""
    return cast(list[SpaceKey], space_views(session, include_closed))


def space_index(session: Session, include_closed: bool = False) -> SpaceIndex[SpaceView]:
    """The spaces indexed for finding one by what a member typed (from the catalog)."""
    from storage.catalog import space_catalog

    catalog = space_catalog(session)
    return catalog.all_index if include_closed else catalog.open_index


def space_view(session: Session, space_id: int) -> SpaceView | None:
    """One space as ``space_views`` shows it (from the catalog)."""
    from storage.catalog import space_catalog

    return space_catalog(session).by_id.get(space_id)


def space_fields(entry: Mapping[str, Any], where: str, default_hours: Mapping[str, Any]) -> dict[str, Any]:
    try:
        slug = str(entry["slug"]).strip().lower()
        name = str(entry.get("name", slug)).strip()
    except KeyError:
        raise SpaceFileError(f"{where}: 'slug' is required") from None
    if not SLUG_RE.match(slug):
        raise SpaceFileError(f"{where}: slug '{slug}' must be lowercase letters, digits and hyphens", "slug", slug=slug)
    kind = str(entry.get("kind", "room"))
    if kind not in SPACE_KINDS:
        raise SpaceFileError(f"{where}: kind '{kind}' is not one of {', '.join(SPACE_KINDS)}", "kind", kind=kind)
    try:
        capacity = int(entry.get("capacity", 1))
        max_hours = float(entry.get("max_hours", 8))
        max_days_ahead = int(entry.get("max_days_ahead", 90))
        quota = entry.get("weekly_quota_hours")
        quota_minutes = round(float(quota) * 60) if quota not in (None, "", 0) else None
    except (TypeError, ValueError):
        raise SpaceFileError(
            f"{where}: capacity, max_hours, max_days_ahead and weekly_quota_hours must be numbers", "numbers"
        ) from None
    if capacity < 1 or capacity > 1000:
        raise SpaceFileError(f"{where}: capacity must be between 1 and 1000", "capacity")
    if not 0 < max_hours <= 24 * 14 or not 0 <= max_days_ahead <= 730:
        raise SpaceFileError(f"{where}: max_hours must be 0-336 and max_days_ahead 0-730", "limits")
    try:
        hours = parse_hours(entry.get("hours", default_hours))
    except HoursFormatError as error:
        raise SpaceFileError(f"{where}: {error}", "hours") from None
    requires = entry.get("requires")
    return {
        "slug": slug,
        "name": name[:200],
        "kind": kind,
        "capacity": capacity,
        "opening_hours": hours_to_json(hours),
        "max_duration_minutes": round(max_hours * 60),
        "max_days_ahead": max_days_ahead,
        "weekly_quota_minutes": quota_minutes,
        "required_qualification": str(requires).strip().lower() if requires else None,
        "description": str(entry.get("description", ""))[:1000],
        "closed": bool(entry.get("closed", False)),
    }


def import_spaces(session: Session, data: Mapping[str, Any]) -> tuple[int, int]:
    """Create or update the site and spaces described by ``data`` (a parsed spaces TOML).
    Validates everything before writing anything. Returns (created, updated).
    Several ``[[sites]]`` (a network of places): see storage.places.import_network."""
    if "sites" in data:
        from storage.places import import_network

        return import_network(session, data)
    site_data = data.get("site", {})
    site_slug = str(site_data.get("slug", "main")).strip().lower()
    if not SLUG_RE.match(site_slug):
        raise SpaceFileError(f"[site]: slug '{site_slug}' must be lowercase letters, digits and hyphens")
    default_hours = site_data.get("hours", {})
    entries = data.get("spaces", [])
    if not isinstance(entries, list) or not entries:
        raise SpaceFileError("no [[spaces]] entries found")
    fields = [space_fields(e, f"[[spaces]] #{n}", default_hours) for n, e in enumerate(entries, 1)]
    slugs = [f["slug"] for f in fields]
    if len(set(slugs)) != len(slugs):
        raise SpaceFileError("a slug appears twice in [[spaces]]")

    site = session.exec(select(Site).where(Site.slug == site_slug)).first()
    if site is None:
        site = Site(slug=site_slug, name=str(site_data.get("name", site_slug))[:200])
        session.add(site)
        session.flush()
    elif "name" in site_data:
        site.name = str(site_data["name"])[:200]
    created = updated = 0
    for values in fields:
        space = session.exec(select(Space).where(Space.slug == values["slug"])).first()
        if space is None:
            assert site.id is not None
            session.add(Space(site_id=site.id, **values))
            created += 1
        else:
            for name, value in values.items():
                setattr(space, name, value)
            updated += 1
    session.flush()
    return created, updated


def load_spaces_file(path: Path) -> dict[str, Any]:
    import tomllib  # read at a new database's seeding or an import only: not kept loaded by a running bot

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SpaceFileError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise SpaceFileError(f"{path}: not valid TOML ({error})") from None


def default_site(session: Session) -> Site | None:
    return session.exec(select(Site).order_by(Site.id)).first()  # type: ignore[arg-type]


def space_as_entry(space: Space) -> dict[str, Any]:
    """A space in the shape of a spaces-file entry, so edits go through the same validation."""
    import json

    return {
        "slug": space.slug,
        "name": space.name,
        "kind": space.kind,
        "capacity": space.capacity,
        "max_hours": space.max_duration_minutes / 60,
        "max_days_ahead": space.max_days_ahead,
        "weekly_quota_hours": (space.weekly_quota_minutes or 0) / 60 or None,
        "requires": space.required_qualification,
        "description": space.description,
        "closed": space.closed,
        "hours": json.loads(space.opening_hours or "{}"),
    }
