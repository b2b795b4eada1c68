"""Pieces for time: a moment or range, a duration. They wrap the date grammar of ``bot.core.dates``
(one vocabulary for every command); this module only turns its errors into sentences."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.core.dates import ERROR_MESSAGES, DateParseError, When, find_when, parse_when
from bot.core.errors import UserError
from bot.core.grammar.args import FOUND, LEADING, REST, Arg
from bot.core.i18n import N_, Translator
from storage.volunteer_rules import DurationError, Period, PeriodError, parse_period, split_duration

if TYPE_CHECKING:
    from bot.core.context import Ctx


def date_error(ctx: Ctx, error: DateParseError, example: str | None = None) -> UserError:
    """The date grammar's own sentence for what was wrong (``bot.core.dates.ERROR_MESSAGES``)."""
    example = example or ctx._("/book salle-reunion tomorrow 14:00-16:00")
    return UserError(date_error_text(ctx.translator, error), example=example)


def date_error_text(translator: Translator, error: DateParseError) -> str:
    """What was wrong with a moment, in one sentence: the grammar's own, or, for a weekday said with a date
    that is another day ("lundi 25/12"), which day that date is."""
    if error.dated is not None and error.weekday is not None:
        names = translator.names
        return translator.gettext("{date} is a {weekday}, not a {stated}: which day do you mean?").format(
            date=translator.fmt_day_month(error.dated), weekday=names.weekdays[error.dated.weekday()],
            stated=names.weekdays[error.weekday])
    return translator.gettext(ERROR_MESSAGES.get(error.code, ERROR_MESSAGES["no_date"]))


def duration_error(ctx: Ctx, error: DurationError, example: str | None = None) -> UserError:
    messages = {
        "missing": ctx._("How long? Start with a duration such as 2h, 2h30, 1.5h or 45min."),
        "unreadable": ctx._("I couldn't read the duration. Write it like 2h, 2h30, 1.5h or 45min."),
        "zero": ctx._("A duration of zero can't be logged."),
        "too_long": ctx._("That is more than 24 hours for one entry: split it into several days."),
    }
    return UserError(messages[error.code], example=example)


class WhenArg(Arg):
    """A day, optionally with hours ("demain 14h-16h", "samedi 18h-22h", "2026-12-08 14:00-16:00").
    ``need``: "day" (a day is enough), "start" (a time is needed), "range" (a start and an end)."""

    stage: float = REST
    label = N_("<when>")

    def __init__(self, name: str, *, need: str = "range", no_time: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.need = need
        self.no_time = no_time or N_("At what time? Give a start and an end.")

    def read(self, ctx: Ctx, text: str) -> tuple[When | None, str]:
        if not text:
            return None, text
        example = self.example(ctx.translator)
        try:
            when = parse_when(text, ctx.now, ctx.tz)
        except DateParseError as error:
            raise date_error(ctx, error, example) from None
        if self.need in {"start", "range"} and when.start is None:
            raise UserError(ctx._(self.no_time), example=example)
        if self.need == "range" and when.end is None:
            raise UserError(ctx._("Please give an end time or a length."), example=example)
        return when, ""

    def render(self, value: Any) -> str:
        return str(value)

    def sample(self) -> str | None:
        if self._sample is not None:
            return self._sample
        return "demain" if self.need == "day" else "demain 14h-16h"


_HOUR = r"(?:[01]?\d|2[0-3])\s*(?:h|:)\s*(?:[0-5]\d)?"
LEADING_HOURS = re.compile(
    rf"^\s*(?:de\s+|from\s+)?(?P<a>{_HOUR})\s*(?:-|–|à|a|to)\s*(?P<b>{_HOUR}|(?:[01]?\d|2[0-3]))(?![\w:])",
    re.IGNORECASE)


def _span_minutes(match: re.Match[str]) -> int:
    def minutes(value: str) -> int:
        hour, _, minute = re.sub(r"\s", "", value).lower().replace(":", "h").partition("h")
        return int(hour) * 60 + int(minute or 0)

    return (minutes(match["b"]) - minutes(match["a"])) % (24 * 60) or 24 * 60


class DurationArg(Arg):
    """A leading length: 2h, 2h30, 1.5h, 1,5 h, 45min, 1 heure et demie. The handler gets minutes."""

    default_sample: str | None = '2h'

    stage: float = LEADING
    label = N_("<duration>")

    def read(self, ctx: Ctx, text: str) -> tuple[int | None, str]:
        if not text:
            return None, text
        hours_given = LEADING_HOURS.match(text)
        if hours_given:
            # "14h-17h repair café": the hours the member was there, whose length is what is logged (3 h),
            # never the first hour read as a length (14 h).
            return _span_minutes(hours_given), text[hours_given.end():].strip()
        try:
            return split_duration(text)
        except DurationError as error:
            if self.optional and error.code in {"unreadable", "missing"}:
                return None, text
            raise duration_error(ctx, error, self.example(ctx.translator)) from None

    def render(self, value: Any) -> str:
        hours, minutes = divmod(int(value), 60)
        return f"{hours}h{minutes:02d}" if minutes else f"{hours}h"


class PastDayArg(Arg):
    """The day something was done, anywhere in the text ("hier soir", "le 28", "lundi dernier"): a day
    without its month or year is the last one gone. The handler gets the local date; a day to come is
    refused."""

    default_sample: str | None = 'hier'

    stage: float = FOUND
    label = N_("[day]")

    def __init__(self, name: str, **kwargs: Any) -> None:
        kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)

    def read(self, ctx: Ctx, text: str) -> tuple[date | None, str]:
        try:
            when, rest = find_when(text, ctx.now, ctx.tz, past=True)
        except DateParseError as error:
            raise date_error(ctx, error, self.example(ctx.translator)) from None
        if when is None:
            return None, text
        if when.day > ctx.now.astimezone(ctx.tz).date():
            raise UserError(ctx._("That day hasn't come yet: log the time once it is done."),
                            example=self.example(ctx.translator))
        return when.day, rest

    def usage(self, t: Any) -> str:
        return t.gettext(self.label)

    def render(self, value: Any) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)


class PeriodArg(Arg):
    """A report period: week (semaine), month (mois), year (année), a month (2026-11) or a year (2026);
    nothing is this month. The handler gets a ``Period`` of local days."""

    stage: float = REST
    label = N_("[week|month|year]")
    default_sample: str | None = "mois"

    def __init__(self, name: str, **kwargs: Any) -> None:
        kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)

    def read(self, ctx: Ctx, text: str) -> tuple[Period, str]:
        try:
            return parse_period(text, ctx.now.astimezone(ctx.tz).date()), ""
        except PeriodError:
            raise UserError(ctx._("Which period? week, month, year, a month like 2026-11 or a year like 2026."),
                            example=ctx._("/tasks month")) from None
