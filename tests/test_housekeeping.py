"""Old buttons and reactions are forgotten; what adapters need to keep working is kept."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from storage.db import session_scope
from storage.models import AdapterState
from tests.harness import Chat


def test_state_of_old_buttons_is_pruned_and_sync_tokens_logins_and_recent_buttons_stay(chat: Chat) -> None:
    now = chat.clock.now
    old, recent = now - timedelta(days=91), now - timedelta(days=10)
    rows = {
        "telegram:button:abc": old, "matrix:actions:$event": old, "matrix:reaction:$r": old,
        "matrix:undos:$event": old, "telegram:button:new": recent, "matrix:sync_token": old,
        "matrix:login": old, "telegram:migrated:-100": old, "telegram:blocked:42": old,
    }
    with session_scope(chat.app.engine) as session:
        for key, at in rows.items():
            session.add(AdapterState(key=key, value="x", updated_at=at))
    chat.app.jobs.run_now("housekeeping")
    with Session(chat.app.engine) as session:
        kept = sorted(row.key for row in session.exec(select(AdapterState)))
    assert kept == ["matrix:login", "matrix:sync_token", "telegram:blocked:42", "telegram:button:new",
                    "telegram:migrated:-100"]
