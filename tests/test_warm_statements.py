"""A long-running bot compiles its hot statements at start (App.warm_statements, called by App.start), so the
first member to book doesn't wait for them (issue 15: the first /book spent ~6 ms compiling five)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.sql import ClauseElement

from storage.prepared import _EVERY
from tests.harness import make_chat


def first_booking_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, warmed: bool) -> list[Any]:
    """The Prepared statements compiled while a fresh bot answers its first /book."""
    for prepared in list(_EVERY):  # as in a new process: nothing compiled yet
        monkeypatch.setattr(prepared, "_compiled", {})
    chat = make_chat(f"sqlite:///{tmp_path}/bot.db")
    try:
        if warmed:
            chat.app.warm_statements()
        compiled: list[Any] = []
        original = ClauseElement.compile

        def spy(self: ClauseElement, *args: Any, **kwargs: Any) -> Any:
            compiled.append(self)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(ClauseElement, "compile", spy)
        assert chat.text("alice", "/book salle-reunion demain 14h-15h").startswith("Réservé")
        ours = {id(prepared.statement) for prepared in _EVERY}
        return [statement for statement in compiled if id(statement) in ours]
    finally:
        chat.app.engine.dispose()


def test_a_started_bot_books_without_compiling_its_statements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert first_booking_compiles(tmp_path, monkeypatch, warmed=True) == []


def test_without_the_warm_up_the_first_booking_compiles_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(first_booking_compiles(tmp_path, monkeypatch, warmed=False)) >= 3


def test_a_dialects_own_statements_are_left_to_that_dialect(tmp_path: Path) -> None:
    """A process that met SQLite then PostgreSQL (the test suite) compiles each upsert for its own dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    from storage.conversation import _new_choices
    from storage.prepared import Prepared

    _new_choices("sqlite")
    _new_choices("postgresql")
    Prepared.compile_all(postgresql.dialect())  # would raise compiling SQLite's upsert for PostgreSQL
    Prepared.compile_all(sqlite.dialect())
    assert "sqlite" not in _new_choices("postgresql")._compiled
    assert "postgresql" not in _new_choices("sqlite")._compiled
