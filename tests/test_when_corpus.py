"""The public corpus of how members say when (tests/corpus/when_fr_en.py): every phrasing is read as a
person would read it, or refused; none is misread."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.corpus.when_fr_en import CASES, COMMANDS, Case, read, verdict

# Weekday abbreviations at the very end of a text are left alone ("sortie à la mer", "avec Sam"), so these
# are refused (the command asks for the day) rather than read.
KNOWN_REFUSALS = {("task", "2h tri ven"), ("task", "2h tri dim")}


def test_the_corpus_is_big_varied_and_covers_both_clock_changes() -> None:
    assert len(CASES) >= 300
    per_command = Counter(case.command for case in CASES)
    assert set(per_command) == set(COMMANDS) and min(per_command.values()) >= 25
    assert {case.now.month for case in CASES} >= {3, 10, 11}
    assert len({(case.command, case.text, case.now) for case in CASES}) == len(CASES), "no duplicate case"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.command}:{c.text}")
def test_each_phrasing_is_read_as_a_person_would_or_refused_never_misread(case: Case) -> None:
    got = read(case)
    outcome = verdict(case, got)
    assert outcome != "misread", (case, got)
    if (case.command, case.text) in KNOWN_REFUSALS:
        assert outcome == "refused", "now understood: remove it from KNOWN_REFUSALS"
    else:
        assert outcome == "right", (case, got)
