"""PostgreSQL: a few statements sent in one flush straight on libpq, for the statements every command runs.

psycopg's pipeline mode sends several statements in one round trip too, but through its Python-level Pipeline
and Cursor objects: measured here, about 110 µs of client CPU for a BEGIN, one read and its rows, against
about 50 µs on libpq directly, which is a fifth of a /book on PostgreSQL (bench/bench_postgres.py, issue 15).
This module keeps psycopg's parts that are written in C (its Transformer dumps the parameters and loads the
rows, its generators wait on the socket) and leaves out the Python bookkeeping around them.

Statements are prepared on the server once per connection (psycopg prepares a statement after its fifth run;
these run on every command), under names of their own (``_tl_N``, psycopg's are ``_pg3_N``). A failed
statement raises psycopg's own error for its SQLSTATE (a deadlock is ``DeadlockDetected``), after the
statements sent with it are read back, so the connection is left as psycopg expects it: out of pipeline
mode, in a transaction to roll back. Only ``storage.prepared`` uses this module."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from psycopg import errors, generators, pq
from psycopg.adapt import PyFormat, Transformer

_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
_STATE = "_tierslieu_wire"  # on a psycopg connection: its _Prepared (what this connection has prepared)
_MOST_PREPARED = 500  # a bound on one connection's prepared statements (there are a few dozen hot statements)


@dataclass(frozen=True, slots=True)
class Wire:
    """A statement in libpq's form: ``$1``-style placeholders, and the parameter name for each position."""

    sql: bytes
    names: tuple[str, ...]


def to_wire(pyformat_sql: str) -> Wire:
    """A statement as SQLAlchemy compiles it for psycopg (``%(name)s``, ``%%`` for a percent sign) in libpq's
    form; a name used twice is one parameter, as psycopg does."""
    names: dict[str, int] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    sql = _PLACEHOLDER.sub(placeholder, pyformat_sql)
    return Wire(sql.encode(), tuple(names))


Sent = tuple[Wire, Mapping[str, Any]]  # a statement and its values by name


class _Prepared:
    """One connection's prepared statements (by text and parameter types) and its Transformer."""

    __slots__ = ("names", "numbers", "transformer")

    def __init__(self, driver: Any) -> None:
        self.transformer = Transformer(driver)
        self.names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.numbers = count(1)


def _state(driver: Any) -> _Prepared:
    state = getattr(driver, _STATE, None)
    if state is None:
        state = _Prepared(driver)
        setattr(driver, _STATE, state)
    return state


_COMMAND, _WRITE, _READ = 0, 1, 2  # what each statement sent is, to read its answer


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """A statement ready to send: its parameters dumped, its prepared name, and whether to prepare it first."""

    kind: int
    wire: Wire
    params: Sequence[Any]
    types: tuple[int, ...]
    formats: Sequence[Any]
    name: bytes | None  # None: sent unprepared (the connection prepared too many)
    prepare: bool


def run_together(driver: Any, *, begin: bool = False, writes: Sequence[Sent] = (), reads: Sequence[Sent] = (),
                 then: bytes | None = None) -> list[list[tuple[Any, ...]]]:
    """Send, in one flush: BEGIN if ``begin``, the ``writes`` (their results are not read), the ``reads``,
    then the command ``then`` (``b"COMMIT"``); the rows of each read, in order. The server runs them one
    after the other, each with its own snapshot. A failure raises the first error once everything sent was
    read back; what followed the failed statement was not run."""
    state = _state(driver)
    with driver.lock:
        # parameters dumped first: a value psycopg can't adapt raises here, before anything is sent (and
        # before any name is taken for a statement to prepare)
        dumped = [_dumped(state.transformer, kind, wire, values) for kind, sent in ((_WRITE, writes), (_READ, reads))
                  for wire, values in sent]
        outgoing = [_named(state, out) for out in dumped]
        pgconn = driver.pgconn
        try:
            expected = _send(pgconn, begin, outgoing, then)
            driver.wait(generators.send(pgconn))
            answers = [driver.wait(generators.fetch_many(pgconn)) for _ in expected]
            driver.wait(generators.fetch(pgconn))  # the sync's own result
            pgconn.exit_pipeline_mode()
        except BaseException:
            # interrupted, or the connection failed, with answers unread: it is no longer in step with the
            # server (nor is what it knows it prepared), so it is closed; the pool replaces it
            driver.close()
            raise
    return _read_answers(driver, state, expected, answers)


def _dumped(transformer: Any, kind: int, wire: Wire, values: Mapping[str, Any]) -> _Outgoing:
    params = transformer.dump_sequence([values[name] for name in wire.names], [PyFormat.AUTO] * len(wire.names))
    types, formats = tuple(transformer.types or ()), list(transformer.formats or ())
    return _Outgoing(kind, wire, params, types, formats, None, False)


def _named(state: _Prepared, out: _Outgoing) -> _Outgoing:
    """The statement's prepared name on this connection, a new one (to prepare first) if it has none yet;
    none when the connection prepared too many (sent unprepared)."""
    key = (out.wire.sql, out.types)
    name = state.names.get(key)
    if name is not None:
        return _Outgoing(out.kind, out.wire, out.params, out.types, out.formats, name, False)
    if len(state.names) >= _MOST_PREPARED:
        return out
    name = state.names[key] = b"_tl_%d" % next(state.numbers)  # a second use in this flush takes it too
    return _Outgoing(out.kind, out.wire, out.params, out.types, out.formats, name, True)


def _send(pgconn: Any, begin: bool, outgoing: Sequence[_Outgoing], then: bytes | None) -> list[tuple[int, Any]]:
    """Everything queued in pipeline mode, with a sync; per command sent, what it is (and a PREPARE's key)."""
    expected: list[tuple[int, Any]] = []
    pgconn.enter_pipeline_mode()
    if begin:
        pgconn.send_query_params(b"BEGIN", None)
        expected.append((_COMMAND, None))
    for out in outgoing:
        if out.name is None:
            pgconn.send_query_params(out.wire.sql, out.params, out.types, out.formats)
        else:
            if out.prepare:
                pgconn.send_prepare(out.name, out.wire.sql, out.types)
                expected.append((_COMMAND, (out.wire.sql, out.types)))
            pgconn.send_query_prepared(out.name, out.params, out.formats)
        expected.append((out.kind, None))
    if then is not None:
        pgconn.send_query_params(then, None)
        expected.append((_COMMAND, None))
    pgconn.pipeline_sync()
    return expected


def _read_answers(driver: Any, state: _Prepared, expected: list[tuple[int, Any]],
                  answers: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    """Each read's rows; a statement whose preparation failed or wasn't run forgotten; the first failure
    raised."""
    failure: errors.Error | None = None
    rows: list[list[tuple[Any, ...]]] = []
    transformer = state.transformer
    for (kind, prepared), results in zip(expected, answers, strict=True):
        status = results[-1].status if results else pq.ExecStatus.FATAL_ERROR
        if status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED):
            if prepared is not None:
                state.names.pop(prepared, None)
            if status == pq.ExecStatus.FATAL_ERROR and failure is None:
                failure = errors.error_from_result(results[-1], encoding=driver.info.encoding) if results \
                    else errors.OperationalError("the server gave no answer to a statement")
                if isinstance(failure, errors.InvalidSqlStatementName):
                    state.names.clear()  # someone ran DEALLOCATE ALL: prepared again on the next run
            continue
        if kind == _READ:
            result = results[-1]
            transformer.set_pgresult(result)
            rows.append(transformer.load_rows(0, result.ntuples, tuple))
    if failure is not None:
        raise failure
    return rows
