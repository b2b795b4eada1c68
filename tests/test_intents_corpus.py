"""The public corpus (tests/corpus/sentences.txt): every sentence leads to the command, question or answer
written beside it. Read as alice in a world of spaces, events, shifts and bookings built through the
bot's own commands (now is Monday 23 November 2026, 10:00 in Paris)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.core.conversation.plan import Plan, Planner
from bot.core.i18n import translator_for
from storage.members import find_identity
from tests.harness import Chat, make_chat

CORPUS = Path(__file__).resolve().parent / "corpus" / "sentences.txt"

WORLD = [
    ("coord", '/event add "Atelier vélo" samedi 14h-17h places 10'),
    ("coord", '/event add "Repair Café" jeudi 18h-21h places 12'),
    ("coord", '/event add "Atelier couture" mercredi 18h-20h places 8'),
    ("coord", '/event add "Soirée jeux" vendredi 19h-23h'),
    ("coord", "/rota add ouverture sam 09:00-10:00 1"),
    ("coord", "/rota add fermeture ven 18:00-19:00 1"),
    ("alice", "/book petite-salle jeudi 14h-16h"),
    ("alice", "/book salle-reunion vendredi 10h-12h"),
    ("alice", "/join 4"),
    ("alice", "/take 2"),
]


@dataclass(frozen=True)
class Case:
    section: str
    sentence: str
    expected: str


def load_corpus(path: Path = CORPUS) -> list[Case]:
    cases, section = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            sentence, _, expected = line.rpartition(" => ")
            cases.append(Case(section, sentence.strip(), expected.strip()))
    return cases


def build_world(database_url: str) -> Chat:
    chat = make_chat(database_url)
    for user, command in WORLD:
        chat.say(user, command)
    return chat


class Reader:
    """Plans alice's answer to one sentence at a time, as if nothing were in progress; writes nothing
    that lasts (the session is rolled back)."""

    def __init__(self, chat: Chat, language: str = "fr") -> None:
        self.chat = chat
        self.session = Session(chat.app.engine)
        identity = find_identity(self.session, "console", "alice")
        assert identity is not None
        self.member_id = identity.member_id
        self.translator = translator_for(language, "Europe/Paris")

    def plan(self, sentence: str) -> Plan:
        plan = Planner(self.session, self.member_id, self.chat.clock(), self.translator).sentence(sentence)
        self.session.rollback()
        return plan

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    chat = build_world(f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}")
    reader = Reader(chat)
    yield reader
    reader.close()
    chat.app.engine.dispose()


CASES = load_corpus()


def test_the_corpus_has_200_sentences_in_french_and_english() -> None:
    assert len(CASES) >= 200
    assert len({c.sentence for c in CASES}) == len(CASES), "a sentence is listed twice"


@pytest.mark.parametrize("case", CASES, ids=[c.sentence[:60] for c in CASES])
def test_sentence_leads_to_its_command(reader: Reader, case: Case) -> None:
    assert reader.plan(case.sentence).outcome == case.expected


def test_a_changing_request_is_only_proposed_and_a_reading_one_is_run(reader: Reader) -> None:
    assert reader.plan("je voudrais la petite salle demain 14h-16h").kind == "confirm"
    assert reader.plan("annule ma résa de jeudi").kind == "confirm"
    assert reader.plan("qui ouvre samedi ?").kind == "run"
