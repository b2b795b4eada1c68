"""Every command that reads a moment answers what was wrong with it (the date grammar's own sentence, in the
member's language, with an example of the command), never a generic 'couldn't read the date' or an apology."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import ERROR_MESSAGES
from bot.core.i18n import Translator
from tests.harness import Chat

TZ = ZoneInfo("Europe/Paris")

# (what the member typed, the grammar's code for what is wrong with it)
CASES = [
    ("/book salle-reunion 0001-01-01 10:00-11:00", "out_of_range"),
    ("/whoopens 0001-01-01", "out_of_range"),
    ("/free 0001-01-01", "out_of_range"),
    ("/whoopens 31/02", "impossible_date"),
    ("/free 31/02", "impossible_date"),
    ("/whoopens demain zorglub", "unknown_words"),
    ("/book salle-reunion demain 14h-10h", "reversed"),
    ("/book salle-reunion demain 10h pendant 0 min", "zero"),
    ("/free 2026-12-02 minuit", "ambiguous"),
    ("/book salle-reunion 2027-03-28 02:30-03:30", "nonexistent_time"),
    ("/book salle-reunion demain 10h pendant 30h", "too_long"),
    ("/book salle-reunion demain 14h", "no_end"),
    ("/book salle-reunion zorglub", "no_date"),
]
EXAMPLES = {"/book": ("/reserver salle-reunion demain", "/book salle-reunion tomorrow"),
            "/whoopens": ("/quiouvre samedi", "/whoopens saturday"),
            "/free": ("/dispo demain", "/free tomorrow")}


def test_the_cases_cover_every_answer_the_date_grammar_has() -> None:
    assert {code for _, code in CASES} == set(ERROR_MESSAGES)


@pytest.mark.parametrize(("typed", "code"), CASES)
def test_a_wrong_moment_is_answered_with_what_is_wrong_and_an_example(chat: Chat, typed: str, code: str) -> None:
    chat.say("bob", "/start")
    chat.say("bob", "/lang en")
    command = typed.split()[0]
    for user, language, example in (("alice", "fr", EXAMPLES[command][0]), ("bob", "en", EXAMPLES[command][1])):
        answer = chat.text(user, typed)
        expected = Translator(language, TZ).gettext(ERROR_MESSAGES[code])
        assert expected in answer, (user, answer)
        assert example in answer, (user, answer)
        assert "sorry" not in answer.lower() and "désolé" not in answer.lower()


@pytest.mark.parametrize(("typed", "french", "english"), [
    ("/book salle-reunion lundi 25/12 10h-11h",
     "Le 25 décembre est un vendredi, pas un lundi : quel jour voulez-vous dire ?",
     "25 December is a Friday, not a Monday: which day do you mean?"),
    ("/free dimanche 1er décembre", "Le 1er décembre est un mardi, pas un dimanche : quel jour voulez-vous dire ?",
     "1 December is a Tuesday, not a Sunday: which day do you mean?"),
])
def test_a_weekday_that_does_not_match_its_date_is_named(chat: Chat, typed: str, french: str, english: str) -> None:
    """Which of the two was meant is not guessed: the answer says what day the date is."""
    chat.say("bob", "/start")
    chat.say("bob", "/lang en")
    assert chat.text("alice", typed).startswith(french)
    assert chat.text("bob", typed).startswith(english)
