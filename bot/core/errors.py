"""The two kinds of failure a handler may raise: both end up as a friendly reply, never a traceback."""

from __future__ import annotations

from bot.core.types import Action


class UserError(Exception):
    """Something the user can fix; ``message`` is already in their language."""

    def __init__(self, message: str, example: str | None = None, actions: tuple[Action, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.example = example
        # Buttons offered with the answer (e.g. which of several members was meant).
        self.actions = actions


class UsageError(UserError):
    """Missing or garbled arguments: the dispatcher adds the command's usage line."""


class NotAllowed(UserError):
    """The member may not do this (not theirs, not a coordinator)."""
