"""A space named in a command is found among the spaces' slugs and names only, then read whole (issue 15:
2,000 spaces): the same space, the same rules and the same answers as when every space was read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.refs import SpaceArg
from storage.models import Space
from storage.spaces import import_spaces, space_views
from tests.harness import Chat
from tests.test_grammar_commands import ctx_for


@pytest.fixture
def ctx(sqlite_chat: Chat) -> Iterator[Ctx]:
    sqlite_chat.say("alice", "/start")
    with Session(sqlite_chat.app.engine) as session:
        import_spaces(session, {"site": {"slug": "annexe", "name": "Annexe"}, "spaces": [
            {"slug": "atelier", "name": "Atelier", "capacity": 3},
            {"slug": "ab", "name": "Atelier bois", "capacity": 2, "max_hours": 3},
            {"slug": "vieille-salle", "name": "Vieille salle"},
        ]})
        old = session.exec(select(Space).where(Space.slug == "vieille-salle")).one()
        old.closed = True
        session.commit()
        yield ctx_for(sqlite_chat, session, "fr")


def test_the_space_read_is_the_one_every_listing_shows_rules_included(ctx: Ctx) -> None:
    space, rest = SpaceArg("space").take(ctx, "la salle de réunion demain 14h-16h")
    assert rest == "demain 14h-16h"
    assert space == next(v for v in space_views(ctx.session) if v.slug == "salle-reunion")


def test_the_longest_name_wins_over_a_shorter_slug(ctx: Ctx) -> None:
    space, rest = SpaceArg("space").take(ctx, "atelier bois samedi")
    assert (space.slug, rest) == ("ab", "samedi")
    assert space.rules.max_duration.total_seconds() == 3 * 3600
    space, rest = SpaceArg("space").take(ctx, "atelier samedi")
    assert (space.slug, rest) == ("atelier", "samedi")


def test_a_closed_space_is_unknown_to_booking_but_found_where_closed_ones_are_asked_for(ctx: Ctx) -> None:
    with pytest.raises(UserError, match="vieille"):
        SpaceArg("space").take(ctx, "vieille-salle demain")
    space, _ = SpaceArg("space", include_closed=True).take(ctx, "vieille-salle demain")
    assert (space.slug, space.closed, space.rules.closed) == ("vieille-salle", True, True)


def test_a_misspelt_space_still_gets_its_suggestion(ctx: Ctx) -> None:
    with pytest.raises(UserError, match="salle-reunion"):
        SpaceArg("space").take(ctx, "salle-reunoin demain")


def test_a_booking_by_slug_answers_as_before(sqlite_chat: Chat) -> None:
    sqlite_chat.say("bob", "/start")
    [answer] = sqlite_chat.say("bob", "/book salle-reunion demain 14h-16h")
    assert "Salle de réunion" in answer.text
    [refusal] = sqlite_chat.say("bob", "/book salle-reunoin demain 17h-18h")
    assert "salle-reunion" in refusal.text and "Salle de réunion" not in refusal.text
