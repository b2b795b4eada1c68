"""Members and their chat identities."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, literal_column, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.types import UserRef
from storage.catalog import remember_version
from storage.models import Identity, Member
from storage.models_catalog import CatalogVersion
from storage.models_conversation import ConversationState
from storage.models_links import AccountHandle
from storage.prepared import Prepared


def find_identity(session: Session, platform: str, user_id: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.platform == platform, Identity.user_id == user_id)
    ).first()


_MEMBER_OF_ACCOUNT = (  # built once: every command runs it
    select(Member, Identity, AccountHandle)
    .join(Identity, col(Identity.member_id) == col(Member.id))
    .outerjoin(AccountHandle, col(AccountHandle.identity_id) == col(Identity.id))
    .where(col(Member.id) == select(Identity.member_id).where(
        col(Identity.platform) == bindparam("platform"), col(Identity.user_id) == bindparam("user_id"))
        .scalar_subquery())
    .order_by(col(Identity.id))
)


def member_of_account(session: Session, platform: str, user_id: str) -> tuple[Member, Identity, list[Identity]] | None:
    """The member behind a chat account, that account, and all the member's accounts (by id), in one
    query; the accounts' handles come with it (loaded into the session for ``remember_handle``)."""
    rows = session.exec(_MEMBER_OF_ACCOUNT, params={"platform": platform, "user_id": user_id}).all()
    if not rows:
        return None
    identities = [identity for _member, identity, _handle in rows]
    identity = next(i for i in identities if i.platform == platform and i.user_id == user_id)
    return rows[0][0], identity, identities


@dataclass(frozen=True)
class Account:
    """One of a member's chat accounts, as the asker query reads it (no ORM object)."""

    id: int
    platform: str
    user_id: str
    private_chat_id: str | None
    handle: str | None


@dataclass(frozen=True)
class ChatState:
    """Whether the conversation keeps something for this member in this chat (models_conversation)."""

    id: int
    has_choices: bool
    has_request: bool


@dataclass(frozen=True)
class Asker:
    """Who sent a message, read in one query with every account of theirs and their conversation state in
    the chat (the dispatcher needs no ORM object; ``Ctx.member`` loads one only when a handler asks)."""

    member_id: int
    display_name: str
    language: str | None
    language_chosen: bool
    is_coordinator: bool
    account: Account  # the account the message came from
    accounts: tuple[Account, ...]  # every account of the member, by id
    state: ChatState | None  # None: nothing kept for them in this chat
    created: bool = False  # this message made the member


_m, _i, _h = Member.__table__, Identity.__table__, AccountHandle.__table__  # type: ignore[attr-defined]
_st = ConversationState.__table__  # type: ignore[attr-defined]
_cv = CatalogVersion.__table__  # type: ignore[attr-defined]
_asked = _i.alias("asked")
_ASKER = Prepared(  # built and compiled once: every command runs it
    core_select(_m.c.id, _m.c.display_name, _m.c.language, _m.c.language_chosen, _m.c.is_coordinator,
           _i.c.id, _i.c.platform, _i.c.user_id, _i.c.private_chat_id, _h.c.handle,
           _st.c.id, _st.c.choices.is_not(None), _st.c.request.is_not(None),
           # the spaces' catalog version, for storage.catalog (no statement of its own; one round trip less)
           core_select(_cv.c.version).where(_cv.c.name == literal_column("'spaces'")).scalar_subquery())
    .select_from(
        _asked.join(_m, _m.c.id == _asked.c.member_id)
        .join(_i, _i.c.member_id == _m.c.id)
        .outerjoin(_h, _h.c.identity_id == _i.c.id)
        .outerjoin(_st, and_(_st.c.member_id == _m.c.id, _st.c.platform == bindparam("chat_platform"),
                             _st.c.chat_id == bindparam("chat_id"))))
    .where(_asked.c.platform == bindparam("platform"), _asked.c.user_id == bindparam("user_id"))
    .order_by(_i.c.id)
)


def find_asker(session: Session, platform: str, user_id: str, chat_platform: str, chat_id: str) -> Asker | None:
    """The member behind a chat account, all their accounts and their conversation state in this chat, in
    one query (storage.prepared); None for an account never seen. The same query reads the spaces' catalog
    version, remembered for the transaction (storage.catalog)."""
    connection = session.connection()
    rows = _ASKER.rows(connection, {"platform": platform, "user_id": user_id,
                                    "chat_platform": chat_platform, "chat_id": chat_id})
    if not rows:
        return None
    first = rows[0]
    if first[13] is not None:
        remember_version(connection, int(first[13]))
    accounts = tuple(Account(int(r[5]), r[6], r[7], r[8], r[9]) for r in rows)
    account = next(a for a in accounts if a.platform == platform and a.user_id == user_id)
    state = ChatState(int(first[10]), bool(first[11]), bool(first[12])) if first[10] is not None else None
    return Asker(int(first[0]), first[1], first[2], bool(first[3]), bool(first[4]), account, accounts, state)


def get_or_create_asker(session: Session, user: UserRef, chat_platform: str, chat_id: str,
                        language_hint: str | None, *, private_chat_id: str | None = None) -> Asker:
    """``get_or_create_member_with_identities`` without ORM objects for a known member: one query, and a
    write only when something changed (display name, language hint, public handle, the account's private
    chat: ``private_chat_id``, given when the message came from one). A newcomer is created with all of it
    in the same inserts (``session.info["new_member_id"]``)."""
    found = find_asker(session, user.platform.value, user.user_id, chat_platform, chat_id)
    if found is None:
        created = _newcomer(session, user, language_hint, private_chat_id)
        if created is not None:
            return created
        # another transaction created the account a moment ago: what it made is read as for anyone known
        found = find_asker(session, user.platform.value, user.user_id, chat_platform, chat_id)
        if found is None:
            raise LookupError(f"account {user.platform.value}:{user.user_id} neither found nor created")
    return _kept_current(session, found, user, language_hint, private_chat_id)


def _kept_current(session: Session, found: Asker, user: UserRef, language_hint: str | None,
                  private_chat_id: str | None) -> Asker:
    """A known member as this message shows them: their display name, language hint, public handle and
    private chat written only when one changed."""
    changes: dict[str, Any] = {}
    if user.display_name and found.display_name != user.display_name[:200]:
        changes["display_name"] = user.display_name[:200]
    if not found.language_chosen and language_hint and found.language != language_hint:
        changes["language"] = language_hint
    if changes:
        session.execute(update(Member).where(col(Member.id) == found.member_id).values(**changes))
        found = replace(found, **changes)
    if user.username is not None and (found.account.handle or "") != _handle_of(user.username):
        remember_handle_of(session, found.account.id, user.username)
    if private_chat_id is not None and found.account.private_chat_id != private_chat_id:
        # where the bot can write to them first
        session.execute(update(Identity).where(col(Identity.id) == found.account.id)
                        .values(private_chat_id=private_chat_id))
        account = replace(found.account, private_chat_id=private_chat_id)
        found = replace(found, account=account,
                        accounts=tuple(account if a.id == account.id else a for a in found.accounts))
    return found


def _newcomer(session: Session, user: UserRef, language_hint: str | None,
              private_chat_id: str | None) -> Asker | None:
    """A first message: the member and the account inserted at once, private chat included (no second
    lookup, no update after: three round trips fewer on PostgreSQL than the general path). None when
    another transaction created the account first."""
    created = _insert_or_get_identity(session, user, language_hint, private_chat_id)
    if not isinstance(created, tuple):
        return None
    member, identity = created
    assert member.id is not None and identity.id is not None
    account = Account(identity.id, identity.platform, identity.user_id, identity.private_chat_id,
                      _handle_of(user.username) or None)
    return Asker(member.id, member.display_name, member.language, member.language_chosen,
                 member.is_coordinator, account, (account,), None, created=True)


def _handle_of(username: str | None) -> str:
    return (username or "").lstrip("@").lower()[:64]


def get_or_create_member(session: Session, user: UserRef, language_hint: str | None) -> tuple[Member, Identity]:
    """The member behind a chat account, created on first contact; display name kept current."""
    member, identity, _identities = get_or_create_member_with_identities(session, user, language_hint)
    return member, identity


def get_or_create_member_with_identities(
    session: Session, user: UserRef, language_hint: str | None
) -> tuple[Member, Identity, list[Identity]]:
    """``get_or_create_member`` and the member's accounts (for the coordinator check), one query when known."""
    found = member_of_account(session, user.platform.value, user.user_id)
    if found is None:
        created = _insert_or_get_identity(session, user, language_hint)
        if isinstance(created, tuple):
            return created[0], created[1], [created[1]]
        identity = created
        identities = identities_of(session, identity.member_id)
        existing = session.get(Member, identity.member_id)
    else:
        existing, identity, identities = found
    if user.username is not None:
        remember_handle(session, identity, user.username)
    assert existing is not None
    member = existing
    if user.display_name and member.display_name != user.display_name[:200]:
        member.display_name = user.display_name[:200]
    if not member.language_chosen and language_hint and member.language != language_hint:
        member.language = language_hint
    return member, identity, identities


def _insert_or_get_identity(
    session: Session, user: UserRef, language_hint: str | None, private_chat_id: str | None = None
) -> tuple[Member, Identity] | Identity:
    """Insert-or-get on the account's unique key: a new member and account (marked as this message's new
    member, with the public handle it came with), or the account another
    transaction created a moment ago (a newcomer's first messages from a group and from the private chat
    arrive together). The insert runs in a savepoint so losing the race keeps the command's transaction
    usable; PostgreSQL makes the loser wait for the winner's commit, so the re-read then finds the row.
    Retried once, for a winner that rolled back."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                member = Member(display_name=user.display_name[:200] or user.user_id[:200], language=language_hint)
                session.add(member)
                session.flush()
                assert member.id is not None
                identity = Identity(member_id=member.id, platform=user.platform.value, user_id=user.user_id,
                                    private_chat_id=private_chat_id)
                session.add(identity)
                session.flush()
        except IntegrityError:
            found = find_identity(session, user.platform.value, user.user_id)
            if found is not None:
                return found
            if attempt:
                raise
        else:
            session.info["new_member_id"] = member.id  # this message's command is the member's first
            if user.username:
                remember_handle(session, identity, user.username)
            return member, identity
    raise AssertionError("unreachable")


def identities_of(session: Session, member_id: int) -> list[Identity]:
    return list(session.exec(select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))))


MEMBER_NUMBER = re.compile(r"#\s*(\d{1,9})")
MATRIX_USER_ID = re.compile(r"@[^:\s]+:\S+")
MAX_CANDIDATES = 8


@dataclass(frozen=True)
class MemberLookup:
    """What a reference to a member names: ``member`` when it names one without doubt, otherwise the
    ``candidates`` it might mean (a choice to offer), or neither (nobody)."""

    member: Member | None
    candidates: tuple[Member, ...] = ()


def lookup_member(session: Session, reference: str, mentions: Sequence[UserRef] = ()) -> MemberLookup:
    """The member a coordinator names. Unambiguous references, tried first: a mention the platform
    resolved (Telegram text_mention/@username, Matrix pill), a member number from /members (``#12``),
    a chat account exactly (Matrix id ``@alice:example.org``, Telegram @username, chat id). Then names:
    a display name equal to the reference names that member only when no other member's name could be
    meant (starts with it, or has a word that does); anything else is a choice. So a display name,
    which members choose themselves, never wins over another member."""
    from bot.core.router import fold

    text = " ".join(reference.split())
    if not text:
        return MemberLookup(None)
    for mention in mentions:
        if _mention_names(mention, text, fold):
            return MemberLookup(_mentioned_member(session, mention))
    number = MEMBER_NUMBER.fullmatch(text)
    if number:
        return MemberLookup(session.get(Member, int(number.group(1))))
    bare = text.lstrip("@").strip()
    account_members = _members_by_account(session, bare)
    if text.isascii() and text.isdigit() and len(text) <= 12:
        by_number = session.get(Member, int(text))
        if by_number is not None:
            account_members[by_number.id] = by_number  # type: ignore[index]
    if len(account_members) == 1:
        return MemberLookup(next(iter(account_members.values())))
    if account_members:
        return MemberLookup(None, tuple(sorted(account_members.values(), key=lambda m: m.id or 0)))
    if MATRIX_USER_ID.fullmatch(text) or text.isdigit():
        return MemberLookup(None)  # the form of an account or number: never read as someone's chosen name
    wanted = fold(bare)
    if not wanted:
        return MemberLookup(None)
    exact: list[int] = []
    close: list[int] = []
    # Names only (a column query, no ORM object per member); the few members that match are loaded after.
    if session.new or session.dirty:
        session.flush()  # as the ORM query did (autoflush)
    for member_id, display_name in session.connection().execute(_NAMES):
        name = _folded_name(display_name)
        if name == wanted:
            exact.append(int(member_id or 0))
        elif name.startswith(wanted) or f" {wanted}" in f" {name}":
            close.append(int(member_id or 0))
    if len(exact) == 1 and not close:
        return MemberLookup(session.get(Member, exact[0]))
    wanted_ids = (exact + close)[:MAX_CANDIDATES]
    loaded = {m.id: m for m in session.exec(select(Member).where(col(Member.id).in_(wanted_ids)))} if wanted_ids else {}
    return MemberLookup(None, tuple(loaded[i] for i in wanted_ids if i in loaded))


_NAMES = core_select(col(Member.id), col(Member.display_name)).order_by(col(Member.id))


@lru_cache(maxsize=16384)
def _folded_name(display_name: str) -> str:
    from bot.core.router import fold

    return fold(display_name)


def _mention_names(mention: UserRef, text: str, fold: Callable[[str], str]) -> bool:
    wanted = fold(text.lstrip("@"))
    names = {fold(mention.display_name.lstrip("@")), fold(mention.user_id.lstrip("@"))}
    if mention.username:
        names.add(fold(mention.username.lstrip("@")))
    return wanted in names - {""}


def _mentioned_member(session: Session, mention: UserRef) -> Member | None:
    member_id: int | None = None
    if mention.user_id:
        identity = find_identity(session, mention.platform.value, mention.user_id)
        member_id = identity.member_id if identity else None
    elif mention.username:
        member_id = session.exec(
            select(Identity.member_id).join(AccountHandle, col(AccountHandle.identity_id) == col(Identity.id))
            .where(Identity.platform == mention.platform.value, AccountHandle.handle == mention.username.lower())
        ).first()
    return session.get(Member, member_id) if member_id is not None else None


_BY_ACCOUNT = core_select(_i.c.member_id).where(
    func.lower(_i.c.user_id).in_([bindparam("lowered"), bindparam("at_lowered")])
).union(
    core_select(_i.c.member_id).select_from(_i.join(_h, _h.c.identity_id == _i.c.id))
    .where(_h.c.handle == bindparam("lowered"))
)  # built once


def _members_by_account(session: Session, bare: str) -> dict[int, Member]:
    """Members with a chat account whose id or public handle is exactly ``bare`` (case ignored)."""
    lowered = bare.lower()
    if not lowered:
        return {}
    if session.new or session.dirty:
        session.flush()  # as the ORM queries did (autoflush)
    ids = {int(i) for (i,) in session.connection().execute(_BY_ACCOUNT, {"lowered": lowered,
                                                                         "at_lowered": f"@{lowered}"})}
    found = {i: session.get(Member, i) for i in sorted(ids)}  # usually one
    return {i: m for i, m in found.items() if m is not None}


def find_member_by_name(session: Session, name: str, mentions: Sequence[UserRef] = ()) -> list[Member]:
    """Compatible form of ``lookup_member`` for callers that take one result as the member: one member
    when the reference names one without doubt, several when it might mean several, none otherwise (a
    single uncertain candidate is not returned, so that it is never taken silently)."""
    found = lookup_member(session, name, mentions)
    if found.member is not None:
        return [found.member]
    return list(found.candidates) if len(found.candidates) > 1 else []


def accounts_of(session: Session, member_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Each member's chat accounts as (platform, what people know it by): the Telegram @username when
    known (else nothing: a Telegram id means nothing to anyone), the Matrix id, the console login."""
    wanted = list(member_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Identity, AccountHandle.handle)
        .join(AccountHandle, col(AccountHandle.identity_id) == col(Identity.id), isouter=True)
        .where(col(Identity.member_id).in_(wanted)).order_by(col(Identity.id))
    ).all()
    accounts: dict[int, list[tuple[str, str]]] = {m: [] for m in wanted}
    for identity, handle in rows:
        if handle:
            shown = f"@{handle}"
        elif identity.platform == "telegram":
            shown = ""
        else:
            shown = identity.user_id
        accounts[identity.member_id].append((identity.platform, shown))
    return accounts


def remember_handle(session: Session, identity: Identity, username: str | None) -> None:
    """Keep the account's public handle current (a Telegram @username can change or go away)."""
    assert identity.id is not None
    remember_handle_of(session, identity.id, username)


def remember_handle_of(session: Session, identity_id: int, username: str | None) -> None:
    handle = _handle_of(username)
    row = session.get(AccountHandle, identity_id)
    if row is None and handle:
        session.add(AccountHandle(identity_id=identity_id, handle=handle))
    elif row is not None and not handle:
        session.delete(row)
    elif row is not None and row.handle != handle:
        row.handle = handle
        session.add(row)


def coordinator_ids(session: Session, configured: Iterable[tuple[str, str]]) -> list[int]:
    """Every coordinator's member id: members marked as such, and those with an account listed in the
    COORDINATORS setting (``settings.coordinators``: (platform, user id) pairs)."""
    pairs = [(str(platform), user_id) for platform, user_id in configured]
    condition = col(Member.is_coordinator) == True  # noqa: E712
    if pairs:
        listed = select(Identity.member_id).where(
            or_(*(and_(col(Identity.platform) == p, col(Identity.user_id) == u) for p, u in pairs)))
        condition = or_(condition, col(Member.id).in_(listed))
    return [i for i in session.exec(select(Member.id).where(condition).order_by(col(Member.id))) if i is not None]
