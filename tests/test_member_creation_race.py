"""A new member's first messages may arrive at the same moment (a group and the private chat): both are
answered, and the two messages make one member with one account."""

from __future__ import annotations

import threading

from sqlmodel import Session, func, select

from storage.models import Identity, Member
from tests.harness import Chat, make_chat

TRIALS = 100
APOLOGY = "Désolé"


def first_messages_at_once(chat: Chat, user: str) -> list[str]:
    barrier = threading.Barrier(2)
    answers = ["", ""]

    def send(n: int) -> None:
        barrier.wait()
        answers[n] = chat.text(user, "/help", group="groupe-cafe" if n else None)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def private_chat_of(chat: Chat, user: str) -> str | None:
    with Session(chat.app.engine) as session:
        return session.exec(select(Identity.private_chat_id).where(Identity.user_id == user)).one()


def members_and_accounts(chat: Chat, user: str) -> tuple[int, int]:
    with Session(chat.app.engine) as session:
        accounts = session.exec(select(Identity).where(Identity.user_id == user)).all()
        members = session.exec(select(func.count()).select_from(Member)
                               .where(Member.id.in_([a.member_id for a in accounts]))).one()  # type: ignore[union-attr]
        return members, len(accounts)


def test_a_new_members_two_simultaneous_first_messages_are_both_answered(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        for trial in range(TRIALS if database_url.startswith("postgresql") else 10):
            user = f"newcomer{trial}"
            answers = first_messages_at_once(chat, user)
            assert all(answer and APOLOGY not in answer for answer in answers), answers
            assert members_and_accounts(chat, user) == (1, 1)
            # whichever message made the account, the bot can now write to them first (reminders)
            assert private_chat_of(chat, user) == user
    finally:
        chat.app.engine.dispose()
