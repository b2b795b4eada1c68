"""One archive with everything needed to start the bot again elsewhere, and bringing it back.

The archive (tar.gz, written with mode 0600: it holds members' data and the Matrix keys) contains

    manifest.json      format, version, date, database kind, schema revisions, row counts, SHA-256 of each file
    database.sqlite    SQLite: a consistent copy through SQLite's online backup API (the bot may be running)
    database.pgdump    PostgreSQL: `pg_dump --format=custom` when pg_dump is on the PATH and works
    database.json.gz   otherwise: a logical export of every table through SQLAlchemy (any backend)
    matrix-store/...   the Matrix encryption store (device keys, sessions, cross-signing), SQLite files
                       copied through the backup API too
    settings.env       the settings that are not secrets (tokens and passwords stay out of the archive)

``restore`` checks the archive (manifest, checksums, paths, SQLite integrity, schema revisions this version
knows) and refuses to write into a database or a store directory that already holds something.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, func, inspect, select, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from storage.db import make_engine
from storage.migrate import current_revisions, upgrade

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PGDUMP_FILE = "database.pgdump"
JSON_FILE = "database.json.gz"
STORE_DIR = "matrix-store"
SETTINGS_FILE = "settings.env"
SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "KEY")
ARCHIVE_PREFIX = "tierslieu-backup-"
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """Backup or restore cannot go on; one line that says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    database_kind: str
    tables: dict[str, int]
    store_files: int
    notes: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    tables: dict[str, int]
    store_files: int
    settings_file: Path | None


# --- rows, backend-neutral --------------------------------------------------------------------------------

def _reflect(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata


def _normalise(value: Any) -> Any:
    """Datetimes as aware UTC (SQLite keeps them naive in UTC, PostgreSQL in the session's zone)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def table_rows(engine: Engine, exclude: Iterable[str] = ("alembic_version",)) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by primary key, values normalised for comparison across backends."""
    metadata = _reflect(engine)
    result: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in exclude:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).mappings()
            result[table.name] = [{key: _normalise(value) for key, value in row.items()} for row in rows]
    return result


def _count_rows(engine: Engine) -> dict[str, int]:
    metadata = _reflect(engine)
    with engine.connect() as connection:
        return {table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
                for table in metadata.sorted_tables if table.name != "alembic_version"}


# The space catalog's version (migration 0022) and the spaces' free-hours stamps (0023).
TRIGGER_KEPT_TABLES = ("catalogversion", "freestamp")


def _insert_rows(target: Engine, rows_by_table: Mapping[str, list[dict[str, Any]]]) -> None:
    """Insert rows into the (empty, migrated) target in foreign-key order, in one transaction; on
    PostgreSQL, move each id sequence past the highest id so that new rows don't collide."""
    metadata = _reflect(target)
    sqlite = target.dialect.name == "sqlite"
    missing = set(rows_by_table) - set(metadata.tables)
    if missing:
        raise BackupError(f"the archive has tables this database doesn't: {', '.join(sorted(missing))}")
    # Tables kept by database triggers (the migrations write their first rows, and the other tables'
    # inserts below write them again): emptied and written last, so they hold the archive's rows.
    kept_by_triggers = [metadata.tables[name] for name in TRIGGER_KEPT_TABLES if name in metadata.tables]
    with target.begin() as connection:
        ordered = [t for t in metadata.sorted_tables if t.name not in TRIGGER_KEPT_TABLES] + kept_by_triggers
        for table in ordered:
            if table in kept_by_triggers and table.name in rows_by_table:
                connection.execute(table.delete())
            rows = rows_by_table.get(table.name)
            if not rows or table.name == "alembic_version":
                continue
            if sqlite:
                rows = [{k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo
                             else v) for k, v in row.items()} for row in rows]
            for start in range(0, len(rows), 500):
                connection.execute(table.insert(), rows[start:start + 500])
        if target.dialect.name == "postgresql":
            for table in metadata.sorted_tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is not False and str(column.type).upper() in {"INTEGER", "BIGINT"}:
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                            f"COALESCE(MAX(\"{column.name}\"), 1), MAX(\"{column.name}\") IS NOT NULL) "
                            f"FROM \"{table.name}\""), {"table": f'"{table.name}"', "column": column.name})


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of ``source`` into ``target`` (already at the same schema, empty)."""
    _insert_rows(target, table_rows(source))


# --- logical export (JSON) ---------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": _normalise(value).isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        decoders = {"$dt": datetime.fromisoformat, "$date": date.fromisoformat, "$time": time.fromisoformat,
                    "$dec": Decimal, "$b64": base64.b64decode}
        if tag in decoders:
            return decoders[tag](raw)
    return value


def export_json(engine: Engine) -> bytes:
    tables = table_rows(engine)
    data = {name: [{k: _encode(v) for k, v in row.items()} for row in rows] for name, rows in tables.items()}
    return gzip.compress(json.dumps(data, ensure_ascii=False).encode(), compresslevel=6)


def import_json(target: Engine, blob: bytes) -> None:
    data = json.loads(gzip.decompress(blob))
    _insert_rows(target, {name: [{k: _decode(v) for k, v in row.items()} for row in rows]
                          for name, rows in data.items()})


# --- settings ----------------------------------------------------------------------------------------------

def setting_names() -> set[str]:
    return {f.name.upper() for f in fields(Settings) if f.name != "extra"}


def is_secret(name: str) -> bool:
    return any(word in name.upper() for word in SECRET_WORDS)


def non_secret_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The settings worth carrying to a new machine, without tokens or passwords (a database URL
    loses its password)."""
    names = setting_names()
    kept: dict[str, str] = {}
    for name, value in sorted(env.items()):
        if (name in names or name.startswith("TIERSLIEU_")) and not is_secret(name) and value.strip():
            if name == "DATABASE_URL":
                value = make_url(value).render_as_string(hide_password=True)
            kept[name] = value
    return kept


# --- backup ------------------------------------------------------------------------------------------------

def store_path(settings: Settings) -> Path:
    """Where the Matrix adapter keeps its encryption store (bot/adapters/matrix_login.py store_dir)."""
    return settings.matrix_store_dir or settings.data_dir / "matrix-store"


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL: an in-memory SQLite database can't be backed up or restored")
    return Path(url.database)


def _libpq_url(database_url: str) -> str:
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of a live SQLite database (other connections may be writing)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == SQLITE_HEADER


def _copy_store(store: Path, destination: Path) -> int:
    """The Matrix store, its SQLite databases through the backup API (nio writes while it runs)."""
    count = 0
    if not store.is_dir():
        return 0
    for path in sorted(store.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        target = destination / path.relative_to(store)
        target.parent.mkdir(parents=True, exist_ok=True)
        if _is_sqlite_file(path):
            _sqlite_copy(path, target)
        else:
            shutil.copy2(path, target)
        count += 1
    return count


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierslieu-bot")
    except PackageNotFoundError:
        return "unknown"


def default_archive_name(now: datetime) -> str:
    return f"{ARCHIVE_PREFIX}{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def backup(settings: Settings, destination: Path | None = None, env: Mapping[str, str] | None = None,
           now: datetime | None = None, use_pg_dump: bool = True) -> BackupResult:
    """Write the archive to ``destination`` (a file, or a directory for a dated name)."""
    now = now or datetime.now(UTC)
    destination = destination or Path.cwd()
    if not destination.exists() and not destination.name.endswith((".tar.gz", ".tgz")):
        destination.mkdir(parents=True)  # a directory to be: BACKUP_DIR on the first day
    if destination.is_dir():
        destination = destination / default_archive_name(now)
    destination.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    engine = make_engine(settings.database_url)
    try:
        # Beside the archive, not in /tmp: often a small tmpfs (RAM) on a Raspberry Pi.
        with tempfile.TemporaryDirectory(prefix=".tierslieu-backup-", dir=destination.parent) as tmp:
            work = Path(tmp)
            revisions = sorted(current_revisions(engine))
            sqlite_file = sqlite_path(settings.database_url)
            if sqlite_file is not None:
                if not sqlite_file.exists():
                    raise BackupError(f"DATABASE_URL: there is no database at {sqlite_file}")
                _sqlite_copy(sqlite_file, work / SQLITE_FILE)
                kind = "sqlite"
                counted = make_engine(f"sqlite:///{work / SQLITE_FILE}")
                tables = _count_rows(counted)
                counted.dispose()
            else:
                kind = ""
                tables = _count_rows(engine)
                if use_pg_dump and shutil.which("pg_dump"):
                    done = subprocess.run(
                        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                         f"--file={work / PGDUMP_FILE}", _libpq_url(settings.database_url)],
                        capture_output=True, text=True, timeout=3600)
                    if done.returncode == 0:
                        kind = "pg_dump"
                    else:
                        first = (done.stderr.strip().splitlines() or ["?"])[0]
                        notes.append(f"pg_dump failed ({first}); wrote a logical export instead")
                        (work / PGDUMP_FILE).unlink(missing_ok=True)
                if not kind:
                    (work / JSON_FILE).write_bytes(export_json(engine))
                    kind = "json"
                    tables = {name: len(rows) for name, rows in
                              json.loads(gzip.decompress((work / JSON_FILE).read_bytes())).items()}
            store_files = _copy_store(store_path(settings), work / STORE_DIR)
            kept = non_secret_settings(env if env is not None else os.environ)
            (work / SETTINGS_FILE).write_text(
                "# Settings of the backed-up bot, without secrets (set tokens and passwords again)\n"
                + "".join(f"{name}={value}\n" for name, value in kept.items()))
            files = {path.relative_to(work).as_posix(): _sha256(path)
                     for path in sorted(work.rglob("*")) if path.is_file()}
            manifest = {"format": FORMAT, "version": _version(), "created_at": now.astimezone(UTC).isoformat(),
                        "database": {"kind": kind, "dialect": engine.dialect.name, "revisions": revisions},
                        "tables": tables, "matrix_store_files": store_files, "files": files}
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            partial = destination.with_name(destination.name + ".partial")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive:
                archive.add(work / MANIFEST, arcname=MANIFEST)
                for name in files:
                    archive.add(work / name, arcname=name)
            os.replace(partial, destination)
    finally:
        engine.dispose()
    log.info("backup written to %s (%s, %d rows)", destination, kind, sum(tables.values()))
    return BackupResult(destination, kind, tables, store_files, notes)


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives this bot wrote in ``directory``."""
    archives = sorted(directory.glob(f"{ARCHIVE_PREFIX}*.tar.gz"))
    removed = archives[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def archive_time(path: Path) -> datetime | None:
    """When an archive named by ``default_archive_name`` was written."""
    try:
        stamp = path.name.removeprefix(ARCHIVE_PREFIX).removesuffix(".tar.gz")
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def newest_backup(directory: Path) -> Path | None:
    archives = sorted(directory.glob(f"{ARCHIVE_PREFIX}*.tar.gz"))
    return archives[-1] if archives else None


# --- restore -----------------------------------------------------------------------------------------------

def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def check_archive(archive_path: Path, into: Path) -> dict[str, Any]:
    """Unpack into ``into`` and check it: the manifest, each file's checksum, no stray paths."""
    if not archive_path.is_file():
        raise BackupError(f"{archive_path}: no such file")
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                if not _safe_member(member.name) or not (member.isfile() or member.isdir()):
                    raise BackupError(f"{archive_path}: unexpected entry {member.name!r}; not a tierslieu backup")
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{archive_path}: not a readable backup archive ({error})") from None
    try:
        manifest = json.loads((into / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{archive_path}: no manifest.json; not a tierslieu backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path}: archive format {manifest.get('format')} is not one this version reads")
    for name, digest in manifest.get("files", {}).items():
        path = into / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{archive_path}: {name} is missing or damaged (checksum differs)")
    kind = manifest.get("database", {}).get("kind")
    expected = {"sqlite": SQLITE_FILE, "pg_dump": PGDUMP_FILE, "json": JSON_FILE}.get(kind)
    if expected is None or expected not in manifest.get("files", {}):
        raise BackupError(f"{archive_path}: the manifest names no database file")
    if kind == "sqlite":
        connection = sqlite3.connect(into / SQLITE_FILE)
        try:
            (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
        finally:
            connection.close()
        if verdict != "ok":
            raise BackupError(f"{archive_path}: the database in the archive is damaged ({verdict})")
    return dict(manifest)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    config = alembic_config(make_engine("sqlite://"))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _is_empty_database(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def _is_empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def restore(settings: Settings, archive_path: Path) -> RestoreResult:
    """Bring an archive back into the configured database and Matrix store, which must be empty."""
    with tempfile.TemporaryDirectory(prefix="tierslieu-restore-") as tmp:
        work = Path(tmp)
        manifest = check_archive(archive_path, work)
        database = manifest["database"]
        unknown = set(database.get("revisions", [])) - _known_revisions()
        if unknown:
            raise BackupError(f"{archive_path}: made by a newer version (schema {', '.join(sorted(unknown))}); "
                              "install that version or a later one to restore it")
        store = store_path(settings)
        if not _is_empty_dir(store):
            raise BackupError(f"{store}: the Matrix store directory isn't empty; restore only into an empty one")
        sqlite_file = sqlite_path(settings.database_url)
        if sqlite_file is not None and sqlite_file.exists() and sqlite_file.stat().st_size > 0:
            probe = make_engine(settings.database_url)
            try:
                empty = _is_empty_database(probe)
            finally:
                probe.dispose()
            if not empty:
                raise BackupError(f"DATABASE_URL: {sqlite_file} already holds a database; restore only into "
                                  "an empty place (move it away first)")
        engine = make_engine(settings.database_url)
        try:
            if sqlite_file is None and not _is_empty_database(engine):
                raise BackupError("DATABASE_URL: this PostgreSQL database already has tables; restore only into "
                                  "an empty database (createdb a new one)")
            _restore_database(engine, sqlite_file, work, database)
            restored = _count_rows(engine)
        finally:
            engine.dispose()
        if restored != manifest["tables"]:
            differing = sorted(name for name in set(restored) | set(manifest["tables"])
                               if restored.get(name) != manifest["tables"].get(name))
            raise BackupError(f"the restored database differs from the archive in: {', '.join(differing)}")
        store_files = 0
        if (work / STORE_DIR).is_dir():
            store.mkdir(parents=True, exist_ok=True)
            for path in sorted((work / STORE_DIR).rglob("*")):
                if path.is_file():
                    target = store / path.relative_to(work / STORE_DIR)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
                    store_files += 1
            os.chmod(store, 0o700)
        settings_file: Path | None = None
        if (work / SETTINGS_FILE).is_file():
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            settings_file = settings.data_dir / "settings-from-backup.env"
            shutil.copy2(work / SETTINGS_FILE, settings_file)
    return RestoreResult(restored, store_files, settings_file)


def _restore_database(engine: Engine, sqlite_file: Path | None, work: Path, database: Mapping[str, Any]) -> None:
    kind = database["kind"]
    if kind == "sqlite" and sqlite_file is not None:
        engine.dispose()
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        _sqlite_copy(work / SQLITE_FILE, sqlite_file)
        return
    if kind == "pg_dump":
        if sqlite_file is not None:
            raise BackupError("this archive holds a PostgreSQL dump; set DATABASE_URL to an empty PostgreSQL "
                              "database to restore it")
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not on the PATH (apt install postgresql-client)")
        done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                               f"--dbname={_libpq_url(str(engine.url.render_as_string(hide_password=False)))}",
                               str(work / PGDUMP_FILE)], capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["?"])[0]
            raise BackupError(f"pg_restore failed: {first}")
        return
    # A logical export (or an SQLite file going into PostgreSQL): the schema through the migrations, at the
    # archive's revisions, then the rows.
    for revision in database.get("revisions", []):
        upgrade(engine, revision)
    if kind == "json":
        import_json(engine, (work / JSON_FILE).read_bytes())
    else:
        source = make_engine(f"sqlite:///{work / SQLITE_FILE}")
        try:
            copy_rows(source, engine)
        finally:
            source.dispose()


def describe(result: BackupResult) -> str:
    rows = sum(result.tables.values())
    return (f"backup written to {result.path} ({result.database_kind}: {len(result.tables)} tables, {rows} rows; "
            f"{result.store_files} Matrix store files)")


def read_manifest(archive_path: Path) -> dict[str, Any]:
    with tarfile.open(archive_path, mode="r:gz") as archive:
        member = archive.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive_path}: no manifest.json")
        return dict(json.load(io.TextIOWrapper(member, encoding="utf-8")))
