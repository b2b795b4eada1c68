"""Deciding together: polls, date polls, proposals, the decision log and the roles proposals can be put to."""

from __future__ import annotations

from handlers.decisions import dates, jobs, log, polls, proposals, roles
from handlers.decisions.common import router

__all__ = ["dates", "jobs", "log", "polls", "proposals", "roles", "router"]
