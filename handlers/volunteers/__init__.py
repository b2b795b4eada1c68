"""Volunteers, by use case: the hour log (``hours``: /task, /tasks), projects (/project), open shifts
(``shifts``: /need, /shifts, /take, /drop, /shift done), the opening rota (``rota``: /rota, /whoopens), the
volunteers' group (``groups``: /volunteers here) and the scheduler's jobs (``jobs``). One router for all."""

from __future__ import annotations

from handlers.volunteers import groups, hours, jobs, projects, rota, shifts
from handlers.volunteers.common import period_label, router, today_of
from handlers.volunteers.jobs import alert_uncovered_shifts, ask_shift_confirmations

__all__ = ["alert_uncovered_shifts", "ask_shift_confirmations", "groups", "hours", "jobs", "period_label",
           "projects", "rota", "router", "shifts", "today_of"]
