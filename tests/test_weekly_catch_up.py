"""A weekly job (the digest, the backup) whose run never committed (the process killed in its firing second,
the bot down at that hour) is run late by the next process that runs the jobs, once; a first start on a
database sends nothing for a fire time before it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.core.scheduler import CATCH_UP_WINDOW, last_fire_time
from tests.harness import Chat, make_chat
from tests.test_digest import seed_week

# DIGEST_SCHEDULE's default, Monday 08:00 in Paris: 07:00 UTC in November.
LAST_MONDAY_FIRE = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
THIS_MONDAY_FIRE = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def chat(database_url: str) -> Iterator[Chat]:
    """The daily backup is a weekly-setting job too (caught up alike); no archive is written here."""
    harness = make_chat(database_url, BACKUP_KEEP="0")
    yield harness
    harness.app.engine.dispose()


def digests(chat: Chat) -> list[str]:
    return [row.dedup_key for row in chat.outbox() if row.dedup_key and row.dedup_key.startswith("digest:")]


def missed_digest(chat: Chat) -> list[datetime]:
    return [fire for name, fire in chat.app.jobs.missed_runs() if name == "weekly-digest"]


def a_week_that_ran_last_monday(chat: Chat) -> None:
    """A bot that has run the jobs before: last Monday's fire time is recorded (a first look records it)."""
    seed_week(chat)
    chat.say("coord", "/subscribe", group="g1")
    chat.clock.now = datetime(2026, 11, 16, 7, 30, tzinfo=UTC)
    assert chat.app.jobs.missed_runs() == []
    assert digests(chat) == []


def test_a_digest_whose_process_died_at_its_hour_is_sent_once_by_the_next_start(chat: Chat) -> None:
    a_week_that_ran_last_monday(chat)
    chat.clock.now = datetime(2026, 11, 23, 7, 20, tzinfo=UTC)  # the process died at 08:00; restarted at 08:20
    missed = chat.app.jobs.missed_runs()
    assert ("weekly-digest", THIS_MONDAY_FIRE) in missed
    assert ("daily-backup", datetime(2026, 11, 23, 2, 30, tzinfo=UTC)) in missed  # 03:30 in Paris
    asyncio.run(chat.app.jobs.catch_up())
    assert digests(chat) == ["digest:2026-W48:console:g1"]
    # Another start, or the next look five minutes later: nothing more.
    chat.clock.now = datetime(2026, 11, 23, 7, 25, tzinfo=UTC)
    assert chat.app.jobs.missed_runs() == []
    asyncio.run(chat.app.jobs.catch_up())
    assert digests(chat) == ["digest:2026-W48:console:g1"]


def test_the_cron_run_and_a_catch_up_never_both_run(chat: Chat) -> None:
    a_week_that_ran_last_monday(chat)
    chat.clock.now = datetime(2026, 11, 23, 7, 0, 1, tzinfo=UTC)
    assert chat.app.jobs.run_now("weekly-digest", chat.app.jobs.fire_time("weekly-digest")) == 1
    chat.clock.now = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)
    assert missed_digest(chat) == []
    # A late second cron fire for the same hour (two processes, the clocks going back) sends nothing either.
    assert chat.app.jobs.run_now("weekly-digest", THIS_MONDAY_FIRE) == 0
    assert digests(chat) == ["digest:2026-W48:console:g1"]


def test_a_first_start_sends_nothing_for_an_hour_before_it(chat: Chat) -> None:
    seed_week(chat)
    chat.say("coord", "/subscribe", group="g1")
    chat.clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # installed Monday at 10:00, after the digest's hour
    assert chat.app.jobs.missed_runs() == []
    asyncio.run(chat.app.jobs.catch_up())
    assert digests(chat) == []


def test_a_run_missed_longer_ago_than_the_window_waits_for_next_week(chat: Chat) -> None:
    a_week_that_ran_last_monday(chat)
    chat.clock.now = THIS_MONDAY_FIRE + CATCH_UP_WINDOW + (THIS_MONDAY_FIRE - THIS_MONDAY_FIRE.replace(hour=6))
    assert missed_digest(chat) == []
    assert digests(chat) == []


def test_the_last_fire_time_follows_the_places_clock_across_both_changes(chat: Chat) -> None:
    job = chat.app.jobs.jobs["weekly-digest"]
    trigger = chat.app.jobs.trigger_for(job)
    # Monday 08:00 in Paris: 07:00 UTC in winter, 06:00 UTC in summer; the Mondays after each change.
    assert last_fire_time(trigger, datetime(2026, 3, 30, 9, tzinfo=UTC), CATCH_UP_WINDOW) == \
        datetime(2026, 3, 30, 6, tzinfo=UTC)
    assert last_fire_time(trigger, datetime(2026, 10, 26, 9, tzinfo=UTC), CATCH_UP_WINDOW) == \
        datetime(2026, 10, 26, 7, tzinfo=UTC)
    assert last_fire_time(trigger, datetime(2026, 10, 26, 6, 59, tzinfo=UTC), CATCH_UP_WINDOW) is None
