"""One shape for "the rules say no": a reason code the handler turns into a sentence, and the
figures that fill it in. Bookings, events and shifts each refine it."""

from __future__ import annotations


class Refused(Exception):
    """``reason`` is a code (full, past, too_long…); ``params`` fill in the sentence."""

    def __init__(self, reason: str, **params: int | str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params
