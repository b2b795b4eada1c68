"""Properties of the reading of sentences, over generated text (hypothesis): nothing a sentence says is
ever done without a confirmation, politeness never changes the request, the reading never fails."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.conversation.reading import clean, intent_of
from bot.core.conversation.requests import REQUESTS, is_destructive
from bot.core.conversation.talk import typed_choice
from bot.core.router import fold
from tests.test_intents_corpus import CASES, Reader, reader  # noqa: F401  (the module-scoped world)

WORDS = [
    "je", "voudrais", "réserver", "la", "salle", "de", "réunion", "petite", "demain", "jeudi", "14h", "16h", "à",
    "14h-16h", "annule", "ma", "résa", "inscris-moi", "atelier", "vélo", "j'ai", "fait", "2h", "tri", "hier",
    "rappelle-moi", "vendredi", "midi", "d'appeler", "Paul", "qui", "ouvre", "samedi", "dispo", "libre", "aprem",
    "stp", "svp", "slt", "bonjour", "merci", "#3", "3", "n°2", "book", "the", "meeting", "room", "tomorrow", "2pm",
    "cancel", "my", "booking", "sign", "me", "up", "remind", "who", "opens", "free", "?", "!", ",", "je", "peux",
    "plus", "venir", "prends", "l'ouverture", "ferme", "mes", "heures", "réservations", "de", "le", "8", "décembre",
    "dans", "20", "min", "pendant", "1h30", "cuisine", "imprimante", "3d", "laser", "open", "space", "non", "oui",
]
SENTENCES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join)
POLITE_BEFORE = ["bonjour ", "slt ", "salut, ", "hello ", "coucou ! ", "bjr "]
POLITE_AFTER = [" stp", " svp", " merci", " please", " merci !", " s'il vous plaît"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SENTENCES)
def test_a_sentence_never_changes_anything_without_a_confirmation(reader: Reader, sentence: str) -> None:  # noqa: F811
    plan = reader.plan(sentence)
    assert plan.kind != "press", "only a yes to a confirmation runs a changing command"
    if plan.kind == "run":
        assert plan.intent is not None and not REQUESTS[plan.intent].changes, (sentence, plan.command)
    if plan.kind == "confirm":
        assert plan.command and plan.command in plan.text, "the confirmation shows the command it runs"
        assert plan.actions[0].command == "oui", "Yes answers the question; the conversation runs the command"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CASES), st.sampled_from(POLITE_BEFORE), st.sampled_from(POLITE_AFTER))
def test_politeness_does_not_change_what_a_sentence_leads_to(reader: Reader, case: object, before: str,  # noqa: F811
                                                             after: str) -> None:
    sentence = case.sentence  # type: ignore[attr-defined]
    expected = case.expected  # type: ignore[attr-defined]
    if expected in {"answer", "not understood"}:
        return  # "bonjour" alone is a greeting; what surrounds nothing stays nothing
    outcome = reader.plan(before + sentence + after).outcome
    assert fold(outcome) == fold(expected), (before + sentence + after, outcome)


@given(st.text(max_size=200))
def test_cleaning_is_stable_and_reading_never_fails(text: str) -> None:
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    intent = intent_of(fold(cleaned))
    assert intent is None or intent in REQUESTS or intent == "cancel"


def test_a_typed_number_presses_only_an_offered_choice() -> None:
    choices: list[dict[str, Any]] = [{"label": "Oui", "command": "/book x", "destructive": False},
                                     {"label": "Non", "command": "non"}]
    assert typed_choice(choices, " 2 ") == choices[1]
    assert typed_choice(choices, "3") is None
    assert typed_choice(choices, "0") is None
    assert typed_choice(choices, "²") is None
    assert typed_choice(None, "1") is None


def test_cancelling_leaving_and_deleting_are_destructive() -> None:
    assert is_destructive("cancel", "3") and is_destructive("leave", "4") and is_destructive("drop", "5")
    assert is_destructive("task", "delete 3") and is_destructive("reminders", "cancel 2")
    assert not is_destructive("book", "salle-reunion demain 14h-16h") and not is_destructive("join", "1")
