"""A personal answer in a shared Matrix room is for one member: threaded under the press, mentioning them."""

from __future__ import annotations

from bot.adapters.matrix_render import addressed_to_one_member, notice_content
from bot.core.i18n import translator_for
from bot.core.types import Reply

T = translator_for("fr", "Europe/Paris")


def test_a_refused_press_in_a_room_is_threaded_under_the_card_and_notifies_only_the_presser() -> None:
    reply = Reply("La réservation n° 5 n'est pas la vôtre.", personal=True, for_user="@bob:hs", reply_to="$card")
    content = addressed_to_one_member(notice_content(reply, T, in_reply_to="$card"), reply, "$card", None)
    assert content["msgtype"] == "m.text"  # notices never notify: the member must see it
    assert content["m.mentions"] == {"user_ids": ["@bob:hs"]}
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] == "$card"


def test_an_answer_for_the_whole_room_stays_a_notice_without_mentions() -> None:
    reply = Reply("Événement mis à jour.")
    content = addressed_to_one_member(notice_content(reply, T, in_reply_to="$cmd"), reply, "$cmd", None)
    assert content["msgtype"] == "m.notice"
    assert "m.mentions" not in content
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}


def test_an_edit_of_the_shared_card_is_never_turned_into_a_personal_message() -> None:
    reply = Reply("Carte", personal=True, for_user="@bob:hs")
    content = addressed_to_one_member(notice_content(reply, T, replaces="$card"), reply, None, None)
    assert content["m.relates_to"]["rel_type"] == "m.replace"
    assert "m.mentions" not in content
