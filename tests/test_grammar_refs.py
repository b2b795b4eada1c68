"""The pieces that need the database or the clock (a space, a member, a moment, a length, the day hours
were given), read with a real context on SQLite: what each takes, what it leaves, and that whatever is
typed they fail only with a sentence for the member."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.args import Arg
from bot.core.grammar.moments import DurationArg, PastDayArg, WhenArg
from bot.core.grammar.pieces import squash
from bot.core.grammar.refs import MemberArg, SpaceArg
from tests.harness import Chat
from tests.test_grammar_commands import ctx_for


@pytest.fixture
def ctx(sqlite_chat: Chat) -> Iterator[Ctx]:
    for name in ("alice", "marie curie", "marie-claire"):
        sqlite_chat.say(name, "/start")
    with Session(sqlite_chat.app.engine) as session:
        yield ctx_for(sqlite_chat, session, "fr")


@pytest.mark.parametrize(("text", "slug", "rest"), [
    ("la salle de réunion demain 11h-12h", "salle-reunion", "demain 11h-12h"),
    ("l'open space demain", "open-space", "demain"),
    ("la petite salle", "petite-salle", ""),
    ("un poste en coworking lundi", "open-space", "lundi"),
    ("CUISINE vendredi", "cuisine", "vendredi"),
])
def test_a_space_is_read_at_the_start_without_its_article(ctx: Ctx, text: str, slug: str, rest: str) -> None:
    space, left = SpaceArg("space").take(ctx, text)
    assert (space.slug, left) == (slug, rest)


def test_a_marked_space_is_read_whole_anywhere_and_a_weak_marker_only_before_a_space(ctx: Ctx) -> None:
    space, rest = SpaceArg("space", marked=True).take(ctx, "samedi 18h-22h lieu Salle de réunion 2")
    assert (space.slug, rest) == ("salle-reunion", "samedi 18h-22h 2")
    weak = SpaceArg("space", marked=True, weak=True)
    assert weak.take(ctx, "samedi à 14h-18h") == (None, "samedi à 14h-18h")
    space, rest = weak.take(ctx, "samedi 14h-18h dans la cuisine")
    assert (space.slug, rest) == ("cuisine", "samedi 14h-18h")
    with pytest.raises(UserError, match="Plusieurs espaces"):
        SpaceArg("space", marked=True).take(ctx, "lieu salle")


def test_a_member_is_read_by_name_quoted_or_not(ctx: Ctx) -> None:
    assert MemberArg("member").take(ctx, '"Marie curie"')[0].display_name == "Marie curie"
    assert MemberArg("member").take(ctx, "alice")[0].display_name == "Alice"
    with pytest.raises(UserError, match="Je ne connais personne"):
        MemberArg("member").take(ctx, "zoé")


def test_moments_and_lengths(ctx: Ctx) -> None:
    when, rest = WhenArg("when").take(ctx, "demain 14h-16h")
    assert (when.day, rest) == (date(2026, 11, 24), "")
    with pytest.raises(UserError, match="heure de fin"):
        WhenArg("when").take(ctx, "demain 14h")
    assert WhenArg("when", need="day").take(ctx, "samedi")[0].day == date(2026, 11, 28)
    assert DurationArg("minutes").take(ctx, "1h30 tri") == (90, "tri")
    assert DurationArg("minutes", optional=True).take(ctx, "tri des dons") == (None, "tri des dons")
    assert PastDayArg("day").take(ctx, "tri hier soir") == (date(2026, 11, 22), "tri")
    assert PastDayArg("day").take(ctx, "bar le 28") == (date(2026, 10, 28), "bar")
    with pytest.raises(UserError, match="pas encore arrivé"):
        PastDayArg("day").take(ctx, "tri demain")


words = st.lists(st.sampled_from(["la", "l'", "salle", "de", "réunion", "petite", "cuisine", "open", "space", "lieu",
                                  "à", "dans", "demain", "hier", "soir", "14h-16h", "le", "28", "1h30", "alice",
                                  "marie", "@", "«", "2", "pour", "espace", "Découpeuse", "x", ""]),
                 max_size=7).map(" ".join) | st.text(max_size=40)
pieces: list[Arg] = [SpaceArg("s"), SpaceArg("s", marked=True, weak=True), MemberArg("m", optional=True),
                     WhenArg("w", optional=True), WhenArg("w", need="day", optional=True),
                     DurationArg("d", optional=True), PastDayArg("p")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words)
def test_pieces_fail_only_with_a_sentence_and_never_add_words(ctx: Ctx, text: str) -> None:
    for piece in pieces:
        try:
            value, rest = piece.take(ctx, text)
        except UserError as error:
            assert error.message
            continue
        if value is None:
            assert rest == squash(text)
        else:
            assert len(rest) <= len(squash(text))


def test_a_member_named_by_number_or_chosen_with_a_button(sqlite_chat: Chat) -> None:
    chat = sqlite_chat
    for name in ("marie curie", "marie-claire"):
        chat.say(name, "/start")
    answer = chat.text("coord", "/habiliter marie laser")
    assert "Marie curie" in answer and "Marie-claire" in answer
    [reply] = chat.press("coord", "#1 Marie curie")
    assert reply.text == "Marie curie est maintenant habilité·e pour « laser »."
    assert chat.text("coord", "/habiliter #2 3d") == "Marie-claire est maintenant habilité·e pour « 3d »."
