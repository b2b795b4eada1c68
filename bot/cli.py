"""The `tierslieu` command: chat, run, db upgrade, spaces import, report."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.core.types import Platform

EXIT_CONFIG = 2

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.volunteer_rules import Period


def _setup_logging(settings: Settings, quiet: bool = False) -> None:
    level = getattr(logging, settings.log_level)
    if quiet and level < logging.WARNING:
        level = logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from bot.logsetup import install_redaction

    install_redaction(settings)  # no token, password, feed link or one-time code in the log, at any level
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))


def _default_user() -> str:
    try:
        return getpass.getuser() or "moi"
    except Exception:
        return "moi"


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console import ConsoleAdapter
    from bot.app import App

    console = ConsoleAdapter(args.user, args.user, args.lang, image_dir=settings.data_dir)
    app = App(settings, adapters=[console], collect_at_start=False)
    await asyncio.to_thread(app.prepare)
    await app.start()
    try:
        if console.interactive:
            print(f"tierslieu-bot — {args.user}. /help, /quit", flush=True)
        await console.repl()
        await app.outbox.flush()
    finally:
        await app.stop()
    return 0


AFTER_MIGRATION = "TIERSLIEU_STARTED_AFTER_MIGRATION"


def _start_afresh(app_engine_dispose: Callable[[], None]) -> None:
    """The process that migrated the database becomes a new one (same pid, same command line, same
    environment) on the migrated database: what only a migration uses (alembic, mako, the dialects'
    DDL: ~10-14 MiB) would otherwise stay loaded until the next restart, which after an update can be
    months (issue 15). Once: the new process finds the database at its heads and loads none of it."""
    logging.getLogger("tierslieu").info("database migrated; starting again without what the migration loaded")
    app_engine_dispose()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.environ[AFTER_MIGRATION] = "1"
    os.execv(sys.executable, sys.orig_argv)


async def _run(settings: Settings, *, may_start_afresh: bool = False) -> int:
    from bot.app import App
    from bot.data_export import export_routes
    from bot.health import install_monitoring

    app = App(settings, serve_feeds=True)
    install_monitoring(app)  # /healthz, /metrics
    app.web.add_routes(export_routes(app.engine, app.clock))  # /mydata/<token>.json
    await asyncio.to_thread(app.prepare)
    if os.environ.pop(AFTER_MIGRATION, None) is None and may_start_afresh and "alembic" in sys.modules:
        _start_afresh(app.engine.dispose)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    names = ", ".join(a.platform.value for a in app.adapters) or "none (scheduler only)"
    logging.getLogger("tierslieu").info("starting; chat platforms: %s", names)
    await app.run_forever(stop)
    return 0


def _spaces_import(settings: Settings, path: Path) -> int:
    from storage.db import make_engine, session_scope
    from storage.migrate import upgrade
    from storage.spaces import SpaceFileError, import_spaces, load_spaces_file

    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        data = load_spaces_file(path)
        with session_scope(engine) as session:
            created, updated = import_spaces(session, data)
    except SpaceFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{created} spaces created, {updated} updated from {path}")
    return 0


def _site_report(session: Session, settings: Settings, args: argparse.Namespace, period: Period) -> int:
    """``--site <slug>``: one place's report; ``--site network``: the places side by side with the total, then
    each report (CSV: a place's items are ``site:<slug>/…``)."""
    from bot.core.i18n import translator_for
    from handlers.report import (
        PRESETS,
        network_lines,
        render_csv,
        render_markdown,
        render_network_csv,
        render_network_markdown,
        render_preset_csv,
        render_preset_markdown,
    )
    from storage.places import places
    from storage.report import build_report, network_reports

    translator = translator_for(args.lang or settings.language, settings.timezone)
    if args.site in {"network", "reseau", "réseau", "all"}:
        total, parts = network_reports(session, period, settings.tz, settings.volunteer_hour_value)
        if args.format in PRESETS and args.as_csv:
            print(render_preset_csv(total, args.format, translator) + "".join(
                render_preset_csv(r, args.format, translator, site=slug, header=False) for slug, r in parts), end="")
        elif args.format in PRESETS:
            print("\n".join(network_lines(total, parts, translator)) + "\n\n" + "\n".join(
                render_preset_markdown(r, args.format, translator) for r in [total] + [r for _, r in parts]), end="")
        elif args.format == "csv":
            print(render_network_csv(total, parts), end="")
        else:
            print(render_network_markdown(total, parts, translator))
        return 0
    site = next((s for s in places(session) if s.slug == args.site), None)
    if site is None:
        known = ", ".join(s.slug for s in places(session))
        print(f"error: --site: no place {args.site!r} (places: {known}, or network)", file=sys.stderr)
        return 1
    report = build_report(session, period, settings.tz, settings.volunteer_hour_value, with_names=args.names,
                          site_id=site.id)
    if args.format in PRESETS:
        print(render_preset_csv(report, args.format, translator, site=site.slug) if args.as_csv
              else render_preset_markdown(report, args.format, translator), end="")
    elif args.format == "csv":
        print(render_csv(report, site=site.slug), end="")
    else:
        print(render_markdown(report, translator))
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.core.i18n import translator_for
    from handlers.report import PRESETS, render_csv, render_markdown, render_preset_csv, render_preset_markdown
    from storage.db import make_engine, session_scope
    from storage.migrate import upgrade
    from storage.report import build_report
    from storage.volunteer_rules import PeriodError, parse_period, year_period

    today = datetime.now(settings.tz).date()
    try:
        period = year_period(args.year) if args.year else parse_period(args.month or "month", today)
        if period.kind != ("year" if args.year else "month"):
            raise PeriodError(args.month)
    except PeriodError:
        print("error: --month takes a month like 2026-11, --year a year like 2026", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            if args.site:
                return _site_report(session, settings, args, period)
            report = build_report(session, period, settings.tz, settings.volunteer_hour_value, with_names=args.names)
    finally:
        engine.dispose()
    translator = translator_for(args.lang or settings.language, settings.timezone)
    if args.format in PRESETS:  # a funder's figures, each with its definition and source
        print(render_preset_csv(report, args.format, translator) if args.as_csv
              else render_preset_markdown(report, args.format, translator), end="")
    elif args.format == "csv":
        print(render_csv(report), end="")
    else:
        print(render_markdown(report, translator_for(args.lang or settings.language, settings.timezone)))
    return 0


def _attestations(settings: Settings, args: argparse.Namespace) -> int:
    """Every volunteer's yearly attestation as a PDF in --out, and who reaches the CEC thresholds."""
    from datetime import datetime
    from pathlib import Path

    from bot.core.i18n import translator_for
    from handlers.attendance.attestation import cec_summary, render_for
    from storage.attestations import statements
    from storage.db import make_engine, session_scope
    from storage.migrate import upgrade

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot write in {out}: {error.strerror}", file=sys.stderr)
        return 1
    translator = translator_for(args.lang or settings.language, settings.timezone)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            found = statements(session, args.year)
            for statement in found:
                path = out / f"attestation-{args.year}-{statement.member_id}.pdf"
                path.write_bytes(render_for(session, statement, translator, datetime.now(settings.tz)))
            print(f"{len(found)} attestations written in {out}")
            print(cec_summary(session, args.year, translator))
    finally:
        engine.dispose()
    return 0


def _db_upgrade(settings: Settings) -> int:
    from storage.db import make_engine
    from storage.migrate import upgrade

    upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _version() -> str:
    """The installed package's version (pyproject.toml); CHANGELOG.md says what each one changed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierslieu-bot")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tierslieu", description="Chat assistant for tiers-lieux")
    parser.add_argument("--version", action="version", version=f"tierslieu {_version()}")
    parser.add_argument("--env-file", type=Path, help="read settings from this file (e.g. the systemd unit's "
                        "EnvironmentFile) before ./.env; the environment still wins")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--user", default=_default_user(), help="your name in the chat (default: login name)")
    chat.add_argument("--coordinator", action="store_true", help="act as a coordinator")
    chat.add_argument("--lang", choices=["fr", "en"], default=None, help="language hint")
    sub.add_parser("run", help="start the configured chat platforms, the scheduler and the HTTP server")
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"])
    spaces = sub.add_parser("spaces", help="spaces commands")
    spaces_sub = spaces.add_subparsers(dest="spaces_command", required=True)
    spaces_import = spaces_sub.add_parser("import", help="create or update spaces from a TOML file")
    spaces_import.add_argument("file", type=Path)
    report = sub.add_parser("report", help="activity report for funders: bookings, events, volunteer hours")
    period = report.add_mutually_exclusive_group()
    period.add_argument("--month", help="a month like 2026-11 (default: the current month)")
    period.add_argument("--year", type=int, help="a whole year, e.g. 2026")
    report.add_argument("--format", choices=["md", "csv", "caf-evs", "fabrique", "recensement"], default="md",
                        help="Markdown (default), CSV, or a funder's figures with definitions and sources")
    report.add_argument("--csv", dest="as_csv", action="store_true", help="a funder's figures as CSV, not Markdown")
    report.add_argument("--names", action="store_true", help="add each volunteer's hours, by name")
    report.add_argument("--site", default=None, metavar="SLUG",
                        help="one place's report, or 'network': the places side by side with the total")
    report.add_argument("--lang", choices=["fr", "en"], default=None, help="language of the Markdown report")
    attestations = sub.add_parser("attestations", help="every volunteer's yearly attestation (PDF) and the CEC")
    attestations.add_argument("--year", type=int, required=True, help="the year, e.g. 2026")
    attestations.add_argument("--out", default="attestations", help="folder to write the PDFs in")
    attestations.add_argument("--lang", choices=["fr", "en"], default=None, help="language of the PDFs")
    backup = sub.add_parser("backup", help="write one archive: database, Matrix encryption store, settings")
    backup.add_argument("file", type=Path, nargs="?", help="archive file or directory (default: BACKUP_DIR)")
    restore = sub.add_parser("restore", help="check an archive and restore it into an empty database")
    restore.add_argument("file", type=Path)
    sub.add_parser("doctor", help="check settings, database, platforms, public URL, disk and permissions")
    return parser


def _backup(settings: Settings, target: Path | None) -> int:
    from bot.backup import BackupError, backup, describe

    try:
        result = backup(settings, target or settings.backup_dir or settings.data_dir / "backups")
    except BackupError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(describe(result))
    return 0


def _restore(settings: Settings, archive: Path) -> int:
    from bot.backup import BackupError, restore

    try:
        result = restore(settings, archive)
    except BackupError as error:
        print(f"restore refused: {error}", file=sys.stderr)
        return 1
    print(f"restored {sum(result.tables.values())} rows in {len(result.tables)} tables and "
          f"{result.store_files} Matrix store files from {archive}")
    if result.settings_file:
        print(f"the backed-up settings (without secrets) are in {result.settings_file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.env_file:
        from dotenv import load_dotenv

        if not args.env_file.is_file():
            print(f"configuration error: --env-file: no file {args.env_file}", file=sys.stderr)
            return EXIT_CONFIG
        load_dotenv(args.env_file, override=False)
        os.environ.setdefault("TIERSLIEU_ENV_FILE", str(args.env_file))
    if args.command == "doctor":  # reports a bad setting itself, with what to do
        from bot.doctor import run_doctor

        return run_doctor()
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import StartupError
    from storage.migrate import MigrationError

    _setup_logging(settings, quiet=args.command in {"chat", "report", "attestations"})
    try:
        if args.command == "chat":
            if args.coordinator:
                settings = dataclasses.replace(
                    settings, coordinators=settings.coordinators | {(Platform.CONSOLE, args.user)}
                )
            return asyncio.run(_chat(settings, args))
        if args.command == "run":  # started again after a migration only when run from the command line
            return asyncio.run(_run(settings, may_start_afresh=argv is None))
        if args.command == "db":
            return _db_upgrade(settings)
        if args.command == "spaces":
            return _spaces_import(settings, args.file)
        if args.command == "report":
            return _report(settings, args)
        if args.command == "attestations":
            return _attestations(settings, args)
        if args.command == "backup":
            return _backup(settings, args.file)
        if args.command == "restore":
            return _restore(settings, args.file)
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except MigrationError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
