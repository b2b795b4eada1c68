"""From a sentence (or an answer to a question) to what the bot does: run a reading command at once,
show a changing command for confirmation, ask for what is missing (one question at a time), offer a
choice, or say it did not understand. Nothing here runs a command or writes a row: ``talk`` does.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.conversation import words as W
from bot.core.conversation.reading import (
    Moment,
    clean,
    content_words,
    cue_span,
    find_minutes,
    find_moment,
    find_reference,
    intent_of,
    names_booking_verb,
    strip_span,
    tidy_free_text,
)
from bot.core.conversation.requests import CHANGEABLE, EXAMPLES, REQUESTS
from bot.core.dates import ERROR_MESSAGES, DateParseError, parse_when
from bot.core.grammar.moments import date_error_text
from bot.core.i18n import Translator
from bot.core.router import fold
from bot.core.types import Action
from bot.core.vocabulary import PERIOD_SPANS
from storage import volunteers as shifts_store
from storage.bookings import upcoming_bookings
from storage.events import member_signups, upcoming_occurrences
from storage.models import Booking
from storage.models_events import SIGNUP_WAITLISTED
from storage.spaces import SpaceView, space_views

MAX_BUTTONS = 8
EVENT_HORIZON = timedelta(days=90)
SHIFT_HORIZON = timedelta(days=14)


@dataclass
class Plan:
    """What to answer. ``kind``: run (a reading command, at once), press (a confirmed command), confirm,
    ask, choose, say, unknown, greet, thanks, forget, none (nothing to answer)."""

    kind: str
    intent: str | None = None
    command: str | None = None
    text: str = ""
    actions: tuple[Action, ...] = ()
    request: dict[str, Any] | None = None

    @property
    def outcome(self) -> str:
        """For the corpus: the command run or proposed, 'ask' (a question or a choice), 'answer' (a reply
        that changes nothing: a greeting, "no such booking") or 'not understood'."""
        if self.kind in {"run", "confirm", "press"}:
            return self.command or ""
        if self.kind in {"ask", "choose"}:
            return "ask"
        if self.kind == "unknown":
            return "not understood"
        return "answer"


@dataclass
class Found:
    """The pieces of a sentence, before they are checked against the database."""

    slots: dict[str, Any] = field(default_factory=dict)
    rest: str = ""
    error: str | None = None  # the date grammar refused the moment said (DateParseError.code)
    refusal: DateParseError | None = None  # its refusal, when the sentence can say more than the code


_TASK_LEAD = {"j'ai", "jai", "fait", "fais", "donne", "passe", "bosse", "travaille", "aide", "consacre", "note",
              "noter", "notes", "compte", "compter", "log", "logge", "logged", "i", "did", "spent", "gave", "worked",
              "volunteered", "helped", "add", "record", "moi", "on", "a", "we", "benevole", "enregistre", "ajoute",
              "put", "in", "ai", "je", "tenu", "assure", "file", "mes", "mon", "ma", "my", "ajoute-moi", "note-moi",
              "compte-moi", "mets-moi", "mets", "met"}
_EVENT_STOP = {"inscris", "inscrire", "inscrit", "inscri", "m'inscrire", "desinscris", "desinscrire", "participer",
               "participe", "viens", "venir", "viendrai", "sign", "up", "me", "register", "come", "join", "attend",
               "moi", "veux", "voudrais", "peux", "pas", "plus", "ne", "je", "i", "can't", "cant", "won't", "cannot",
               "count", "in", "retire", "enleve", "leave", "annule", "annuler", "cancel", "place", "inscription",
               "participation", "serai", "will", "be", "there", "i'll", "i'm", "coming", "put", "down", "off", "out",
               "take", "remove", "from", "for", "y", "aller", "nous", "please", "spot", "seat", "registration",
               "vais", "va", "aussi", "svp", "stp", "m", "mon", "ma", "evenement", "event", "pourrai", "pourrais",
               "unregister", "make", "it", "go", "like", "would", "i'd", "ajoute", "avec", "une", "un", "prochain",
               "prochaine", "next", "dispo", "encore", "signup", "sign-up", "des", "finalement", "est-ce", "que",
               "desinscri", "desinscrit", "tout", "tous", "all", "everything", "toutes"}
_PERIOD_WORDS = {"semaine": "week", "week": "week", "mois": "month", "month": "month", "annee": "year",
                 "year": "year", "an": "year"}
_EVENT_PERIOD_WORDS = {"aujourd'hui": "today", "today": "today", "ce soir": "today", "tonight": "today",
                       "semaine": "week", "week": "week", "mois": "month", "month": "month"}


_LEAD_IN = re.compile(r"^(?:moi|me|nous|tu peux|peux-tu|peux tu|pourrais-tu|est-ce que tu peux|can you|could you)\b",
                      re.IGNORECASE)


# Where a reminder's own words start: "d'appeler", "de sortir", "to call", "que".
_DESCRIPTION_START = re.compile(r"(?<!\S)(?:d'(?=[^\W\d])|de (?=[^\W\d]\w*(?:er|ir|re)\b)|to (?=[^\W\d])|qu'|que )",
                                re.IGNORECASE)
_STRAY_TIME = re.compile(
    r"(?:(?<!\S)(?:a|à|at|vers|des|dès)\s+)?(?<![\w:])(?:\d{1,2}\s?h(?:[0-5]\d)?|\d{1,2}:[0-5]\d|\d{1,2}\s?(?:am|pm)"
    r"|midi|minuit|noon|midnight)(?![\w:])",
    re.IGNORECASE,
)


def _description(text: str) -> str:
    """The member's own words of a request (a task's description, a reminder's text), tidied."""
    words = text.split()
    while words and fold(words[0]) in _TASK_LEAD | W.FILLER_WORDS:
        words.pop(0)
    return tidy_free_text(_LEAD_IN.sub("", " ".join(words)).strip())


def _iso(day: date) -> str:
    return day.isoformat()


def _hm(moment: time) -> str:
    return f"{moment:%H:%M}"


def _similar(word: str, key: str) -> bool:
    if word == key:
        return True
    if len(word) >= 3 and len(key) >= 3 and (key.startswith(word) or (len(key) >= 4 and word.startswith(key))):
        return True
    return len(word) >= 5 and len(key) >= 5 and difflib.SequenceMatcher(None, word, key).ratio() >= 0.8


def date_or_weekday(dated: date, weekday: int) -> list[date]:
    """The days someone may have meant by a weekday said with a date that is another day ("lundi 25/12",
    Monday = 0): the nearest such weekday before the date, the date, the nearest after; in order."""
    before = dated - timedelta(days=(dated.weekday() - weekday) % 7 or 7)
    after = dated + timedelta(days=(weekday - dated.weekday()) % 7 or 7)
    return [before, dated, after]


class Planner:
    """Plans the answer to one message of one member, reading the database but writing nothing."""

    def __init__(self, session: Session, member_id: int, now: datetime, translator: Translator) -> None:
        self.session = session
        self.member_id = member_id
        self.now = now
        self.t = translator
        self.tz = translator.tz
        self.today = now.astimezone(self.tz).date()
        self._spaces: list[SpaceView] | None = None

    # --- entry points ----------------------------------------------------------------------------------------

    def sentence(self, text: str) -> Plan:
        canon = clean(text)
        folded = fold(canon)
        said = " ".join(w for w in (w.strip("!?.,;:") for w in fold(text).split()) if w and w not in {"stp", "svp"})
        if said in W.THANKS or (said in W.SPELLINGS and W.SPELLINGS[said] == "merci"):
            return Plan("thanks", text=self.t.gettext("You're welcome!"))
        if not folded.strip():
            return self._unknown(folded)  # "lol", "?": a private message always gets an answer
        words = folded.split()
        if folded in W.GOODBYES:
            return Plan("thanks", text=self.t.gettext("See you soon!"))
        if folded in W.THANKS or (words and all(w in W.FILLER_WORDS for w in words) and "merci" in words):
            return Plan("thanks", text=self.t.gettext("You're welcome!"))
        rest_of_it = " ".join(w for w in words if w not in W.GREETINGS)
        if rest_of_it in W.THANKS or rest_of_it in W.GOODBYES:
            return self.sentence(rest_of_it)  # "bonjour merci beaucoup", "salut bonne soirée"
        small_talk = all(w in W.FILLER_WORDS | W.GREETINGS | W.SMALL_TALK for w in words)
        if folded in W.GREETINGS or rest_of_it in W.GREETINGS or (
                words and small_talk and any(w in W.GREETINGS for w in words)):
            return Plan("greet", text=self._greeting())
        intent = intent_of(folded)
        if intent == "cancel":
            intent = self._cancel_kind(folded)
        if intent is None:
            moment, rest = find_moment(self._protect(canon), self.now, self.tz)
            named = self._spaces_named(rest)
            keys = self._space_keys(named)
            hits = {w for w in content_words(rest) if any(_similar(w, k) for k in keys)}
            strongly = len(hits) >= 2 or bool(hits - W.NO_CUE_WEAK_WORDS)  # not "la réunion de demain"
            if named and strongly and (not moment.empty or self._only_names_spaces(rest, named)):
                intent = "book"  # a space named: a booking, confirmed or asked about, never made on a guess
            else:
                return self._unknown(folded)
        if intent == "unknown":
            return self._unknown(folded)
        if intent == "free" and any(n in folded for n in W.EVENT_NOUNS) and not self._spaces_named(canon):
            intent = "events"  # "il reste de la place à l'atelier vélo ?": the events say it
        found = self._read(intent, canon)
        pieces = found.slots.keys() & {"space", "space_options", "day", "start", "part"}
        if intent == "book" and not names_booking_verb(folded) and not pieces:
            return self._unknown(folded)  # "je voudrais un café": a wish, but nothing to book named
        plan = self.complete(intent, found.slots)
        if found.error and plan.kind == "ask":
            # "le 31 février", "de 16h à 14h": say why the moment is asked again.
            reason = date_error_text(self.t, found.refusal) if found.refusal is not None \
                else self.t.gettext(ERROR_MESSAGES.get(found.error, ERROR_MESSAGES["no_date"]))
            plan.text = reason + "\n" + plan.text
            refusal = found.refusal
            if refusal is not None and refusal.dated is not None and refusal.weekday is not None and \
                    plan.request is not None and plan.request.get("asking") == "day":
                # "lundi 25/12": the date itself, or the Monday before or after it, whichever is meant
                days = [d for d in date_or_weekday(refusal.dated, refusal.weekday) if d >= self.today]
                plan.actions = tuple(Action(self.t.fmt_day(d), _iso(d)) for d in days) or plan.actions
        return plan

    def answer(self, request: dict[str, Any], text: str) -> Plan:
        """An answer to the question (or confirmation) in ``request``."""
        canon = clean(text)
        folded = fold(canon).strip()
        intent, asking = request["intent"], request.get("asking")
        slots = dict(request.get("slots") or {})
        if folded in W.NO:
            return Plan("forget", intent, text=self.t.gettext("OK, I've dropped it."))
        if asking == "confirm" and folded in W.YES:
            return Plan("press", intent, command=request["command"])
        change = re.fullmatch(r"(?:changer|change|modifier)(?: (\w+))?", folded)
        if change or folded in W.CHANGE:
            slot = change.group(1) if change else None
            return self._change(intent, slots, slot)
        if asking in {"booking", "event", "shift"} and re.fullmatch(r"#?\d{1,9}", folded):
            slots[asking] = int(folded.lstrip("#"))
            return self.complete(intent, slots)
        said = intent_of(folded)
        if asking not in {"what", "text"} and said is not None and (said != intent or asking == "confirm"):
            # A new request replaces the one in progress: another kind of request, or a whole new sentence
            # of the same kind while the first waits for its Yes ("j'ai fait le bar hier de 19h à 23h"
            # after "j'ai aidé au repair café samedi": two entries, never the second's hours on the first).
            return self.sentence(text)
        if self._fill(intent, slots, asking, canon):
            return self.complete(intent, slots)
        fresh = self.sentence(text)
        if fresh.kind not in {"unknown", "none", "greet", "thanks"}:
            return fresh
        again = self.complete(intent, slots)
        if again.kind in {"ask", "confirm"}:
            again.text = self.t.gettext("Sorry, I didn't get that.") + "\n" + again.text
        return again

    # --- reading a sentence ----------------------------------------------------------------------------------

    def _cancel_kind(self, folded: str) -> str:
        words = set(folded.split())
        if re.search(r"\brappel|\breminder", folded):
            return "unknown"
        if any(w.startswith(n) for w in words for n in W.SHIFT_NOUNS) and not re.search(r"reserv|booking", folded):
            return "drop"
        named_event = any(n in folded for n in W.EVENT_NOUNS) or (
            bool(content_words(folded)) and bool(self._events_named(content_words(folded), mine=True, named_only=True)))
        if named_event and not re.search(r"reserv|booking", folded):
            return "leave"
        return "cancel"

    def _read(self, intent: str, canon: str) -> Found:
        slots: dict[str, Any] = {}
        text = canon
        if intent == "task":
            text = re.sub(r"\b(?:un )?coup de main\b", " ", text, flags=re.IGNORECASE)
            ranged, _rest = find_moment(self._protect(text), self.now, self.tz, past=True)
            minutes: int | None
            if ranged.start is not None and ranged.end is not None:
                # "de 14h à 17h": the hours given are the range's length (3 h), never its first hour (14 h).
                minutes = _range_minutes(ranged.start, ranged.end)
            else:
                minutes, text = find_minutes(text)
            if minutes:
                slots["minutes"] = minutes
        moment, rest = find_moment(self._protect(text), self.now, self.tz, past=intent == "task")
        if intent == "remind" and (moment.error or moment.empty or _STRAY_TIME.search(rest)):
            moment, rest = self._moment_before_description(text, moment, rest)
        text = rest.replace('"', "")
        if intent in {"cancel", "join", "leave", "take", "drop"}:
            number, text = find_reference(text, bare=moment.day is None)
            if number is not None:
                slots[{"cancel": "booking", "join": "event", "leave": "event"}.get(intent, "shift")] = number
        span = cue_span(intent, fold(text))
        after = text[span[1]:] if span else text
        before = text[: span[0]] if span else ""
        text = strip_span(text, span)
        self._moment_slots(intent, moment, slots)
        if intent in {"book", "free", "cancel"}:
            spaces = self._spaces_named(text)
            if len(spaces) == 1:
                slots["space"] = spaces[0].slug
            elif spaces and intent == "book":
                slots["space_options"] = [s.slug for s in spaces]
        if intent in {"task", "remind"}:
            # The description follows the words of the request ("rappelle-moi … d'appeler Paul"); else it
            # comes before them ("appeler Paul, rappelle-moi demain").
            what = _description(after) or _description(before)
            stray = _STRAY_TIME.search(what)
            if stray:
                # An hour the date grammar left in the words: the moment read may be wrong. The hour is
                # taken out of the text and, for a reminder, the moment is asked for again.
                what = tidy_free_text(_STRAY_TIME.sub(" ", what))
                if intent == "remind":
                    slots.pop("moment", None)
            if what:
                slots["what" if intent == "task" else "text"] = what[:200 if intent == "task" else 400]
        elif intent in {"join", "leave"}:
            slots["query"] = [w for w in content_words(text) if w not in _EVENT_STOP]
        elif intent in {"take", "drop"}:
            folded = fold(canon)
            if any(w in folded for w in W.OPEN_WORDS):
                slots["kind"] = "open"
            elif any(w in folded for w in W.CLOSE_WORDS):
                slots["kind"] = "close"
        elif intent in {"myhours", "events"}:
            table = _PERIOD_WORDS if intent == "myhours" else _EVENT_PERIOD_WORDS
            folded = fold(canon)
            for word, period in table.items():
                if re.search(rf"\b{re.escape(word)}\b", folded):
                    slots["period"] = period
                    break
            if intent == "events" and "period" not in slots and moment.day == self.today:
                slots["period"] = "today"
        error, refusal = moment.error, moment.refusal
        if intent == "task":  # an hour in a task is a length: "30h de tri" is too long, not a time of day
            too_long = "minutes" not in slots and re.search(r"\b(?:2[5-9]|[3-9]\d) ?h\b", fold(canon))
            error, refusal = ("too_long" if too_long else None), None
        return Found(slots, text, error, refusal)

    def _moment_before_description(self, text: str, moment: Moment, rest: str) -> tuple[Moment, str]:
        """"rappelle-moi vendredi à midi d'appeler Paul": the words of the reminder ("d'appeler Paul") are
        kept away from the date grammar, which could read "midi d'…" as something else."""
        boundary = _DESCRIPTION_START.search(text)
        if boundary is None:
            return moment, rest
        quoted = f'{text[: boundary.start()]} "{text[boundary.start():].strip()}"'
        second, second_rest = find_moment(quoted, self.now, self.tz)
        if second.error or second.empty:
            return moment, rest
        return second, second_rest

    def _moment_slots(self, intent: str, moment: Moment, slots: dict[str, Any]) -> None:
        if intent == "remind":
            when = self._remind_moment(moment)
            if when:
                slots["moment"] = when
            return
        if moment.day is not None:
            slots["day"] = _iso(moment.day)
        if moment.start is not None:
            slots["start"] = _hm(moment.start)
        if moment.end is not None:
            slots["end"] = _hm(moment.end)
        if moment.part is not None:
            slots["part"] = moment.part
            if intent == "free" and "start" not in slots:
                slots["start"], slots["end"] = PERIOD_SPANS[moment.part]
        if intent == "free" and "start" in slots and "day" not in slots and moment.part is None:
            slots["day"] = _iso(self.today)
        if intent == "task" and moment.day is not None and moment.day == self.today:
            slots.pop("day", None)

    def _remind_moment(self, moment: Moment) -> str | None:
        if moment.hour_unread:
            return None  # "on monday at 3": never 9:00 by default when an hour was said
        if moment.relative is not None:
            return f"{moment.relative.astimezone(self.tz):%Y-%m-%d %H:%M}"
        if moment.day is None and moment.start is None:
            return None
        start = moment.start or time(9, 0)
        if moment.start is None and moment.part is not None:
            start = time.fromisoformat(PERIOD_SPANS[moment.part][0])
        day = moment.day
        if day is None:
            local_now = self.now.astimezone(self.tz)
            day = self.today if start > local_now.time() else self.today + timedelta(days=1)
        return f"{_iso(day)} {_hm(start)}"

    # --- what a sentence names -------------------------------------------------------------------------------

    def spaces(self) -> list[SpaceView]:
        if self._spaces is None:
            self._spaces = space_views(self.session)
        return self._spaces

    def _space_keys(self, spaces: list[SpaceView]) -> set[str]:
        keys = {k for s in spaces for k in re.split(r"[\s'-]+", fold(s.name)) + s.slug.split("-")}
        return keys | {k for k, v in W.SPACE_SYNONYMS.items() if v in keys}

    def _only_names_spaces(self, text: str, spaces: list[SpaceView]) -> bool:
        """'la petite salle stp' names a space and nothing else; 'il fait froid dans la salle' says more."""
        keys = self._space_keys(spaces)
        return all(w in keys or W.SPACE_SYNONYMS.get(w) in keys for w in content_words(text))

    def _protect(self, text: str) -> str:
        """Quote the words of space names that hold digits ("3d"), which the date grammar never reads."""
        for word in self._digit_words():
            text = re.sub(rf"(?<![\w\"]){re.escape(word)}(?![\w\"])", f'"{word}"', text, flags=re.IGNORECASE)
        return text

    def _digit_words(self) -> set[str]:
        return {w for s in self.spaces() for w in re.split(r"[\s'-]+", fold(s.name)) + s.slug.split("-")
                if any(c.isdigit() for c in w)}

    def _spaces_named(self, text: str) -> list[SpaceView]:
        """The spaces the words name, best first; several when the words fit several equally."""
        said = [W.SPACE_SYNONYMS.get(w, w) for w in re.split(r"[\s'-]+", fold(text)) if w]
        said = [w for w in said if w and w not in W.SMALL_WORDS]
        if not said:
            return []
        scored: list[tuple[int, SpaceView]] = []
        for space in self.spaces():
            keys = set(re.split(r"[\s'-]+", fold(space.name))) | set(space.slug.split("-"))
            if space.kind == "desk":
                keys.add("open-space")
            keys -= W.SMALL_WORDS
            strong = [k for k in keys if k not in W.WEAK_SPACE_WORDS]
            score = sum(1 for k in strong if any(_similar(w, k) for w in said if len(w) >= 3 or w == k))
            if space.slug in said or ("open-space" in said and space.kind == "desk"):
                score += 2
            if score:
                scored.append((score, space))
        if not scored:
            return []
        best = max(score for score, _ in scored)
        return [space for score, space in scored if score == best]

    def _events_named(self, words: list[str], mine: bool = False, day: date | None = None, named_only: bool = False
                      ) -> list[tuple[int, str, datetime]]:
        """Upcoming occurrences (id, title, start) whose title the words name, best first."""
        if mine:
            rows = [(o.id, e.title, o.start) for _, o, e in member_signups(self.session, self.member_id, self.now)]
        else:
            rows = [(o.id, e.title, o.start) for o, e in
                    upcoming_occurrences(self.session, self.now, self.now + EVENT_HORIZON, limit=200)]
        if day is not None:
            rows = [r for r in rows if r[2].astimezone(self.tz).date() == day]
        query = [W.EVENT_SYNONYMS.get(w, w) for w in words if w not in _EVENT_STOP and w not in W.SMALL_WORDS]
        if not query:
            if named_only:
                return []
            return [(i, t, s) for i, t, s in rows if i is not None] if (day is not None or mine) else []
        scored = []
        for occurrence_id, title, start in rows:
            keys = [k for k in re.split(r"[\s'-]+", fold(title)) if k and k not in W.SMALL_WORDS]
            score = sum(1 for w in query if any(_similar(w, k) for k in keys))
            if score and occurrence_id is not None:
                scored.append((score, occurrence_id, title, start))
        if not scored:
            return []
        best = max(s for s, *_ in scored)
        return [(i, t, s) for score, i, t, s in scored if score == best]

    # --- completing a request ------------------------------------------------------------------------------------

    def complete(self, intent: str, slots: dict[str, Any]) -> Plan:
        request = REQUESTS[intent]
        if not request.changes:
            return Plan("run", intent, command=request.build(slots))
        for need in request.needs:
            if need == "hours":
                if "start" not in slots or "end" not in slots:
                    return self._ask(intent, slots, need)
            elif need not in slots:
                resolved = self._resolve(intent, slots, need)
                if resolved is not None:
                    return resolved
        if intent == "join":
            already = self._already_signed_up(slots["event"])
            if already is not None:
                return already
        return self._confirm(intent, slots)

    def _already_signed_up(self, occurrence_id: int) -> Plan | None:
        """"je viens au repair café" from someone signed up already: said so, nothing to confirm."""
        for signup, occurrence, event in member_signups(self.session, self.member_id, self.now):
            if occurrence.id == occurrence_id:
                label = self._event_label(event.title, occurrence.start)
                text = (self.t.gettext("You are already on the waiting list of {event}.")
                        if signup.status == SIGNUP_WAITLISTED else
                        self.t.gettext("You are already signed up for {event}."))
                return self._say("join", text.format(event=label))
        return None

    def _request(self, intent: str, slots: dict[str, Any], asking: str, command: str | None = None) -> dict[str, Any]:
        return {"intent": intent, "slots": slots, "asking": asking, "command": command}

    def _resolve(self, intent: str, slots: dict[str, Any], need: str) -> Plan | None:
        """Fill ``need`` from the database when the sentence named it; None when filled, else the question."""
        if need == "booking":
            return self._choose_booking(intent, slots)
        if need == "event":
            return self._choose_event(intent, slots)
        if need == "shift":
            return self._choose_shift(intent, slots)
        return self._ask(intent, slots, need)

    def _ask(self, intent: str, slots: dict[str, Any], need: str) -> Plan:
        _ = self.t.gettext
        actions: list[Action] = []
        if need == "space":
            options = [s for s in self.spaces() if s.slug in slots.get("space_options", ())] or self.spaces()
            text = _("Which space?")
            actions = [Action(s.name, s.slug) for s in options[:MAX_BUTTONS]]
        elif need == "day":
            text = _("Which day?")
            step = -1 if intent == "task" else 1  # hours are logged for days gone, spaces booked for days to come
            days = [self.today + timedelta(days=n * step) for n in range(3)]
            labels = [_("Today"), _("Yesterday") if step < 0 else _("Tomorrow"), self.t.fmt_day(days[2])]
            actions = [Action(label, _iso(day)) for label, day in zip(labels, days, strict=True)]
        elif need == "hours":
            if "start" in slots:
                text = _("Until what time? (e.g. 16h, or for 2h)")
            else:
                text = _("At what time? (e.g. 14h-16h)")
        elif need == "minutes":
            text = _("How long did it take?")
            actions = [Action(label, label) for label in ("1h", "2h", "3h")]
        elif need == "what":
            text = _("What did you do? (e.g. sorting donations #ressourcerie)")
        elif need == "moment":
            text = _("When should I remind you? (e.g. tomorrow 9h, friday at noon, in 20 minutes)")
        elif need == "text":
            text = _("What should I remind you of?")
        else:  # pragma: no cover - every need of REQUESTS is handled above
            raise ValueError(need)
        return Plan("ask", intent, text=text, actions=tuple(actions), request=self._request(intent, slots, need))

    def _choose(self, intent: str, slots: dict[str, Any], need: str, options: list[tuple[int, str]],
                question: str) -> Plan:
        """Several matches: each is a button that runs the command for it (the member picks, nothing is guessed)."""
        request = REQUESTS[intent]
        lines = [question]
        actions = []
        for number, label in options[:MAX_BUTTONS]:
            command = request.build({**slots, need: number})
            lines.append(f"• {label} — {command}")
            actions.append(Action(label, command))
        return Plan("choose", intent, text="\n".join(lines), actions=tuple(actions),
                    request=self._request(intent, slots, need))

    def _say(self, intent: str, text: str) -> Plan:
        return Plan("say", intent, text=text)

    def _describe_booking(self, booking: Booking, names: dict[int, str]) -> str:
        return self.t.gettext("{space}, {when} (n° {id})").format(
            space=names.get(booking.space_id, "?"), when=self.t.fmt_range(booking.start, booking.end), id=booking.id)

    def _choose_booking(self, intent: str, slots: dict[str, Any]) -> Plan | None:
        _ = self.t.gettext
        bookings = upcoming_bookings(self.session, self.member_id, self.now)
        names = {s.id: s.name for s in self.spaces()}
        slugs = {s.id: s.slug for s in self.spaces()}
        if not slots.get("all"):
            if "day" in slots:
                bookings = [b for b in bookings if _iso(b.start.astimezone(self.tz).date()) == slots["day"]]
            if "space" in slots:
                bookings = [b for b in bookings if slugs.get(b.space_id) == slots["space"]]
            if "start" in slots:
                bookings = [b for b in bookings if _hm(b.start.astimezone(self.tz).time()) == slots["start"]]
        if not bookings:
            return self._say(intent, _("I find no upcoming booking of yours like that. /mybookings lists them."))
        if len(bookings) == 1 and not slots.get("all"):
            slots["booking"] = bookings[0].id
            return None
        return self._choose(intent, slots, "booking",
                            [(b.id, self._describe_booking(b, names)) for b in bookings if b.id is not None],
                            _("Which booking?"))

    def _event_label(self, title: str, start: datetime) -> str:
        return f"{title}, {self.t.fmt_datetime(start)}"

    def _choose_event(self, intent: str, slots: dict[str, Any]) -> Plan | None:
        _ = self.t.gettext
        mine = intent == "leave"
        day = date.fromisoformat(slots["day"]) if "day" in slots and not slots.get("all") else None
        query = [] if slots.get("all") else list(slots.get("query") or [])
        matches = self._events_named(query, mine=mine, day=day)
        if not matches and not query and not mine and day is None:
            rows = upcoming_occurrences(self.session, self.now, self.now + EVENT_HORIZON, limit=MAX_BUTTONS)
            matches = [(o.id, e.title, o.start) for o, e in rows if o.id is not None]
            if matches:
                return self._choose(intent, slots, "event", [(i, self._event_label(t, s)) for i, t, s in matches],
                                    _("Which event?"))
        if not matches:
            if mine:
                return self._say(intent, _("I find no event you signed up for like that. /myevents lists yours."))
            what = " ".join(query)
            if what:
                return self._say(intent, _("I find no coming event called “{title}”. /events lists them.")
                                 .format(title=what[:60]))
            return self._say(intent, _("I find no event then. /events lists the coming ones."))
        if len(matches) == 1 and not slots.get("all"):
            slots["event"] = matches[0][0]
            return None
        return self._choose(intent, slots, "event", [(i, self._event_label(t, s)) for i, t, s in matches],
                            _("Which one?"))

    def _shift_label(self, view: shifts_store.ShiftView) -> str:
        return f"{view.title}, {self.t.fmt_range(view.start, view.end)}"

    def _choose_shift(self, intent: str, slots: dict[str, Any]) -> Plan | None:
        _ = self.t.gettext
        day = date.fromisoformat(slots["day"]) if "day" in slots and not slots.get("all") else None
        until = max(day or self.today, self.today) + timedelta(days=1 if day else SHIFT_HORIZON.days)
        shifts_store.materialise_rota(self.session, self.now, self.tz, until=until)
        end = datetime.combine(until, time(0), tzinfo=self.tz)
        views = shifts_store.shifts_between(self.session, self.now, end)
        if intent == "take":
            views = [v for v in views if v.missing > 0 and not v.taken_by(self.member_id)]
        else:
            views = [v for v in views if v.taken_by(self.member_id)]
        if day is not None:
            views = [v for v in views if v.start.astimezone(self.tz).date() == day]
        kind = None if slots.get("all") else slots.get("kind")
        if kind is not None:
            views = [v for v in views if v.rota_kind == kind]
        if not views:
            if intent == "take":
                return self._say(intent, _("No shift needs anyone then. /shifts lists the ones that do."))
            return self._say(intent, _("I find no shift of yours like that. /shifts lists yours."))
        if len(views) == 1 and not slots.get("all"):
            slots["shift"] = views[0].id
            return None
        return self._choose(intent, slots, "shift", [(v.id, self._shift_label(v)) for v in views], _("Which shift?"))

    def _confirm(self, intent: str, slots: dict[str, Any]) -> Plan:
        _ = self.t.gettext
        request = REQUESTS[intent]
        command = request.build(slots)
        try:
            summary = self._summary(intent, slots)
        except DateParseError as error:
            if intent == "book":
                slots.pop("start", None)
                slots.pop("end", None)
                asked = self._ask(intent, slots, "hours")
                reason = (_("The end must come after the start.") if error.code == "reversed"
                          else _("That time doesn't exist that day (the clocks change)."))
                asked.text = reason + "\n" + asked.text
                return asked
            slots.pop("moment", None)
            return self._ask(intent, slots, "moment")
        if intent == "remind" and self._moment_passed(slots["moment"]):
            slots.pop("moment", None)
            asked = self._ask(intent, slots, "moment")
            asked.text = _("That moment has already passed.") + "\n" + asked.text
            return asked
        text = summary + "\n" + _("Command: {command}").format(command=command)
        # "Yes" answers this member's question (it runs the command through the conversation): pressed twice,
        # or by someone else in a group, or after the request expired, it runs nothing.
        actions = [Action(_("Yes"), "oui")]
        if intent in CHANGEABLE:
            actions.append(Action(_("Change something"), "changer"))
        actions.append(Action(_("No"), "non"))
        return Plan("confirm", intent, command=command, text=text, actions=tuple(actions),
                    request=self._request(intent, slots, "confirm", command))

    def _moment_passed(self, moment: str) -> bool:
        day_text, hour = moment.split()
        when = parse_when(f"{day_text} {hour}", self.now, self.tz)
        return when.start is not None and when.start <= self.now

    def _summary(self, intent: str, slots: dict[str, Any]) -> str:
        _ = self.t.gettext
        summary = _(REQUESTS[intent].summary)
        if intent == "book":
            when = parse_when(f"{slots['day']} {slots['start']}-{slots['end']}", self.now, self.tz)
            assert when.start is not None and when.end is not None
            name = next((s.name for s in self.spaces() if s.slug == slots["space"]), slots["space"])
            return summary.format(space=name, when=self.t.fmt_range(when.start, when.end))
        if intent == "task":
            day = date.fromisoformat(slots["day"]) if slots.get("day") else self.today
            day_text = _("today") if day == self.today else self.t.fmt_day(day)
            return summary.format(duration=self.t.fmt_duration(slots["minutes"]), day=day_text, what=slots["what"])
        if intent == "remind":
            day_text, hour = slots["moment"].split()
            when = parse_when(f"{day_text} {hour}", self.now, self.tz)
            assert when.start is not None
            return summary.format(when=self.t.fmt_datetime(when.start), text=slots["text"])
        if intent == "cancel":
            from storage.models import Booking as BookingRow

            booking = self.session.get(BookingRow, slots["booking"])
            names = {s.id: s.name for s in self.spaces()}
            text = self._describe_booking(booking, names) if booking else f"n° {slots['booking']}"
            return summary.format(booking=text)
        if intent in {"join", "leave"}:
            from storage.events import EventNotFound, get_occurrence

            try:
                occurrence, event = get_occurrence(self.session, slots["event"])
                label = self._event_label(event.title, occurrence.start)
            except EventNotFound:
                label = f"n° {slots['event']}"
            return summary.format(event=label)
        if intent in {"take", "drop"}:
            from storage.models_volunteers import Shift

            shift = self.session.get(Shift, slots["shift"])
            label = self._shift_label(shifts_store.shift_view(self.session, shift)) if shift else f"n° {slots['shift']}"
            return summary.format(shift=label)
        return summary  # pragma: no cover

    # --- answers ---------------------------------------------------------------------------------------------------

    def _change(self, intent: str, slots: dict[str, Any], slot: str | None) -> Plan:
        _ = self.t.gettext
        choices = CHANGEABLE.get(intent, ())
        names = {name for name, _label in choices}
        if slot not in names:
            if len(choices) == 1:
                slot = choices[0][0]
            else:
                return Plan("ask", intent, text=_("What should I change?"),
                            actions=tuple(Action(_(label), f"changer {name}") for name, label in choices),
                            request=self._request(intent, slots, "change"))
        assert slot is not None
        for key in {"hours": ("start", "end", "part"), "day": ("day",)}.get(slot, (slot,)):
            slots.pop(key, None)
        if slot in {"booking", "event", "shift"}:
            slots["all"] = True
            resolved = self._resolve(intent, slots, slot)
            return resolved if resolved is not None else self.complete(intent, slots)
        if slot == "space":
            slots.pop("space_options", None)
        return self._ask(intent, slots, slot)

    def _fill(self, intent: str, slots: dict[str, Any], asking: str | None, canon: str) -> bool:
        """Read an answer into the request's slots. False when it says nothing the request uses."""
        changed = False
        text = canon
        if intent == "task":
            minutes, text = find_minutes(text)
            if minutes:
                slots["minutes"], changed = minutes, True
            if asking == "what" and text.strip():
                words = text.split()
                while words and fold(words[0]) in _TASK_LEAD | W.FILLER_WORDS:
                    words.pop(0)
                what = tidy_free_text(" ".join(words))
                if what:
                    slots["what"], changed = what[:200], True
                return changed
        if intent == "remind" and asking == "text":
            what = tidy_free_text(text)
            if what:
                slots["text"] = what[:400]
                return True
            return False
        if asking == "space":
            slug = fold(text.strip())
            named = [s for s in self.spaces() if s.slug == slug] or self._spaces_named(text)
            if len(named) == 1:
                slots["space"] = named[0].slug
                slots.pop("space_options", None)
                return True
            if named:
                slots["space_options"] = [s.slug for s in named]
                return False
        moment, rest = find_moment(text, self.now, self.tz, past=intent == "task")
        if asking == "hours" and "start" in slots and "end" not in slots:
            minutes, _rest = find_minutes(text)
            if moment.start is not None and moment.end is None:
                slots["end"] = _hm(moment.start)
                return True
            if minutes and moment.start is None:
                start = datetime.combine(date.today(), time.fromisoformat(slots["start"]))
                slots["end"] = _hm((start + timedelta(minutes=minutes)).time())
                return True
        if intent == "remind":
            when = self._remind_moment(moment)
            if when:
                slots["moment"] = when
                return True
            return False
        if intent in {"book", "cancel", "take", "drop", "join", "leave", "task"}:
            if moment.day is not None:
                slots["day"], changed = _iso(moment.day), True
                if intent == "task" and moment.day == self.today:
                    slots.pop("day", None)
            if moment.start is not None and intent != "task":
                slots["start"], changed = _hm(moment.start), True
                if moment.end is not None:
                    slots["end"] = _hm(moment.end)
                else:
                    slots.pop("end", None)
            if intent == "book" and "space" not in slots:
                named = self._spaces_named(rest)
                if len(named) == 1:
                    slots["space"], changed = named[0].slug, True
        return changed

    # --- not understood ------------------------------------------------------------------------------------------

    def _greeting(self) -> str:
        _ = self.t.gettext
        return _("Hello! Tell me what you need, for example: “{example1}”, “{example2}” or “{example3}”. "
                 "/help lists everything.").format(
            example1=_("I'd like the meeting room tomorrow 2pm-4pm"), example2=_("what's free on Thursday?"),
            example3=_("who opens on Saturday?"))

    def _unknown(self, folded: str) -> Plan:
        _ = self.t.gettext
        closest = self._closest(folded)
        command, sentence = EXAMPLES[closest]
        text = _("I didn't understand. Closest: {command} — or say it like {sentence}. /help lists everything.") \
            .format(command=_(command), sentence=_(sentence))
        return Plan("unknown", text=text)

    def _closest(self, folded: str) -> str:
        if re.search(r"rappel|remind", folded):
            return "reminders"
        if re.search(r"heure|hour|benevol|volunt|tri\b", folded):
            return "task"
        if re.search(r"atelier|event|evenement|soiree|workshop", folded):
            return "join"
        if re.search(r"ouvr|open|perm", folded):
            return "whoopens"
        if self._spaces_named(folded):
            return "book"
        return "book"


def _range_minutes(start: time, end: time) -> int:
    """The minutes from ``start`` to ``end`` on the clock (an evening range may end after midnight)."""
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
    return minutes
