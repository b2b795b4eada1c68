"""A listing command sends as many SQL statements for four rows as for one: no query per row (issue 15).
The rows are added through the commands people type (tests/list_scenarios.py); bench/bench_lists.py prints
the same counts with 1 and 100 rows, and the time beside /help."""

from __future__ import annotations

import pytest

from tests.harness import Chat
from tests.list_scenarios import SCENARIOS, ListScenario, StatementCounter, grow, statements_of


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_listing_sends_no_query_per_row(chat: Chat, scenario: ListScenario) -> None:
    scenario.setup(chat)
    counter = StatementCounter(chat.app.engine)
    try:
        grow(chat, scenario, 0, 1)
        one, one_text = statements_of(chat, counter, scenario)
        grow(chat, scenario, 1, 4)
        four, four_text = statements_of(chat, counter, scenario)
    finally:
        counter.close()
    assert four_text != one_text, "the list shows the new rows"
    assert four == one, f"{scenario.command}: {one} statements for one row, {four} for four:\n" + "\n".join(
        counter.statements)
