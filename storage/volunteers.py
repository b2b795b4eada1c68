"""Volunteer queries: task entries and projects, shifts taken under a lock (the last place goes to one
person), the rota materialised into shifts, the volunteers' group, and the views other features read
(``upcoming_shift_assignments``, ``rota_with_gaps``, ``open_needs``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Member, Space
from storage.models_volunteers import RotaSlot, Shift, ShiftSignup, TaskEntry, VolunteerGroup, VolunteerProject
from storage.refusals import Refused
from storage.volunteer_rules import can_take, missing_places, needs_uncovered_alert, rota_kind, rota_occurrences

ROTA_WEEKS_AHEAD = 4
DONE_PROMPT_WITHIN = timedelta(days=7)


class NotFound(LookupError):
    pass


class ShiftRefused(Refused):
    """``reason``: cancelled, started, full, already_taken, not_taken, not_over, already_logged."""


# --- Projects ------------------------------------------------------------------------------------------


def find_project(session: Session, slug: str) -> VolunteerProject | None:
    return session.exec(select(VolunteerProject).where(VolunteerProject.slug == slug)).first()


def get_or_create_project(session: Session, slug: str, now: datetime) -> VolunteerProject:
    """Tags are created on first use; two people creating the same one at once both get the one row."""
    project = find_project(session, slug)
    if project is not None:
        return project
    try:
        with session.begin_nested():
            project = VolunteerProject(slug=slug, created_at=now)
            session.add(project)
    except IntegrityError:
        project = find_project(session, slug)
        assert project is not None
    return project


def project_slugs(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(VolunteerProject.id, VolunteerProject.slug).where(col(VolunteerProject.id).in_(wanted)))
    return {pid: slug for pid, slug in rows if pid is not None}


def list_projects(session: Session) -> list[tuple[str, int]]:
    """Every project's slug with the minutes logged on it, most used first (columns: no objects built)."""
    minutes = func.coalesce(func.sum(TaskEntry.minutes), 0)
    rows = session.exec(
        select(VolunteerProject.slug, minutes)
        .join(TaskEntry, col(TaskEntry.project_id) == VolunteerProject.id, isouter=True)
        .group_by(col(VolunteerProject.id), col(VolunteerProject.slug))
        .order_by(minutes.desc(), col(VolunteerProject.slug))
    ).all()
    return [(slug, int(total)) for slug, total in rows]


def merge_projects(session: Session, source: VolunteerProject, target: VolunteerProject) -> int:
    """Everything tagged ``source`` is now tagged ``target``; ``source`` disappears. Returns the entries moved."""
    assert source.id is not None and target.id is not None
    moved = session.exec(select(func.count()).select_from(TaskEntry).where(TaskEntry.project_id == source.id)).one()
    for table in (TaskEntry, Shift):
        session.execute(update(table).where(col(table.project_id) == source.id).values(project_id=target.id))
    session.delete(source)
    session.flush()
    return int(moved)


def rename_project(session: Session, project: VolunteerProject, new_slug: str) -> None:
    project.slug = new_slug
    session.add(project)
    session.flush()


# --- Task entries --------------------------------------------------------------------------------------


def add_task(
    session: Session, member_id: int, minutes: int, description: str, project_id: int | None, day: date,
    now: datetime, shift_id: int | None = None,
) -> TaskEntry:
    entry = TaskEntry(member_id=member_id, minutes=minutes, description=description[:500], project_id=project_id,
                      day=day, shift_id=shift_id, created_at=now)
    session.add(entry)
    session.flush()
    return entry


def get_task(session: Session, entry_id: int) -> TaskEntry:
    entry = session.get(TaskEntry, entry_id)
    if entry is None:
        raise NotFound(entry_id)
    return entry


def task_totals(
    session: Session, first_day: date, end_day: date, member_id: int | None = None
) -> list[tuple[int, int | None, int]]:
    """(member id, project id, minutes) summed over the local days [first_day, end_day), everyone's or one
    member's: what /tasks and the report add up."""
    query = (select(TaskEntry.member_id, TaskEntry.project_id, func.sum(TaskEntry.minutes))
             .where(TaskEntry.day >= first_day, TaskEntry.day < end_day)
             .group_by(col(TaskEntry.member_id), col(TaskEntry.project_id)))
    if member_id is not None:
        query = query.where(TaskEntry.member_id == member_id)
    return [(mid, pid, int(minutes)) for mid, pid, minutes in session.exec(query)]


def recent_tasks(
    session: Session, member_id: int, first_day: date, end_day: date, limit: int
) -> tuple[list[TaskEntry], int]:
    """A member's newest entries over [first_day, end_day), and how many there are in all."""
    where = (TaskEntry.member_id == member_id, TaskEntry.day >= first_day, TaskEntry.day < end_day)
    entries = list(session.exec(select(TaskEntry).where(*where)
                                .order_by(col(TaskEntry.day).desc(), col(TaskEntry.id).desc()).limit(limit)))
    count = session.exec(select(func.count()).select_from(TaskEntry).where(*where)).one()
    return entries, int(count)


def member_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.exec(select(Member.id, Member.display_name).where(col(Member.id).in_(wanted)))
    return {mid: name for mid, name in rows if mid is not None}


# --- Shifts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftView:
    """A shift with who took it, as every listing shows it."""

    id: int
    title: str
    start: datetime
    end: datetime
    places: int
    project: str | None
    space: str | None
    rota_kind: str | None  # open | close | other for a rota shift, None for a posted need
    takers: tuple[tuple[int, str], ...]  # (member id, display name), in the order they took it

    @property
    def taken(self) -> int:
        return len(self.takers)

    @property
    def missing(self) -> int:
        return missing_places(self.places, self.taken)

    def taken_by(self, member_id: int) -> bool:
        return any(mid == member_id for mid, _ in self.takers)


def _views(session: Session, shifts: Sequence[Shift]) -> list[ShiftView]:
    ids = [s.id for s in shifts if s.id is not None]
    takers: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if ids:
        rows = session.exec(
            select(ShiftSignup.shift_id, Member.id, Member.display_name)
            .join(Member, col(Member.id) == ShiftSignup.member_id)
            .where(col(ShiftSignup.shift_id).in_(ids))
            .order_by(col(ShiftSignup.id))
        )
        for shift_id, member_id, name in rows:
            assert member_id is not None
            takers[shift_id].append((member_id, name))
    projects = project_slugs(session, (s.project_id for s in shifts))
    space_ids = {s.space_id for s in shifts if s.space_id is not None}
    spaces: dict[int | None, str] = {}
    if space_ids:
        spaces = {sid: name for sid, name in session.exec(
            select(Space.id, Space.name).where(col(Space.id).in_(space_ids)))}
    slot_ids = {s.rota_slot_id for s in shifts if s.rota_slot_id is not None}
    kinds: dict[int | None, str] = {}
    if slot_ids:
        kinds = {sid: kind for sid, kind in session.exec(
            select(RotaSlot.id, RotaSlot.kind).where(col(RotaSlot.id).in_(slot_ids)))}
    views = []
    for shift in shifts:
        assert shift.id is not None
        views.append(ShiftView(
            id=shift.id, title=shift.title, start=shift.start, end=shift.end, places=shift.places,
            project=projects.get(shift.project_id) if shift.project_id else None,
            space=spaces.get(shift.space_id) if shift.space_id else None,
            rota_kind=kinds.get(shift.rota_slot_id) if shift.rota_slot_id else None,
            takers=tuple(takers[shift.id]),
        ))
    return views


def _shifts_between(session: Session, start: datetime, end: datetime, *where: Any) -> list[Shift]:
    return list(session.exec(
        select(Shift)
        .where(Shift.status == "open", Shift.start < end, Shift.end > start, *where)
        .order_by(col(Shift.start), col(Shift.id))
    ))


def shifts_between(session: Session, start: datetime, end: datetime) -> list[ShiftView]:
    """Every open shift (needs and rota) overlapping [start, end), in time order, with their takers."""
    return _views(session, _shifts_between(session, start, end))


def shift_view(session: Session, shift: Shift) -> ShiftView:
    return _views(session, [shift])[0]


def rota_with_gaps(session: Session, start: datetime, end: datetime) -> list[ShiftView]:
    """The rota's shifts over [start, end), with their takers; a gap is a view with ``missing > 0``.
    Callers that look ahead should call ``materialise_rota`` first (the digest does)."""
    return _views(session, _shifts_between(session, start, end, col(Shift.rota_slot_id).is_not(None)))


def open_needs(session: Session, start: datetime, end: datetime) -> list[ShiftView]:
    """Shifts over [start, end), needs and rota alike, that still lack people."""
    return [v for v in shifts_between(session, start, end) if v.missing > 0]


def upcoming_shift_assignments(session: Session, start: datetime, end: datetime) -> list[tuple[ShiftView, int]]:
    """(shift, member id) for every place taken on a shift starting in [start, end): what shift
    reminders are built from."""
    shifts = _views(session, list(session.exec(
        select(Shift).where(Shift.status == "open", Shift.start >= start, Shift.start < end)
        .order_by(col(Shift.start), col(Shift.id)))))
    return [(view, member_id) for view in shifts for member_id, _ in view.takers]


def create_shift(
    session: Session, title: str, start: datetime, end: datetime, places: int, now: datetime, *,
    project_id: int | None = None, space_id: int | None = None, created_by: int | None = None,
) -> Shift:
    shift = Shift(title=title[:200], start=start, end=end, places=places, project_id=project_id, space_id=space_id,
                  created_by=created_by, created_at=now)
    session.add(shift)
    session.flush()
    return shift


def lock_shift(session: Session, shift_id: int) -> Shift:
    """Serialise sign-ups to one shift. PostgreSQL: a row lock; SQLite: the transaction began with
    BEGIN IMMEDIATE (storage.db), which serialises writers. The row is read again, not from the session."""
    shift = session.exec(
        select(Shift).where(Shift.id == shift_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if shift is None:
        raise NotFound(shift_id)
    return shift


def _signup(session: Session, shift_id: int, member_id: int) -> ShiftSignup | None:
    return session.exec(
        select(ShiftSignup).where(ShiftSignup.shift_id == shift_id, ShiftSignup.member_id == member_id)
    ).first()


def _taken(session: Session, shift_id: int) -> int:
    count = select(func.count()).select_from(ShiftSignup).where(ShiftSignup.shift_id == shift_id)
    return int(session.exec(count).one())


def take_shift(session: Session, shift_id: int, member_id: int, now: datetime) -> Shift:
    """Count the places under the shift's lock, then sign up. Raises ShiftRefused or NotFound."""
    shift = lock_shift(session, shift_id)
    if shift.status != "open":
        raise ShiftRefused("cancelled")
    if shift.start <= now:
        raise ShiftRefused("started")
    if _signup(session, shift_id, member_id) is not None:
        raise ShiftRefused("already_taken")
    if not can_take(shift.places, _taken(session, shift_id)):
        raise ShiftRefused("full")
    session.add(ShiftSignup(shift_id=shift_id, member_id=member_id, created_at=now))
    session.flush()
    return shift


def drop_shift(session: Session, shift_id: int, member_id: int, now: datetime) -> tuple[Shift, int]:
    """The member gives their place back; returns the shift and the id of the sign-up removed.
    A drop within the alert horizon counts as the shift's alert (the drop notice says it all)."""
    shift = lock_shift(session, shift_id)
    signup = _signup(session, shift_id, member_id)
    if signup is None:
        raise ShiftRefused("not_taken")
    if shift.start <= now:
        raise ShiftRefused("started")
    assert signup.id is not None
    signup_id = signup.id
    session.delete(signup)
    if shift.uncovered_alert_at is None and needs_uncovered_alert(shift.start, now, shift.places, 0, None):
        shift.uncovered_alert_at = now
        session.add(shift)
    session.flush()
    return shift, signup_id


def cancel_shift(session: Session, shift: Shift) -> list[int]:
    """Cancel a shift; returns the members who had taken it (they are told)."""
    shift.status = "cancelled"
    session.add(shift)
    takers = list(session.exec(select(ShiftSignup.member_id).where(ShiftSignup.shift_id == shift.id)))
    session.flush()
    return takers


def logged_entry(session: Session, shift_id: int, member_id: int) -> TaskEntry | None:
    return session.exec(
        select(TaskEntry).where(TaskEntry.shift_id == shift_id, TaskEntry.member_id == member_id)).first()


def confirm_shift_done(
    session: Session, shift_id: int, member_id: int, minutes: int | None, now: datetime, tz: ZoneInfo
) -> TaskEntry:
    """A shift the member took, once over, becomes a task entry on its local day (its own length unless
    corrected). Raises ShiftRefused or NotFound."""
    shift = lock_shift(session, shift_id)
    if _signup(session, shift_id, member_id) is None:
        raise ShiftRefused("not_taken")
    if shift.end > now:
        raise ShiftRefused("not_over")
    existing = logged_entry(session, shift_id, member_id)
    if existing is not None:
        assert existing.id is not None
        raise ShiftRefused("already_logged", entry=existing.id)
    length = minutes if minutes is not None else shift_minutes(shift)
    day = shift.start.astimezone(tz).date()
    return add_task(session, member_id, length, shift.title, shift.project_id, day, now, shift_id=shift.id)


def shift_minutes(shift: Shift | ShiftView) -> int:
    return int((shift.end - shift.start).total_seconds() // 60)


def shifts_to_confirm(session: Session, member_id: int, now: datetime) -> list[ShiftView]:
    """Shifts the member took, ended in the last week, not yet logged as hours."""
    logged = select(TaskEntry.shift_id).where(TaskEntry.member_id == member_id, col(TaskEntry.shift_id).is_not(None))
    shifts = list(session.exec(
        select(Shift).join(ShiftSignup, col(ShiftSignup.shift_id) == Shift.id)
        .where(ShiftSignup.member_id == member_id, Shift.status == "open", Shift.end <= now,
               Shift.end > now - DONE_PROMPT_WITHIN, col(Shift.id).not_in(logged))
        .order_by(col(Shift.start))
    ))
    return _views(session, shifts)


def done_prompts_due(session: Session, now: datetime) -> list[tuple[Shift, ShiftSignup]]:
    """Sign-ups of shifts just over, never asked about and not logged; marked as asked (asked once)."""
    rows = list(session.exec(
        select(Shift, ShiftSignup).join(ShiftSignup, col(ShiftSignup.shift_id) == Shift.id)
        .where(Shift.status == "open", Shift.end <= now, Shift.end > now - DONE_PROMPT_WITHIN,
               col(ShiftSignup.done_asked_at).is_(None))
        .order_by(col(Shift.start), col(ShiftSignup.id))
        .with_for_update(of=ShiftSignup)
    ))
    due = []
    for shift, signup in rows:
        signup.done_asked_at = now
        session.add(signup)
        if logged_entry(session, signup.shift_id, signup.member_id) is None:
            due.append((shift, signup))
    session.flush()
    return due


def uncovered_shifts_to_alert(session: Session, now: datetime) -> list[ShiftView]:
    """Shifts starting within the alert horizon that still lack people and were never alerted; marked
    as alerted in the caller's transaction, so whoever runs this every 15 minutes alerts each shift once."""
    candidates = list(session.exec(
        select(Shift)
        .where(Shift.status == "open", col(Shift.uncovered_alert_at).is_(None), Shift.start > now,
               Shift.start <= now + timedelta(hours=48))
        .order_by(col(Shift.start), col(Shift.id))
        .with_for_update()
    ))
    views = {v.id: v for v in _views(session, candidates)}
    alerted = []
    for shift in candidates:
        assert shift.id is not None
        view = views[shift.id]
        if needs_uncovered_alert(shift.start, now, shift.places, view.taken, shift.uncovered_alert_at):
            shift.uncovered_alert_at = now
            session.add(shift)
            alerted.append(view)
    session.flush()
    return alerted


# --- Rota ----------------------------------------------------------------------------------------------


def weekdays_text(weekdays: Iterable[int]) -> str:
    return ",".join(str(d) for d in sorted(set(weekdays)))


def weekdays_of(slot: RotaSlot) -> tuple[int, ...]:
    return tuple(int(d) for d in slot.weekdays.split(",") if d)


def add_rota_slot(
    session: Session, title: str, weekdays: Sequence[int], start: time, end: time, places: int,
    created_by: int | None, now: datetime,
) -> RotaSlot:
    slot = RotaSlot(title=title[:100], kind=rota_kind(title), weekdays=weekdays_text(weekdays), start_time=start,
                    end_time=end, places=places, created_by=created_by, created_at=now)
    session.add(slot)
    session.flush()
    return slot


def active_rota_slots(session: Session) -> list[RotaSlot]:
    return list(session.exec(select(RotaSlot).where(RotaSlot.active == True).order_by(  # noqa: E712
        col(RotaSlot.start_time), col(RotaSlot.id))))


def remove_rota_slot(session: Session, slot: RotaSlot, now: datetime) -> list[tuple[Shift, list[int]]]:
    """Stop a rota slot: its future shifts are cancelled; returns them with the members who had taken them."""
    slot.active = False
    session.add(slot)
    future = list(session.exec(select(Shift).where(Shift.rota_slot_id == slot.id, Shift.status == "open",
                                                   Shift.start > now)))
    return [(shift, cancel_shift(session, shift)) for shift in future]


def rota_horizon(today: date) -> date:
    """The last day of the rota kept as shifts: ROTA_WEEKS_AHEAD whole weeks, today included."""
    return today + timedelta(weeks=ROTA_WEEKS_AHEAD, days=-1)


def materialise_rota(session: Session, now: datetime, tz: ZoneInfo, until: date | None = None) -> int:
    """Create the shifts of every active rota slot from now to ``until`` (default: ROTA_WEEKS_AHEAD weeks),
    in local time. Idempotent (one shift per slot and start); the slots are locked so that two callers
    at once don't both insert. Returns how many shifts were created."""
    today = now.astimezone(tz).date()
    last_day = until or rota_horizon(today)
    slots = list(session.exec(select(RotaSlot).where(RotaSlot.active == True).with_for_update()))  # noqa: E712
    if not slots:
        return 0
    window_end = datetime.combine(last_day + timedelta(days=2), time(0), tzinfo=tz)
    existing = set(session.exec(
        select(Shift.rota_slot_id, Shift.start).where(col(Shift.rota_slot_id).in_([s.id for s in slots]),
                                                      Shift.start >= now, Shift.start < window_end)))
    created = 0
    for slot in slots:
        for start, end in rota_occurrences(weekdays_of(slot), slot.start_time, slot.end_time, today, last_day, tz):
            if start <= now or (slot.id, start) in existing:
                continue
            session.add(Shift(title=slot.title, start=start, end=end, places=slot.places, rota_slot_id=slot.id,
                              created_by=slot.created_by, created_at=now))
            created += 1
    session.flush()
    return created


# --- The volunteers' group and the coordinators --------------------------------------------------------


def volunteer_groups(session: Session) -> list[VolunteerGroup]:
    return list(session.exec(select(VolunteerGroup).order_by(col(VolunteerGroup.id))))


def set_volunteer_group(session: Session, platform: str, chat_id: str, member_id: int, now: datetime) -> bool:
    """Returns False if this chat already was the volunteers' group."""
    exists = session.exec(select(VolunteerGroup).where(VolunteerGroup.platform == platform,
                                                       VolunteerGroup.chat_id == chat_id)).first()
    if exists is not None:
        return False
    session.add(VolunteerGroup(platform=platform, chat_id=chat_id, set_by=member_id, created_at=now))
    session.flush()
    return True


def remove_volunteer_group(session: Session, platform: str, chat_id: str) -> bool:
    result = session.execute(delete(VolunteerGroup).where(
        col(VolunteerGroup.platform) == platform, col(VolunteerGroup.chat_id) == chat_id))
    return bool(getattr(result, "rowcount", 0))
