"""The listing commands with N rows to list, for tests/test_list_queries.py (the number of SQL statements of
a listing does not grow with its rows) and bench/bench_lists.py (statements and p50 time with 1 and 100 rows).

Each scenario starts from a fresh chat (``setup``), then ``add(chat, k)`` adds row number ``k`` (1, 2, …) of
what the command lists, through the commands members and coordinators type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from tests.harness import Chat, with_settings

FIRST_DAY = date(2026, 11, 24)  # the harness's "now" is Monday 23 November 2026


def _day(k: int, spread: int = 100) -> str:
    return (FIRST_DAY + timedelta(days=k % spread)).isoformat()


def _past_day(k: int, spread: int = 20) -> str:
    """One of the ``spread`` days before today (this month, for ``spread`` up to 22)."""
    return (FIRST_DAY - timedelta(days=2 + k % spread)).isoformat()


def _ok(chat: Chat, user: str, text: str, **kwargs: Any) -> None:
    chat.say(user, text, **kwargs)


def _nothing(chat: Chat) -> None:
    return None


# --- what each listing lists ---------------------------------------------------------------------------------

def _event_with_signups(chat: Chat) -> None:
    _ok(chat, "coord", '/event add "Grande fête" 2026-12-12 14h-18h places 500')


def _signup(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", "/join 1")


def _event(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/event add "Atelier {k}" {_day(k)} 14h-16h places 1')
    _ok(chat, f"u{k}", f"/join {k}")


def _my_event(chat: Chat, k: int) -> None:
    """Alice signed up for event k: on the waiting list of the odd ones (bob took the one place)."""
    _ok(chat, "coord", f'/event add "Atelier {k}" {_day(k)} 14h-16h places 1')
    if k % 2:
        _ok(chat, "bob", f"/join {k}")
    _ok(chat, "alice", f"/join {k}")


def _task(chat: Chat, k: int) -> None:
    _ok(chat, "alice", f"/task 1h tri #projet{k} {_past_day(k)}")


def _need(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/need "Bar {k}" {_day(k, 12)} 18h-22h 2 places')
    _ok(chat, f"u{k}", f"/take {k}")
    if k % 3 == 0:
        _ok(chat, "alice", f"/take {k}")


def _rota_line(chat: Chat, k: int) -> None:
    kind = "ouverture" if k % 2 else "fermeture"
    _ok(chat, "coord", f"/rota add {kind}{k} sam {8 + k % 10:02d}:00-{9 + k % 10:02d}:00 2")


def _rota_line_taken(chat: Chat, k: int) -> None:
    _rota_line(chat, k)
    _ok(chat, f"u{k}", "/shifts")  # a member row
    from sqlmodel import Session, col, select

    from storage.models_volunteers import Shift
    with Session(chat.app.engine) as session:  # the line's first shift (this Saturday)
        shift = session.exec(select(Shift.id).where(Shift.rota_slot_id == k).order_by(col(Shift.start))).first()
    if shift is not None:
        _ok(chat, f"u{k}", f"/take {shift}")


def _engagement(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", "/start")
    _ok(chat, f"u{k}", f"/task 2h accueil {_past_day(k)}")
    _ok(chat, "coord", f"/engagement set {'board' if k % 2 else 'leader'} U{k}")


def _attendance_setup(chat: Chat) -> None:
    _ok(chat, "coord", '/event add "Grande fête" 2026-11-23 14h-18h places 500')


def _attendance(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", "/join 1")
    if k % 2:
        _ok(chat, "coord", f"/attendance mark 1 #{_member_number(chat, f'u{k}')} present")


def _member_number(chat: Chat, user: str) -> int:
    from sqlmodel import Session, select

    from storage.models import Identity
    with Session(chat.app.engine) as session:
        found = session.exec(select(Identity.member_id).where(Identity.user_id == user)).first()  # type: ignore[arg-type]
    assert found is not None, user
    return int(found)


def _category(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f"/categories add {'visitors' if k % 2 else 'activities'} c{k}")


def _decision(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/poll "Question {k}" "Oui" "Non"')
    _ok(chat, "alice", f"/vote {k} 1")
    _ok(chat, "coord", f"/poll close {k}")


def _poll(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/poll "Question {k}" "Oui" "Non"')
    _ok(chat, "alice", f"/vote {k} {1 + k % 2}")


def _role(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", "/start")
    _ok(chat, "coord", f"/role r{k % 7} U{k}")


def _space(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/space add s{k} "Salle {k}" capacity={1 + k % 4}')


def _member(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", "/start")


def _report_row(chat: Chat, k: int) -> None:
    """An hour logged, an event of the month with a sign-up, a booking."""
    _ok(chat, f"u{k}", f"/task 1h tri #projet{k % 30} {_past_day(k)}")
    _ok(chat, "coord", f'/event add "Atelier {k}" {_day(k, 7)} 18h-19h places 5')
    _ok(chat, f"u{k}", f"/join {k}")
    _ok(chat, f"u{k}", f"/book salle-reunion {_day(k, 5)} {9 + k % 8:02d}:00-{10 + k % 8:02d}:00")


def _presence(chat: Chat, k: int) -> None:
    """Alice came to event k (today)."""
    _ok(chat, "coord", f'/event add "Atelier {k}" 2026-11-23 14h-16h places 5')
    _ok(chat, "alice", f"/join {k}")
    _ok(chat, "coord", f"/attendance mark {k} #{_member_number(chat, 'alice')} present")


def _series_date(chat: Chat, k: int) -> None:
    """Event 1 is a weekly series: each k, someone signs up for its first date."""
    _ok(chat, f"u{k}", "/join 1")


def _series(chat: Chat) -> None:
    _ok(chat, "coord", '/event add "Repair café" samedi 14h-18h places 500 chaque samedi')


def _group(chat: Chat, k: int) -> None:
    _ok(chat, "coord", "/volunteers here", group=f"g{k}")


def _network(chat: Chat) -> None:
    """Two places (issue 18); bob's is Orgelet, which has a meeting room."""
    _ok(chat, "coord", '/place add orgelet "Orgelet" mar=9h-18h')
    _ok(chat, "coord", '/place add foncine "Foncine-le-Haut"')
    _ok(chat, "coord", '/space add salle-orgelet "Salle de réunion" lieu=orgelet capacite=10')
    _ok(chat, "bob", "/place orgelet")


def _place_event(chat: Chat, k: int) -> None:
    space = "salle-orgelet" if k % 2 else "petite-salle"
    _ok(chat, "coord", f'/event add "Atelier {k}" {_day(k)} 14h-16h lieu {space} places 3')
    _ok(chat, f"u{k}", f"/join {k}")


def _place_need(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/need "Bar {k}" {_day(k, 12)} 18h-22h 2 places lieu '
                       f'{"salle-orgelet" if k % 2 else "petite-salle"}')


def _place_space(chat: Chat, k: int) -> None:
    _ok(chat, "coord", f'/space add so{k} "Salle O{k}" lieu={"orgelet" if k % 2 else "foncine"}')


def _place_report_row(chat: Chat, k: int) -> None:
    _ok(chat, f"u{k}", f"/place {'orgelet' if k % 2 else 'foncine'}")
    _ok(chat, f"u{k}", f"/task 1h tri #projet{k % 30} {_past_day(k)}")
    _ok(chat, "coord", f'/event add "Atelier {k}" {_day(k, 7)} 18h-19h places 5 lieu '
                       f'{"salle-orgelet" if k % 2 else "petite-salle"}')
    _ok(chat, f"u{k}", f"/join {k}")


@dataclass(frozen=True)
class ListScenario:
    """``command`` typed by ``user`` lists what ``add`` adds, one row each call."""

    name: str
    command: str
    add: Callable[[Chat, int], None]
    user: str = "coord"
    setup: Callable[[Chat], None] = _nothing


SCENARIOS: tuple[ListScenario, ...] = (
    ListScenario("events", "/events", _event),
    ListScenario("event show", "/event 1", _signup, setup=_event_with_signups),
    ListScenario("attendees", "/attendees 1", _signup, setup=_event_with_signups),
    ListScenario("myevents", "/myevents", _my_event, user="alice"),
    ListScenario("tasks", "/tasks", _task, user="alice"),
    ListScenario("project list", "/project", _task),
    ListScenario("shifts", "/shifts", _need, user="alice"),
    ListScenario("rota list", "/rota list", _rota_line),
    ListScenario("rota week", "/rota", _rota_line_taken),
    ListScenario("whoopens", "/whoopens saturday", _rota_line_taken),
    ListScenario("engagement list", "/engagement", _engagement),
    ListScenario("event show (series)", "/event 1", _series_date, setup=_series),
    ListScenario("attendance list", "/attendance 1", _attendance, setup=_attendance_setup),
    ListScenario("mypresence", "/mypresence", _presence, user="alice"),
    ListScenario("categories", "/categories", _category),
    ListScenario("decisions", "/decisions", _decision),
    ListScenario("polls", "/polls", _poll, user="alice"),
    ListScenario("role list", "/role list", _role),
    ListScenario("spaces", "/spaces", _space),
    ListScenario("members", "/members", _member),
    ListScenario("report", "/report", _report_row),
    ListScenario("volunteers", "/volunteers", _group),
    ListScenario("events (places)", "/events", _place_event, user="bob", setup=_network),
    ListScenario("events all (places)", "/events all", _place_event, user="bob", setup=_network),
    ListScenario("shifts (places)", "/shifts", _place_need, user="bob", setup=_network),
    ListScenario("spaces (places)", "/spaces", _place_space, user="bob", setup=_network),
    ListScenario("report (network)", "/report network", _place_report_row, setup=_network),
)


class StatementCounter:
    """SQL statements sent on an engine while ``counting()`` is open (a SQLAlchemy cursor event)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []
        self._on = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._on:
            self.count += 1
            self.statements.append(statement)

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.statements, self._on = 0, [], True
        try:
            yield
        finally:
            self._on = False

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def grow(chat: Chat, scenario: ListScenario, have: int, want: int) -> None:
    if chat.app.dispatcher.settings.commands_per_minute < 10_000:  # the harness's clock stands still
        with_settings(chat, commands_per_minute=10_000)
    for k in range(have + 1, want + 1):
        scenario.add(chat, k)


def statements_of(chat: Chat, counter: StatementCounter, scenario: ListScenario) -> tuple[int, str]:
    """The statements of the command's second run (the first may do once-only work: materialise a rota),
    and its answer."""
    chat.say(scenario.user, scenario.command)
    with counter.counting():
        text = chat.text(scenario.user, scenario.command)
    return counter.count, text
