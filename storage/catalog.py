"""The spaces and sites held in memory, one copy per database (engine), rebuilt when the database says they
changed (issue 15).

Every command finds spaces by name (the grammar's SpaceArg), /free and /book list them, answers name them:
reading every space each time cost more than the rest of a command with 2,000 spaces. The copy is checked at
each use against one row, ``catalogversion`` (storage.models_catalog), which triggers (migration 0022) set to
a new random value in the same transaction as any write to ``space`` or ``site``. So:

- a space added, renamed or closed by another process (two ``tierslieu run`` on one PostgreSQL database),
  by the CLI's import or by a coordinator's /space edit is seen by the next command that looks, anywhere;
- the copy matches the snapshot of the transaction that reads the version (the version is read first, the
  rows after it; on PostgreSQL a newer copy under an older version only costs a rebuild at the next use);
- a copy built inside a transaction that wrote spaces and then rolled back is never used again: its version
  was a random value nobody will commit.

A transaction's own pending ORM changes to spaces are flushed first (as the ORM queries that read spaces did).

The version is read once per transaction (``remember_version``; the dispatcher's asker query reads it as one
more column, so a command reads it in no statement of its own): a command that looks spaces up and names
them in its answer reads it once, not at each look. What the transaction itself writes is never missed: the
remembered version is forgotten at any statement SQLAlchemy sends that is not a SELECT and names ``space`` or
``site`` (a flush of a Space or Site, a Core or ORM insert/update/delete, ``text()``, ``exec_driver_sql``), and
at a rollback (to a savepoint, or whole), so the next look reads the version again, which a write to the
tables changed. Statements run on the driver's connection directly (``storage.prepared``'s fast path) are not
seen: none of them writes spaces or sites (a Prepared write to them would have to forget the version). On
PostgreSQL (READ COMMITTED) a command sees the catalog as of its first statement.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event, literal_column, select
from sqlmodel import Session, col

from storage.models import Site, Space
from storage.models_catalog import CatalogVersion
from storage.prepared import Prepared, flushed_connection
from storage.spaces import _VIEW_COLUMNS, SpaceIndex, SpaceView, _view

_VERSION = Prepared(select(col(CatalogVersion.version)).where(col(CatalogVersion.name) == literal_column("'spaces'")))
_SPACES = select(*_VIEW_COLUMNS).order_by(Space.site_id, Space.name)  # type: ignore[call-overload]
_SITES = select(col(Site.id), col(Site.slug), col(Site.name)).order_by(col(Site.id))


@dataclass(frozen=True)
class SiteRow:
    id: int
    slug: str
    name: str


@dataclass
class SpaceCatalog:
    """Every space and site as of one catalog version. Read-only once built (shared between threads)."""

    version: int | None
    views: tuple[SpaceView, ...]  # every space, ordered by site, then name
    sites: tuple[SiteRow, ...]  # ordered by id
    open_views: tuple[SpaceView, ...] = field(init=False)
    by_id: dict[int, SpaceView] = field(init=False)
    site_names: dict[int, str] = field(init=False)
    _indexes: dict[bool, SpaceIndex[SpaceView]] = field(init=False, default_factory=dict)
    _sites_by_name: dict[str, set[int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.open_views = tuple(v for v in self.views if not v.closed)
        self.by_id = {v.id: v for v in self.views}
        self.site_names = {s.id: s.name for s in self.sites}
        for view in self.views:
            self._sites_by_name.setdefault(view.name, set()).add(view.site_id)

    def index(self, include_closed: bool) -> SpaceIndex[SpaceView]:
        found = self._indexes.get(include_closed)
        if found is None:  # built at first use: two threads may both build it, the same value
            found = self._indexes[include_closed] = SpaceIndex(self.views if include_closed else self.open_views)
        return found

    @property
    def open_index(self) -> SpaceIndex[SpaceView]:
        return self.index(False)

    @property
    def all_index(self) -> SpaceIndex[SpaceView]:
        return self.index(True)

    def display_name(self, name: str, site_id: int) -> str:
        """A space's name, followed by its place's when a space of another place has the same name (closed
        ones included): "Salle de réunion (Orgelet)". As storage.places.space_display_name answers."""
        sites = self._sites_by_name.get(name, set())
        if not sites - {site_id}:
            return name
        return f"{name} ({self.site_names.get(site_id, '?')})"


_catalogs: weakref.WeakKeyDictionary[Engine, SpaceCatalog] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

# The version this transaction read, on its Connection: (the connection's root transaction, version).
_REMEMBERED = "_tierslieu_catalog_version"
_watched: weakref.WeakSet[Engine] = weakref.WeakSet()
# SQL that may write the catalog: anything but a SELECT that names one of its tables.
_CATALOG_TABLES = re.compile(r"\b(space|site)\b", re.IGNORECASE)


def read_version(connection: Connection) -> int | None:
    """The catalog version in this transaction (None: no row, then nothing is kept in memory): one tiny
    statement compiled once (storage.prepared)."""
    rows = _VERSION.rows(connection)
    return int(rows[0][0]) if rows else None


def remember_version(connection: Connection, version: int | None) -> None:
    """Keep the version just read in this transaction (by a statement that also read something else, the
    asker query) for the next ``space_catalog`` of the same transaction. Call it only right after reading
    the version, with no write in between."""
    if version is None:
        return
    engine = connection.engine
    if engine not in _watched:
        _watch(engine)
    connection.__dict__[_REMEMBERED] = (connection.get_transaction(), version)


def _remembered(connection: Connection) -> int | None:
    found = connection.__dict__.get(_REMEMBERED)
    if found is not None and found[0] is connection.get_transaction():
        return int(found[1])
    return None


def _watch(engine: Engine) -> None:
    """Forget the remembered version at whatever may change the catalog in the transaction: every statement
    SQLAlchemy sends (ORM flushes, Core, ``text()``, ``exec_driver_sql``; the dialect's execute events see
    the SQL as sent) that is not a SELECT and names ``space`` or ``site``, and a rollback."""
    with _lock:
        if engine in _watched:
            return

        def _on_statement(statement: str, context: Any) -> None:
            connection = getattr(context, "root_connection", None)
            if connection is not None and connection.__dict__.get(_REMEMBERED) is not None \
                    and _may_write_catalog(statement):
                connection.__dict__[_REMEMBERED] = None

        @event.listens_for(engine, "do_execute")
        def _on_execute(_cursor: Any, statement: str, _parameters: Any, context: Any) -> None:
            _on_statement(statement, context)  # returns None: the dialect still runs it

        @event.listens_for(engine, "do_executemany")
        def _on_executemany(_cursor: Any, statement: str, _parameters: Any, context: Any) -> None:
            _on_statement(statement, context)

        @event.listens_for(engine, "do_execute_no_params")
        def _on_execute_no_params(_cursor: Any, statement: str, context: Any) -> None:
            _on_statement(statement, context)

        @event.listens_for(engine, "rollback_savepoint")
        def _on_rollback_savepoint(conn: Connection, *_args: Any) -> None:
            conn.__dict__[_REMEMBERED] = None

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn: Connection) -> None:
            conn.__dict__[_REMEMBERED] = None

        _watched.add(engine)


def _may_write_catalog(sql: str) -> bool:
    """SQL that may write spaces or sites: not a SELECT, and names one of the tables (a write to another
    table, as the prepared statements of a /book make, leaves the version as it was: no trigger or foreign
    key action writes spaces or sites from another table)."""
    return sql.lstrip()[:6].upper() != "SELECT" and _CATALOG_TABLES.search(sql) is not None


def space_catalog(session: Session) -> SpaceCatalog:
    """The spaces and sites as this transaction sees them: the copy in memory when its version is the
    database's, else a new copy read now (and kept for the next commands)."""
    connection = flushed_connection(session)  # a handler's own pending space edits are part of what it sees
    version = _remembered(connection)
    if version is None:
        version = read_version(connection)
    engine = connection.engine
    cached = _catalogs.get(engine)
    if cached is not None and version is not None and cached.version == version:
        remember_version(connection, version)
        return cached
    built = build_catalog(connection, version)
    if version is not None:
        with _lock:
            _catalogs[engine] = built
        remember_version(connection, version)  # after the build's reads (SELECTs: they keep it anyway)
    return built


def build_catalog(connection: Connection, version: int | None) -> SpaceCatalog:
    views = tuple(_view(tuple(row)) for row in connection.execute(_SPACES))
    sites = tuple(SiteRow(int(i or 0), slug, name) for i, slug, name in connection.execute(_SITES))
    return SpaceCatalog(version, views, sites)


def forget_catalogs() -> None:
    """Drop every copy in memory (tests)."""
    with _lock:
        _catalogs.clear()


def space_display_name(session: Session, space: SpaceView | Space) -> str:
    """One space's name, told apart from a same-named space at another place (from the catalog: no query
    but the version's)."""
    return space_catalog(session).display_name(space.name, space.site_id)
