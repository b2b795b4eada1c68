"""The `tierslieu` command as a newcomer uses it: a scripted console chat, spaces import, db upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Space

ROOT = Path(__file__).resolve().parent.parent


def tierslieu(args: list[str], cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "LANGUAGE": "fr", **env}
    full_env.pop("DATABASE_URL", None) if "DATABASE_URL" not in env else None
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=120)


def test_console_chat_on_a_fresh_directory_seeds_spaces_and_books(tmp_path: Path) -> None:
    result = tierslieu(["chat", "--user", "alice"], tmp_path,
                       "/spaces\n/book salle-reunion 2099-01-06 10h-11h\n/mybookings\n")
    assert result.returncode == 0, result.stderr
    assert "== Espaces ==" in result.stdout and "Salle de réunion (salle-reunion)" in result.stdout
    assert (tmp_path / "tierslieu.db").exists()


def test_console_actions_are_numbered_and_answered_by_number(tmp_path: Path) -> None:
    result = tierslieu(["chat", "--user", "coord", "--coordinator"], tmp_path,
                       "/space edit salle-reunion max_days_ahead=730\n/book salle-reunion 2027-01-05 10h-11h\n1\n")
    assert result.returncode == 0, result.stderr
    assert "  [1] Annuler" in result.stdout
    assert "Annulé : #1 Salle de réunion" in result.stdout


def test_spaces_import_creates_then_updates(tmp_path: Path) -> None:
    spaces = tmp_path / "spaces.toml"
    spaces.write_text('[site]\nslug = "ferme"\nname = "La Ferme"\n[site.hours]\nmon = "09:00-17:00"\n'
                      '[[spaces]]\nslug = "grange"\nname = "La Grange"\ncapacity = 30\n')
    first = tierslieu(["spaces", "import", str(spaces)], tmp_path)
    assert first.returncode == 0 and first.stdout.strip() == f"1 spaces created, 0 updated from {spaces}"
    again = tierslieu(["spaces", "import", str(spaces)], tmp_path)
    assert again.stdout.strip() == f"0 spaces created, 1 updated from {spaces}"
    with Session(make_engine(f"sqlite:///{tmp_path / 'tierslieu.db'}")) as session:
        [grange] = session.exec(select(Space)).all()
    assert (grange.name, grange.capacity) == ("La Grange", 30)


def test_spaces_import_of_a_bad_file_says_where_and_writes_nothing(tmp_path: Path) -> None:
    spaces = tmp_path / "spaces.toml"
    spaces.write_text('[[spaces]]\nslug = "ok"\n[[spaces]]\nslug = "Bad Slug"\n')
    result = tierslieu(["spaces", "import", str(spaces)], tmp_path)
    assert result.returncode == 1
    assert "[[spaces]] #2: slug 'bad slug' must be lowercase letters" in result.stderr
    with Session(make_engine(f"sqlite:///{tmp_path / 'tierslieu.db'}")) as session:
        assert session.exec(select(Space)).all() == []


def test_example_spaces_file_loads(tmp_path: Path) -> None:
    result = tierslieu(["spaces", "import", str(ROOT / "examples" / "spaces.toml")], tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("6 spaces created")


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = tierslieu(["db", "upgrade"], tmp_path)
        assert result.returncode == 0 and "up to date" in result.stdout


def test_run_with_an_unreachable_bot_api_stops_with_one_line_and_status_2(tmp_path: Path) -> None:
    result = tierslieu(["run"], tmp_path, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL="http://127.0.0.1:1",
                       HTTP_PORT="0", LOG_LEVEL="WARNING")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "cannot start: TELEGRAM_API_URL: cannot reach the Bot API at http://127.0.0.1:1 "
        "(aiohttp.ClientConnectorError: Cannot connect to host 127.0.0.1:1 ssl:default "
        "[Connect call failed ('127.0.0.1', 1)])"]
