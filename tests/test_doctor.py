"""`tierslieu doctor` on a good installation (exit 0) and on a broken one (exit 1, each problem named with
what to do), against a real database, the Bot API stand-in and the bot's own HTTP server."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.doctor import run_doctor
from tests.harness import make_chat
from tests.integration.telegram_standin import BotApiStandIn
from tests.test_health_metrics import served_app


async def doctor(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    status = await asyncio.to_thread(run_doctor, env, out)
    return status, out.getvalue()


async def test_a_good_installation_passes_in_french(tmp_path: Path, standin: BotApiStandIn) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    make_chat(url).app.engine.dispose()  # an up-to-date database
    chat, base = await served_app(url)  # the bot runs: PUBLIC_URL answers
    try:
        status, text = await doctor({
            "DATABASE_URL": url, "LANGUAGE": "fr", "DATA_DIR": str(tmp_path / "data"),
            "TELEGRAM_BOT_TOKEN": standin.token, "TELEGRAM_API_URL": standin.url, "PUBLIC_URL": base,
        })
    finally:
        await chat.app.stop()
    assert status == 0, text
    assert "✔ Base de données : accessible et à jour" in text
    assert f"✔ Telegram : connecté en tant que @{standin.username}" in text
    assert f"✔ PUBLIC_URL répond ({base}/healthz)" in text
    assert "✔ Sauvegardes : aucune pour l'instant dans" in text
    assert "✘" not in text and text.rstrip().endswith("Tout va bien.")


async def test_a_broken_installation_names_each_problem_with_what_to_do(
        tmp_path: Path, standin: BotApiStandIn) -> None:
    database = tmp_path / "bot.db"
    make_chat(f"sqlite:///{database}").app.engine.dispose()
    connection = sqlite3.connect(database)
    connection.execute("UPDATE alembic_version SET version_num = '0999' WHERE rowid = 1")  # a newer version's
    connection.commit()
    connection.close()
    (tmp_path / "data").write_text("not a directory")
    status, text = await doctor({
        "DATABASE_URL": f"sqlite:///{database}", "LANGUAGE": "en", "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "123456:wrong", "TELEGRAM_API_URL": standin.url,
        "PUBLIC_URL": "http://bot.tierslieu.invalid",
    })
    assert status == 1
    lines = text.splitlines()

    def advice(problem: str) -> str:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"✘ {problem}"))
        assert lines[index + 1].startswith("  → ")
        return lines[index + 1]

    assert "CHANGELOG" in advice("Database: made by a newer version of the bot")
    assert "@BotFather" in advice("Telegram: the bot token is refused")
    assert "reverse proxy" in advice("PUBLIC_URL is not https")
    assert "DNS" in advice("PUBLIC_URL: the name bot.tierslieu.invalid doesn't resolve")
    assert "DATA_DIR" in advice(f"DATA_DIR {tmp_path / 'data'} is a file")
    assert lines[-1] == "5 problems to fix."


async def test_an_unreachable_database_server_and_an_open_matrix_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o755)
    status, text = await doctor({
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing", "LANGUAGE": "en",
        "DATA_DIR": str(tmp_path), "MATRIX_STORE_DIR": str(store),
    })
    assert status == 1
    assert "✘ Database: cannot connect" in text and "Check DATABASE_URL" in text
    assert f"✘ The Matrix encryption store {store} can be read by other users\n  → chmod 700 {store}" in text
    assert "! No chat platform is configured" in text


async def test_backups_that_stopped_are_noticed(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "tierslieu-backup-20260101T033000Z.tar.gz").write_bytes(b"")
    status, text = await doctor({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "LANGUAGE": "en",
                                 "DATA_DIR": str(tmp_path), "BACKUP_DIR": str(backups)})
    assert status == 0
    assert "! The newest backup is " in text and "systemctl status tierslieu" in text
    status, text = await doctor({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "LANGUAGE": "en",
                                 "DATA_DIR": str(tmp_path), "BACKUP_KEEP": "0"})
    assert "! The daily backup is off (BACKUP_KEEP=0)" in text


def test_doctor_reads_the_units_settings_file_and_finds_it_readable_by_all(tmp_path: Path) -> None:
    settings = tmp_path / "tierslieu.env"
    settings.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'bot.db'}\nDATA_DIR={tmp_path}\nLANGUAGE=en\n"
                        "DIGEST_SCHEDULE=tue 09:00\n")
    settings.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATA_DIR", "LANGUAGE"}}
    result = subprocess.run([sys.executable, "-m", "bot", "--env-file", str(settings), "doctor"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert f"✔ Database: {tmp_path / 'bot.db'} will be created at the first start" in result.stdout
    assert f"✘ The settings file {settings} (tokens, passwords) can be read by every user\n  → chmod 640 {settings}" \
        in result.stdout


def test_tierslieu_doctor_reports_a_bad_setting_in_one_line_with_exit_1(tmp_path: Path) -> None:
    env = {**os.environ, "LANGUAGE": "fr", "HTTP_PORT": "quatre-vingt", "DATABASE_URL": "sqlite:///x.db"}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert "✘ Réglages : HTTP_PORT: 'quatre-vingt' is not a port number (0-65535)" in result.stdout
    assert "→ Corrigez cette ligne dans .env" in result.stdout
    assert not (tmp_path / "x.db").exists()
