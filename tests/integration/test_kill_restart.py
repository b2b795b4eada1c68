"""`tierslieu run` as a real process against the Bot API stand-in, killed with SIGKILL at several moments
(before, during and after the commands ran, while answers were being sent) and restarted at once, as
systemd does: every command's effect exactly once, every command answered; an announcement to 300 chats
killed midway reaches each chat at most once, the ones in doubt are reported, and the report comes
within a minute of the restart. Also: SIGTERM stops within 10 s with exit status 0."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.models_reminders import Reminder, Subscription
from tests.integration.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.integration

COORDINATOR = 7000
MEMBERS = [7101 + n for n in range(8)]
ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`python -m bot run` with its environment; its log is kept for failures."""

    def __init__(self, tmp_path: Path, standin: BotApiStandIn, database_url: str | None = None) -> None:
        self.database_url = database_url or f"sqlite:///{tmp_path}/bot.db"
        self.log = tmp_path / "bot.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TELEGRAM_BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url,
            "HTTP_PORT": "0",
            "LANGUAGE": "fr",
            "LOG_LEVEL": "INFO",
            "COORDINATORS": f"telegram:{COORDINATOR}",
            "DATA_DIR": str(tmp_path / "data"),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"\n===== start {self.starts} =====\n")
        handle = self.log.open("a")  # the child writes to it
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=handle, stderr=handle,
        )
        handle.close()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> tuple[int, float]:
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 30)
        return code, time.monotonic() - began

    def tail(self) -> str:
        return self.log.read_text()[-4000:]


@pytest.fixture
async def bot(tmp_path: Path, standin: BotApiStandIn) -> AsyncIterator[BotProcess]:
    process = BotProcess(tmp_path, standin)
    yield process
    if process.process is not None and process.process.returncode is None:
        await process.kill()


def texts_to(standin: BotApiStandIn, chat_id: int) -> list[str]:
    return [str(c.params.get("text", "")) for c in standin.sent("sendMessage", chat_id=chat_id)]


async def wait_until(condition: object, timeout: float, what: str, bot: BotProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s\n--- bot log ---\n{bot.tail()}")
        await asyncio.sleep(0.1)


async def test_bursts_killed_at_any_moment_run_each_command_once_and_answer_every_one(
    standin: BotApiStandIn, tmp_path: Path, database_url: str
) -> None:
    bot = BotProcess(tmp_path, standin, database_url)
    try:
        await bursts_killed_at_any_moment(standin, bot)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.kill()


async def bursts_killed_at_any_moment(standin: BotApiStandIn, bot: BotProcess) -> None:
    members = {m: standin.user(m, f"Membre{m}", "fr") for m in MEMBERS}
    chats = {m: standin.private_chat(user) for m, user in members.items()}
    tags: dict[str, int] = {}
    await bot.start()
    # Kill moments after each burst: before anything ran, while commands run, while answers go out
    # (one a second per chat), and once all was done.
    for round_, kill_after in enumerate([0.05, 0.6, 2.5, 6.0]):
        for n in range(4):
            for member, user in members.items():
                tag = f"t{round_}-{member}-{n}"
                tags[tag] = member
                standin.type_text(chats[member], user, f"/rappel demain 9h appeler {tag}")
        if round_ == 0:
            await asyncio.sleep(2.0)  # the first start (imports, migrations) takes a moment
        await asyncio.sleep(kill_after)
        await bot.kill()
        await bot.start()  # at once, like systemd's Restart=always

    def all_answered() -> bool:
        return all(any(tag in text for text in texts_to(standin, member)) for tag, member in tags.items())

    await wait_until(all_answered, 90, "every command answered", bot)
    await bot.terminate()
    engine = make_engine(bot.database_url)
    try:
        with Session(engine) as session:
            stored = [r.text for r in session.exec(select(Reminder))]
    finally:
        engine.dispose()
    effects = Counter(tag for text in stored for tag in re.findall(r"t\d-\d+-\d", text))
    assert effects == Counter(dict.fromkeys(tags, 1)), "each command's effect exactly once"
    answers = Counter(tag for m in MEMBERS for text in texts_to(standin, m) for tag in re.findall(r"t\d-\d+-\d", text))
    assert set(answers) == set(tags)
    duplicates = sum(count - 1 for count in answers.values())
    assert duplicates <= 4 * 4, "duplicates only for answers in flight at a kill (at most 4 per kill)"
    print(f"{len(tags)} commands, 4 kills: each run once, all answered, {duplicates} answers shown twice")


async def test_an_announcement_killed_midway_reaches_each_chat_at_most_once_and_is_reported(
    standin: BotApiStandIn, bot: BotProcess
) -> None:
    groups = [-1002000 - n for n in range(300)]
    engine = make_engine(bot.database_url)
    upgrade(engine)
    with Session(engine) as session:
        for group in groups:
            standin.group(group, f"Groupe {group}")
            session.add(Subscription(platform="telegram", chat_id=str(group), is_private=False, language="fr"))
        session.commit()
    coordinator = standin.user(COORDINATOR, "Coord", "fr")
    private = standin.private_chat(coordinator)
    await bot.start()
    standin.type_text(private, coordinator, "/annonce Fermeture exceptionnelle jeudi")
    await wait_until(lambda: any("300" in t for t in texts_to(standin, COORDINATOR)), 30, "the preview", bot)
    standin.type_text(private, coordinator, "/annonce envoyer 1")

    def delivered() -> int:
        return len({c.chat_id for c in standin.sent("sendMessage") if c.chat_id.startswith("-100")})

    await wait_until(lambda: delivered() >= 60, 30, "the first 60 deliveries", bot)
    await bot.kill()
    restarted = time.monotonic()
    await bot.start()

    def reported() -> bool:
        return any("Annonce n° 1 : distribuée" in t for t in texts_to(standin, COORDINATOR))

    await wait_until(reported, 60, "the delivery report", bot)
    report_after = time.monotonic() - restarted
    await bot.terminate()
    received = Counter(c.chat_id for c in standin.sent("sendMessage") if c.chat_id.startswith("-100"))
    assert max(received.values()) == 1, "no chat got it twice"
    [report] = [t for t in texts_to(standin, COORDINATOR) if "Annonce n° 1 : distribuée" in t]
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedup_key).startswith("announce:1:"))).all()
    engine.dispose()
    statuses = Counter(row.status for row in rows)
    assert set(statuses) <= {"sent", "failed"} and sum(statuses.values()) == 300
    assert f"distribuée à {statuses['sent']} conversations sur 300" in report
    in_doubt = [row.chat_id for row in rows if row.status == "failed"]
    assert len(in_doubt) <= 4  # only the sends in flight at the kill
    for chat_id in in_doubt:
        assert chat_id in report  # reported, with the reason
    missing = {str(g) for g in groups} - set(received)
    assert missing <= set(in_doubt), "a chat without the announcement is one reported as in doubt"
    assert report_after < 60
    print(f"report {report_after:.1f} s after the restart; {len(in_doubt)} in doubt; {len(received)} received")


async def test_sigterm_stops_within_ten_seconds_with_a_group_over_its_limit(
    standin: BotApiStandIn, bot: BotProcess
) -> None:
    group = standin.group(-1003000)
    users = [standin.user(7200 + n, f"M{n}") for n in range(25)]
    await bot.start()
    await standin.wait_for("getUpdates", timeout=30)
    for user in users:  # 25 answers for one group: past its 20 a minute
        standin.type_text(group, user, "/aide@TiersLieuBot")
    await wait_until(lambda: len(texts_to(standin, -1003000)) >= 20, 60, "20 answers in the group", bot)
    code, took = await bot.terminate()
    assert code == 0
    assert took < 10.0, bot.tail()
    assert "Traceback" not in bot.log.read_text()
    # What could not go is pending, and goes after the next start (nothing lost).
    engine = make_engine(bot.database_url)
    with Session(engine) as session:
        waiting = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    engine.dispose()
    assert len(waiting) == 25 - len(texts_to(standin, -1003000))
