"""Talking to the bot in plain sentences (issue 12) and typed numbers as button presses (issue 13).

``hear`` is the dispatcher's hook for every message that is not a command; ``remember_offered`` records
the buttons of every answer so that a typed number can press one (``typed_choice``, under the rule of
``may_press_by_number``). ``requests.REQUESTS`` is the one table from requests to commands.
"""

from bot.core.conversation.talk import (
    CHOICE_MINUTES,
    REQUEST_MINUTES,
    hear,
    is_addressed,
    may_press_by_number,
    remember_offered,
    typed_choice,
)

__all__ = ["CHOICE_MINUTES", "REQUEST_MINUTES", "hear", "is_addressed", "may_press_by_number",
           "remember_offered", "typed_choice"]
