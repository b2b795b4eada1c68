"""The pure readers of the command grammar: what each takes, what it leaves, and that they never fail
with anything but their own error whatever is typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.grammar.pieces import (
    GrammarError,
    keyword_table,
    squash,
    strip_fillers,
    take_capacity,
    take_keyword,
    take_number,
    take_quoted,
    take_tag,
)

typed = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.from_regex(
    r"(n° ?|#|no |N°)?[0-9]{1,14} ?(places|personnes|seats)?[ a-zé«»“”\"#0-9]{0,30}", fullmatch=True)


@pytest.mark.parametrize("text", ["12", "#12", "n°12", "n° 12", "no 12", "N°12", "nº12", "numéro 12", "No. 12"])
def test_an_item_number_is_read_however_it_is_written(text: str) -> None:
    assert take_number(text + " la suite") == (12, "la suite")


@pytest.mark.parametrize("text", ["abc", "12abc", "²", "99999999999999999999", "n°", "-3", "1.5"])
def test_what_is_not_an_item_number_is_left_alone(text: str) -> None:
    assert take_number(text) == (None, squash(text))


@pytest.mark.parametrize(("text", "title", "rest"), [
    ('"Tenir le bar" samedi', "Tenir le bar", "samedi"),
    ("« Tenir le bar » samedi", "Tenir le bar", "samedi"),
    ("“Repair café” samedi 14h", "Repair café", "samedi 14h"),
    ("samedi “Repair café\" 14h", "Repair café", "samedi 14h"),
    ("l'atelier samedi", None, "l'atelier samedi"),
])
def test_a_title_is_read_between_straight_or_curly_quotes(text: str, title: str | None, rest: str) -> None:
    assert take_quoted(text) == (title, rest)


def test_an_unclosed_quote_is_an_error_not_a_guess() -> None:
    with pytest.raises(GrammarError):
        take_quoted("« Tenir le bar samedi")


@pytest.mark.parametrize(("text", "number", "rest"), [
    ("samedi 12 places", 12, "samedi"),
    ("places 12 samedi", 12, "samedi"),
    ("pour 40 personnes demain", 40, "demain"),
    ("seats 80", 80, ""),
    ("2 places", 2, ""),
    ("x2 samedi", 2, "samedi"),
    ("places: 5", 5, ""),
])
def test_a_capacity_is_read_with_the_word_that_says_so(text: str, number: int, rest: str) -> None:
    assert take_capacity(text) == (number, rest)


def test_a_bare_trailing_number_is_people_only_when_no_day_word_comes_before_it() -> None:
    assert take_capacity("samedi 18h-22h 2", bare_at_end=True) == (2, "samedi 18h-22h")
    assert take_capacity("bar le 28", bare_at_end=True) == (None, "bar le 28")
    assert take_capacity("samedi 18h-22h 2") == (None, "samedi 18h-22h 2")
    assert take_capacity("pour 2h") == (None, "pour 2h")


def test_zero_places_is_refused() -> None:
    with pytest.raises(GrammarError):
        take_capacity("0 places")


def test_one_project_tag_is_taken_and_an_item_number_is_not_a_project() -> None:
    assert take_tag("tri #Ressourcerie hier") == ("ressourcerie", "tri hier")
    assert take_tag("#Café bar") == ("cafe", "bar")
    assert take_tag("voir #12") == (None, "voir #12")
    with pytest.raises(GrammarError):
        take_tag("#a #b")


def test_keywords_have_synonyms_and_ignore_accents_and_case() -> None:
    table = keyword_table({"today": ["aujourd'hui", "auj"], "week": ["semaine"]})
    assert take_keyword("Aujourd’hui", table) == ("today", "")
    assert take_keyword("SEMAINE prochaine", table) == ("week", "prochaine")
    assert take_keyword("la semaine", table) == (None, "la semaine")
    assert take_keyword("la semaine", table, anywhere=True) == ("week", "la")


@pytest.mark.parametrize(("text", "expected"), [
    ("la salle de réunion demain 11h-12h", "salle de réunion demain 11h-12h"),
    ("l'open space", "open space"),
    ("L’open space", "open space"),
    ("la cuisine", "cuisine"),
    ("la petite salle", "petite salle"),
    ("un poste en coworking demain", "coworking demain"),
    ("the kitchen", "kitchen"),
    ("la", "la"),
])
def test_articles_and_fillers_are_not_read_as_a_space(text: str, expected: str) -> None:
    assert strip_fillers(text) == expected


@given(typed)
def test_readers_raise_only_their_own_error_and_only_ever_remove_words(text: str) -> None:
    readers = [take_number, take_tag, lambda t: take_capacity(t, bare_at_end=True), take_quoted,
               lambda t: take_keyword(t, keyword_table({"all": ["tous"]}), anywhere=True)]
    for read in readers:
        try:
            value, rest = read(text)
        except GrammarError:
            continue
        if value is None:
            assert rest == squash(text)
        else:
            assert len(rest) < len(squash(text))
            assert all(word in squash(text) for word in rest.split())


@given(typed)
def test_strip_fillers_never_empties_a_text_or_adds_to_it(text: str) -> None:
    stripped = strip_fillers(text)
    assert len(stripped) <= len(squash(text))
    assert bool(stripped) == bool(squash(text))
