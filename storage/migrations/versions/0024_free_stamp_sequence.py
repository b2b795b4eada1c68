"""Free stamps in order: each bump also gives the space's row the next sequence number (above the highest in the
table by a random step, in the writing transaction), so a reader whose versions are a few bumps old reads only
the rows changed since the highest number it has seen instead of every space's row (storage.availability)

Revision ID: 0024
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0001"
branch_labels = None
depends_on = "0023"  # replaces 0023's triggers (SQLite) and functions (PostgreSQL)

# Above the highest number, not a database sequence: a restored archive's rows keep their numbers and the next
# bump still comes after them (a sequence would start again below them). By a random step, not +1: a number
# seen inside a transaction that rolled back is not the one the next commit takes (on SQLite, where commits
# come in the order of their numbers, a reader then trusts the highest number alone). Two PostgreSQL
# transactions bumping at once may take the same number or commit out of order: readers there check the
# versions' sum and count as in 0023, and look a little back or read every row when they don't add up.
_SQLITE_NEXT = "(SELECT coalesce(max(seq), 0) + 1 + (random() & 2147483647) FROM freestamp)"
_PG_NEXT = "(SELECT coalesce(max(seq), 0) + 1 + floor(random() * 2147483648)::bigint FROM freestamp)"
_SQLITE_STEP = "(1 + (random() & 1048575))"  # as 0023
_WATCHED = {  # as 0023: table: (columns whose update matters, or None for any, the column naming the space)
    "booking": ('space_id, start, "end", status', "space_id"),
    "event": ("space_id, status", "space_id"),
    "eventoccurrence": ('event_id, start, "end", status', None),
    "space": (None, "id"),
}


def _sqlite_bump(source: str, numbered: bool) -> str:
    """``source``: "SELECT <space id>" plus its FROM/WHERE, the space id first."""
    if numbered:
        return (f"INSERT INTO freestamp (space_id, version, seq) {source.format(step=_SQLITE_STEP, next=_SQLITE_NEXT)} "
                f"ON CONFLICT (space_id) DO UPDATE SET version = version + {_SQLITE_STEP}, seq = excluded.seq;")
    return (f"INSERT INTO freestamp (space_id, version) {source.format(step=_SQLITE_STEP, next='')} "
            f"ON CONFLICT (space_id) DO UPDATE SET version = version + {_SQLITE_STEP};")


def _sqlite_triggers(numbered: bool) -> None:
    extra = ", {next}" if numbered else "{next}"
    for table, (columns, column) in _WATCHED.items():
        if column is None:
            sources = {row: f"SELECT space_id, {{step}}{extra} FROM event WHERE id = {row}.event_id "
                            "AND space_id IS NOT NULL" for row in ("OLD", "NEW")}
        else:
            sources = {row: f"SELECT {row}.{column}, {{step}}{extra} WHERE {row}.{column} IS NOT NULL"
                       for row in ("OLD", "NEW")}
        update_of = f"UPDATE OF {columns}" if columns else "UPDATE"
        for when, rows in (("INSERT", ("NEW",)), (update_of, ("OLD", "NEW")), ("DELETE", ("OLD",))):
            name = f"freestamp_{table}_{when.split()[0].lower()}"
            body = " ".join(_sqlite_bump(sources[row], numbered) for row in rows)
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER {when} ON {table} BEGIN {body} END")


_PG_STEP = "(1 + floor(random() * 1048576)::bigint)"  # as 0023
# plpgsql (0023's was SQL): its statement's plan is kept for the session instead of made at every bump.
_PG_BUMP = f"""
CREATE OR REPLACE FUNCTION freestamp_bump(sid integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF sid IS NULL THEN RETURN; END IF;
  INSERT INTO freestamp AS f (space_id, version, seq) VALUES (sid, {_PG_STEP}, {_PG_NEXT})
  ON CONFLICT (space_id) DO UPDATE SET version = f.version + {_PG_STEP}, seq = excluded.seq;
END
$$
"""
_PG_TRUNCATE = f"""
CREATE OR REPLACE FUNCTION freestamp_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE freestamp SET version = version + {_PG_STEP}, seq = {_PG_NEXT};
  RETURN NULL;
END
$$
"""
_PG_BUMP_0023 = f"""
CREATE OR REPLACE FUNCTION freestamp_bump(sid integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO freestamp (space_id, version) SELECT sid, {_PG_STEP} WHERE sid IS NOT NULL
  ON CONFLICT (space_id) DO UPDATE SET version = freestamp.version + {_PG_STEP}
$$
"""
_PG_TRUNCATE_0023 = f"""
CREATE OR REPLACE FUNCTION freestamp_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE freestamp SET version = version + {_PG_STEP};
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.add_column("freestamp", sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_freestamp_seq", "freestamp", ["seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_BUMP)
        op.execute(_PG_TRUNCATE)
    else:
        _sqlite_triggers(numbered=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_BUMP_0023)
        op.execute(_PG_TRUNCATE_0023)
    else:
        _sqlite_triggers(numbered=False)
    op.drop_index("ix_freestamp_seq", table_name="freestamp")
    with op.batch_alter_table("freestamp") as batch:
        batch.drop_column("seq")
