"""Group etiquette in the core: what the bot shares in a group is in the group's language and carries
nothing personal; what is for one member goes to that member alone. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from bot.core.inbox import placed
from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from tests.harness import Chat


def group_press(chat: Chat, user: str, command: str, lang: str | None = None, group: str = "g1") -> list[Reply]:
    incoming = replace(chat.incoming(user, command, group=group, is_action=True, lang=lang), message_id="7",
                       action_id="q1")
    return chat.app.dispatcher.handle_sync(incoming)


def admins(*ids: str):  # type: ignore[no-untyped-def]
    return lambda chat, user: user.user_id in ids


def test_an_english_speaker_pressing_join_leaves_a_french_group_card_in_french(chat: Chat) -> None:
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 80')
    [posted] = chat.say("coord", "/event post 1", group="g1")
    assert "0/80 inscrit" in posted.text
    chat.say("bob", "/lang en")
    own, card = group_press(chat, "bob", "/join 1", lang="en")
    assert "1/80 inscrit" in card.text and [a.label for a in card.actions] == ["S'inscrire", "Se désinscrire"]
    assert own.personal and own.text.startswith("You are signed up for “Concert”")
    _own, card = group_press(chat, "alice", "/join 1", lang="fr")
    assert "2/80 inscrits" in card.text


def test_a_group_admin_sets_the_groups_language_and_a_member_only_their_own(chat: Chat) -> None:
    chat.app.dispatcher.admin_check = admins("alice")
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 80')
    assert chat.text("alice", "/langue en", group="g1").startswith("From now on I'll write in English in this group")
    [posted] = chat.say("coord", "/event post 1", group="g1")
    assert "0/80 signed up" in posted.text and [a.label for a in posted.actions] == ["Join", "Leave"]
    own, card = group_press(chat, "bob", "/join 1", lang="fr")
    assert "1/80 signed up" in card.text
    assert own.text.startswith("Vous êtes inscrit·e")  # the presser's own feedback stays in their language
    # Bob isn't an admin: /langue in the group changes only his own language.
    assert chat.text("bob", "/langue en", group="g1") == "From now on I'll answer you in English."
    [posted] = chat.say("coord", "/event post 1", group="g1")
    assert "1/80 signed up" in posted.text
    assert chat.text("coord", "/langue fr", group="g1").startswith("Désormais")
    [posted] = chat.say("bob", "/event 1", group="g1")
    assert "1/80 inscrit" in posted.text


def incoming(*, private: bool, is_action: bool) -> Incoming:
    chat = ChatRef(Platform.TELEGRAM, "42" if private else "-100", is_private=private)
    return Incoming(chat, UserRef(Platform.TELEGRAM, "42", "Bob"), "/cancel 5", message_id="7",
                    is_action=is_action, action_id="q1" if is_action else None)


def test_an_answer_to_a_button_pressed_in_a_group_is_for_the_presser_alone() -> None:
    error = Reply("Booking 5 isn't yours.")
    shown = placed(error, incoming(private=False, is_action=True))
    assert shown.personal and shown.for_user == "42" and shown.action_id == "q1"
    card = placed(Reply("card", edit_original=True), incoming(private=False, is_action=True))
    assert not card.personal and card.edit_message_id == "7"  # the shared message itself is updated
    assert not placed(error, incoming(private=True, is_action=True)).personal
    typed = placed(error, incoming(private=False, is_action=False))
    assert not typed.personal and typed.reply_to == "7"  # a typed command is answered where it was typed


def private_notices(chat: Chat) -> list[tuple[str, str]]:
    from bot.core.outbox import reply_from_json
    return [(row.chat_id, reply_from_json(row.payload).text) for row in chat.outbox()]


def test_lists_of_names_asked_for_in_a_group_are_answered_privately(chat: Chat) -> None:
    chat.say("coord", "/start")
    chat.say("alice", "/task 2h tri des dons")
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 80')
    chat.say("bob", "/join 1")
    for command in ("/tasks all month", "/report names", "/participants 1"):
        shown = chat.text("coord", command, group="g1")
        assert shown == "Je vous ai envoyé la réponse en privé (les noms restent hors des groupes).", command
    sent = private_notices(chat)
    assert [chat_id for chat_id, _ in sent] == ["coord"] * 3
    assert "Alice" in sent[0][1] and "Bob" in sent[2][1]
    assert "Alice" in chat.text("coord", "/tasks all month")  # in private: the answer itself


def test_a_member_promoted_by_a_group_press_is_not_named_and_the_card_gets_no_private_note(chat: Chat) -> None:
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 1')
    chat.say("bob", "/start")
    group_press(chat, "bob", "/join 1")
    group_press(chat, "carol", "/join 1")  # the waiting list; Carol never wrote to the bot privately
    replies = group_press(chat, "bob", "/leave 1")  # Carol is promoted: her message waits for /start
    own, card, note = replies
    assert card.edit_original and note.private_start_payload == "hello" and not note.personal
    assert "Carol" not in card.text + own.text + note.text
    assert "conversation privée" not in card.text  # the shared card is not the place for the note
    assert note.text.startswith("J'ai un message pour quelqu'un ici")
    shown = placed(note, incoming(private=False, is_action=True))
    assert not shown.personal  # the note is for the group, quoting the card


def test_an_unreachable_asker_hears_it_in_their_own_answer_without_their_name(chat: Chat) -> None:
    [answer] = chat.say("coord", "/report names", group="g1")  # the coordinator never wrote privately
    assert answer.private_start_payload == "hello" and "Coord" not in answer.text
    assert answer.text.startswith("Je vous ai envoyé la réponse en privé")
    assert "Je ne peux pas encore vous écrire en privé" in answer.text


def test_the_announcement_report_names_chats_by_title_and_gives_reasons_in_the_authors_language(chat: Chat) -> None:
    from sqlmodel import Session, select

    from bot.core.context import JobCtx
    from handlers.announcements import report_finished_announcements
    from storage.announcements import chat_title_key
    from storage.models import AdapterState, OutboxMessage

    for n in range(2):
        chat.say("coord", "/abonner", group=f"g{n}")
    chat.say("coord", "/lang en")
    chat.say("coord", "/announce Café fermé samedi")
    chat.say("coord", "/announce send 1")
    with Session(chat.app.engine) as session:
        session.add(AdapterState(key=chat_title_key("console", "g0"), value="Le Tiers-Lieu — Café"))
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id.in_(["g0", "g1"]))).all()  # type: ignore[attr-defined]
        for row, error in zip(rows, ("this chat blocked the bot or removed it", "Telegram: Bad Gateway"), strict=True):
            row.status, row.error = "failed", error
            session.add(row)
        session.commit()
        ctx = JobCtx(session=session, settings=chat.app.settings, now=chat.clock())
        report_finished_announcements(ctx)
        [notice] = ctx.notices
    assert "Not delivered to console Le Tiers-Lieu — Café: I was removed from this chat or blocked there" \
        in notice.reply.text
    assert "Not delivered to console g1: the platform refused it" in notice.reply.text  # no title recorded
    assert "Bad Gateway" not in notice.reply.text and "blocked the bot" not in notice.reply.text


def test_a_sign_up_typed_privately_updates_the_card_shown_in_the_group_in_its_language(chat: Chat) -> None:
    from bot.core.outbox import reply_from_json

    chat.app.dispatcher.admin_check = admins("alice")
    chat.say("alice", "/langue en", group="g1")
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 80')
    chat.say("coord", "/event post 1", group="g1")
    group_press(chat, "bob", "/join 1")  # the card's message (7) in g1 is now known
    assert chat.outbox() == []
    chat.say("carol", "/join 1", lang="fr")  # typed privately, in French
    [edit] = [(row.chat_id, reply_from_json(row.payload)) for row in chat.outbox()]
    assert edit[0] == "g1" and edit[1].edit_message_id == "7"
    assert "2/80 signed up" in edit[1].text and "Carol" not in edit[1].text
    assert [a.label for a in edit[1].actions] == ["Join", "Leave"]


def test_an_organiser_editing_or_cancelling_from_a_group_names_nobody(chat: Chat) -> None:
    chat.say("coord", "/start")
    chat.say("coord", '/event add "Concert" 12/12 20h-23h places 80')
    chat.say("bob", "/join 1", group="g1")  # Bob and Carol never wrote privately: their notices wait
    chat.say("carol", "/join 1", group="g1")
    edited = chat.say("coord", "/event edit 1 21h-23h", group="g1")
    cancelled = chat.say("coord", "/event cancel 1", group="g1")
    shown = "\n".join(r.text for r in edited + cancelled)
    assert "Bob" not in shown and "Carol" not in shown
    assert "J'ai un message pour quelqu'un ici" in shown  # the unnamed note, with the private-chat button
    assert any(r.private_start_payload == "hello" and not r.edit_original for r in edited + cancelled)
