"""Composition root: builds the engine, the command table, the dispatcher, the outbox, the scheduler
and the configured adapters. Nothing here is global; tests build as many Apps as they like."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

import storage.schema  # noqa: F401  (every table known before any query)
from bot.adapters.base import Adapter
from bot.config import Settings
from bot.core.dispatch import Dispatcher
from bot.core.inbox import Inbox
from bot.core.leadership import preparing_alone
from bot.core.outbox import OutboxWorker
from bot.core.router import CommandTable
from bot.core.scheduler import JobRunner
from bot.core.types import ChatRef, Platform, UserRef
from bot.memory import use_worker_threads, worker_thread_count
from bot.web import WebServer
from handlers import all_routers
from storage.db import describe_unusable_database, make_engine
from storage.migrate import upgrade
from storage.prepared import Prepared
from storage.seed import seed_if_empty

log = logging.getLogger(__name__)

ADMIN_CHECK_TIMEOUT_S = 10.0
FLUSH_UNTIL_S = 7.0  # after a stop is asked, pending messages are sent until then ...
STOP_WITHIN_S = 9.5  # ... and everything is closed by then
TRIM_EVERY_S = 10.0  # freed C heap memory handed back to the system this often (glibc)


class StartupError(Exception):
    """The bot cannot start (bad token, unreachable homeserver): one clear line, exit status 2."""


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        adapters: Iterable[Adapter] | None = None,
        clock: Callable[[], datetime] | None = None,
        serve_feeds: bool = False,
        collect_at_start: bool = True,
    ) -> None:
        """``serve_feeds``: serve the iCal feeds on HTTP_HOST:HTTP_PORT (`tierslieu run` does; tests
        and the console chat open no port unless they ask). ``collect_at_start``: a full garbage collection
        before what start loaded is frozen (see ``start``); the console chat skips it (~45 ms of CPU before
        its first answer, for the little a short session would keep)."""
        self.settings = settings
        self.collect_at_start = collect_at_start
        self.clock = clock or (lambda: datetime.now(UTC))
        try:
            self.engine = make_engine(settings.database_url)
        except OSError as error:  # the SQLite file's directory cannot be made
            raise StartupError(describe_unusable_database(error, settings.database_url)) from None
        self.commands = CommandTable(all_routers())
        self.outbox = OutboxWorker(self.engine, self.clock)
        self.dispatcher = Dispatcher(self.engine, settings, self.commands, self.clock, self.outbox.wake,
                                     admin_check=self.is_chat_admin)
        self.jobs = JobRunner(self.engine, settings, self.commands.jobs, self.clock, self.outbox.wake)
        # Received messages are stored here before they are acknowledged, then run (adapters with uses_inbox).
        self.inbox = Inbox(self.engine, self.dispatcher, self.clock, on_answers=self.outbox.wake)
        # Listens only once a feature registers routes (Telegram webhook, iCal feeds).
        self.web = WebServer(settings.http_host, settings.http_port)
        if serve_feeds:
            from bot.feeds import feed_routes

            self.web.add_routes(feed_routes(self.engine, settings, self.clock))
            from bot.site import bot_links_of, site_routes  # the public agenda and dashboard (issue 19)

            self.web.add_routes(site_routes(self.engine, settings, self.clock,
                                            bot_links_of(lambda: self.adapters, settings)))
            from bot.checkin_page import checkin_routes  # the door QR code of an event date (issue 16)

            self.web.add_routes(checkin_routes(self.engine, settings, self.clock,
                                               bot_links_of(lambda: self.adapters, settings)))
        self.adapters: list[Adapter] = list(adapters) if adapters is not None else configured_adapters(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._trimmer: asyncio.Task[None] | None = None

    def prepare(self, seed: bool = True) -> None:
        """Bring the database schema up to date and seed the demo spaces on a new database. A database
        that cannot be used (unreachable, refused credentials, disk full, read-only) is a StartupError
        naming the cause in one line."""
        try:
            with preparing_alone(self.engine):  # several processes started together on one database
                upgrade(self.engine)
                if seed:
                    seed_if_empty(self.engine, self.settings.spaces_file)
        except (SQLAlchemyError, OSError) as error:
            raise StartupError(describe_unusable_database(error, self.settings.database_url)) from None

    async def start(self) -> None:
        """Adapters first: if one cannot start (bad token), nothing else is left running and the
        StartupError is the only thing the user sees."""
        self._loop = asyncio.get_running_loop()
        # Threads for the inbox's workers, the outbox and the rest, not asyncio's 6 or more (bot/memory.py);
        # the console chat reads the terminal in one more, waiting.
        readers = sum(1 for adapter in self.adapters if adapter.platform == Platform.CONSOLE)
        use_worker_threads(self._loop, worker_thread_count(self.inbox.workers, readers))
        try:
            await self.web.start()
        except OSError as error:
            raise StartupError(f"HTTP_PORT: cannot listen on {self.settings.http_host}:{self.settings.http_port} "
                               f"({error.strerror or error})") from None
        started: list[Adapter] = []
        try:
            for adapter in self.adapters:
                if hasattr(adapter, "poll_gate"):  # one poller per bot account: the scheduler-lock holder
                    adapter.poll_gate = self.jobs.leadership.acquire
                if getattr(adapter, "uses_inbox", False):
                    await adapter.start(self.inbox.store)
                else:
                    await adapter.start(self.dispatcher.handle)
                started.append(adapter)
                self.outbox.register(adapter)
        except BaseException:
            for adapter in reversed(started):
                with contextlib.suppress(Exception):
                    await adapter.stop()
            await self.web.stop()
            raise
        self.inbox.start()
        # Only the process holding the scheduler lock sends (one sender keeps the platforms' limits).
        self.outbox.leadership = self.jobs.leadership
        self.outbox.start()
        self.jobs.start()
        # Everything loaded at start (modules, commands, catalogs) lives as long as the process: moved out
        # of the collector's reach, a full collection no longer walks it (an 89 ms pause without this).
        if self.collect_at_start:
            self.warm_statements()
            gc.collect()
        gc.freeze()
        trim = heap_trimmer()
        if trim is not None:
            self._trimmer = asyncio.create_task(self._trim_heap(trim))

    def warm_statements(self) -> None:
        """The hot statements compiled now rather than by the first command that runs each (the first
        /book paid ~6 ms for five of them). Not for the console chat: it answers one person, who would wait."""
        Prepared.compile_all(self.engine.dialect)

    async def _trim_heap(self, trim: Callable[[], object]) -> None:
        """Every TRIM_EVERY_S, in a worker thread (the first trim after a burst can take ~0.1 s)."""
        while True:
            await asyncio.sleep(TRIM_EVERY_S)
            try:
                await asyncio.to_thread(trim)
            except Exception:  # never worth stopping the bot for
                log.exception("malloc_trim failed")
                return

    def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        """The dispatcher's admin check: asks the chat's adapter (its optional ``is_chat_admin``).

        Commands run in a worker thread while the adapters live on the app's loop, so the adapter's
        coroutine is run there and waited for. No such adapter, no running loop, an error or no
        answer within ADMIN_CHECK_TIMEOUT_S all mean "not an admin"."""
        loop = self._loop
        adapter = next((a for a in self.adapters if a.platform == chat.platform), None)
        ask = getattr(adapter, "is_chat_admin", None)
        if ask is None or loop is None or loop.is_closed() or user.platform != chat.platform:
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # a worker thread, as expected
        else:
            log.error("admin check for %s in %s called on an event loop; answering no", user.user_id, chat.chat_id)
            return False
        future = asyncio.run_coroutine_threadsafe(ask(chat.chat_id, user.user_id), loop)
        try:
            return bool(future.result(timeout=ADMIN_CHECK_TIMEOUT_S))
        except TimeoutError:
            future.cancel()
            log.warning("%s admin check for %s in %s: no answer within %g s; treated as not an admin",
                        chat.platform, user.user_id, chat.chat_id, ADMIN_CHECK_TIMEOUT_S)
        except Exception as error:
            log.warning("%s admin check for %s in %s failed (%s); treated as not an admin",
                        chat.platform, user.user_id, chat.chat_id, error)
        return False

    async def stop(self) -> None:
        """A clean stop within STOP_WITHIN_S (container engines kill after 10 s): take no more updates,
        let the command in hand finish, send what can go before FLUSH_UNTIL_S, leave the rest pending
        (nothing is lost: it goes out after the next start)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        if self._trimmer is not None:
            self._trimmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trimmer
            self._trimmer = None
        for adapter in self.adapters:
            stop_receiving = getattr(adapter, "stop_receiving", None)
            if stop_receiving is not None:
                try:
                    await asyncio.wait_for(stop_receiving(), 3.0)
                except Exception:
                    log.exception("stopping %s from receiving failed", adapter.platform)
        await self.inbox.stop(timeout=3.0)
        await self.outbox.stop(flush_for=max(0.0, FLUSH_UNTIL_S - (loop.time() - began)))
        await self.jobs.stop(timeout=max(0.5, STOP_WITHIN_S - 1.0 - (loop.time() - began)))
        for adapter in reversed(self.adapters):
            try:
                await asyncio.wait_for(adapter.stop(), 2.0)
            except Exception:
                log.exception("stopping %s failed", adapter.platform)
        await self.web.stop()
        self.engine.dispose()
        log.info("stopped in %.1f s", loop.time() - began)

    async def run_forever(self, stop_event: asyncio.Event | None = None) -> None:
        await self.start()
        try:
            await (stop_event or asyncio.Event()).wait()
        finally:
            await self.stop()


def heap_trimmer() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``: gives the pages of freed C heap memory back to the system. Python keeps in
    its heap what a burst of commands used (rows read, answers, a backlog of updates) once it is freed: after
    1,000 commands the RSS stayed ~10-20 MiB higher than when trimmed (bench/bench_footprint.py, issue 15).
    None without glibc (musl, macOS): nothing is trimmed there."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # no such function, or no C library to ask
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def configured_adapters(app: App) -> list[Adapter]:
    """The chat platforms whose settings are present (Telegram, Matrix)."""
    adapters: list[Adapter] = []
    if app.settings.telegram_bot_token:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(app.settings, app.engine, app.commands, web=app.web))
    if app.settings.matrix_homeserver:
        from bot.adapters.matrix import MatrixAdapter

        adapters.append(MatrixAdapter(app.settings, app.engine, app.commands))
    return adapters
