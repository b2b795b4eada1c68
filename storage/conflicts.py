"""Errors that mean "two transactions met; run yours again", not "this command is wrong".

PostgreSQL breaks a deadlock by failing one of the transactions (SQLSTATE 40P01) and may fail one at
SERIALIZABLE (40001). Nothing of the failed transaction is kept, so running the whole unit again is safe;
answering "something went wrong" instead would drop a command the member sent (issue 15: two processes)."""

from __future__ import annotations

# deadlock detected, serialization failure; a prepared statement the server no longer has (storage.pg_wire:
# someone ran DEALLOCATE ALL on the connection; it prepares its statements again on the next run)
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "26000"})

# How many times a unit of work is run again after such a conflict before the error stands.
CONFLICT_RETRIES = 3


def is_retryable_conflict(error: BaseException) -> bool:
    """The error, or one it was raised from (SQLAlchemy wraps the driver's as ``.orig``), is a deadlock or
    a serialization failure."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            if getattr(candidate, "sqlstate", None) in RETRYABLE_SQLSTATES:
                return True
        current = current.__cause__ or current.__context__
    return False
