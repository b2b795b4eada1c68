"""Events, by use case: showing them (``cards``), finding them (``browsing``: /events, /myevents,
/attendees), creating and posting (``creating``: /event, /event add|post), changing (``changing``: /event
edit|cancel), signing up (``signing_up``: /join, /leave), naming organisers (``organisers``), and telling
people what changed (``notifying``). One router for all."""

from __future__ import annotations

from handlers.events import browsing, changing, creating, organisers, signing_up
from handlers.events.common import router

__all__ = ["browsing", "changing", "creating", "organisers", "router", "signing_up"]
