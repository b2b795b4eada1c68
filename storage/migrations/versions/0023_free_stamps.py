"""Free stamps: a version per space bumped by triggers at every write that changes what is free in it (the
cache of /free is checked against them, so a write by any process shows in the next /free)

Revision ID: 0023
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0001"
branch_labels = None
depends_on = "0002"  # the triggers watch 0002's event tables

# A bump adds a random step (1 to 2**20): versions only grow, so their sum changes at every committed bump (a
# reader compares the sum first); and a version seen inside a transaction that rolled back is not the one the
# next committed bump makes (a counter would make it again).
_SQLITE_STEP = "(1 + (random() & 1048575))"
_SQLITE_BUMP = ("INSERT INTO freestamp (space_id, version) SELECT {sid}, " + _SQLITE_STEP + " WHERE {sid} IS NOT NULL "
                "ON CONFLICT (space_id) DO UPDATE SET version = version + " + _SQLITE_STEP + ";")
_SQLITE_OCCURRENCE_BUMP = ("INSERT INTO freestamp (space_id, version) SELECT space_id, " + _SQLITE_STEP
                           + " FROM event WHERE id = {row}.event_id AND space_id IS NOT NULL "
                           "ON CONFLICT (space_id) DO UPDATE SET version = version + " + _SQLITE_STEP + ";")
_WATCHED = {  # table: (columns whose update matters, or None for any, the column naming the space)
    "booking": ('space_id, start, "end", status', "space_id"),
    "event": ("space_id, status", "space_id"),
    "eventoccurrence": ('event_id, start, "end", status', None),
    "space": (None, "id"),
}


def _sqlite_bumps(table: str, column: str | None, rows: tuple[str, ...]) -> str:
    if column is None:
        return " ".join(_SQLITE_OCCURRENCE_BUMP.format(row=row) for row in rows)
    return " ".join(_SQLITE_BUMP.format(sid=f"{row}.{column}") for row in rows)


def _upgrade_sqlite() -> None:
    for table, (columns, column) in _WATCHED.items():
        update_of = f"UPDATE OF {columns}" if columns else "UPDATE"
        for when, rows in (("INSERT", ("NEW",)), (update_of, ("OLD", "NEW")), ("DELETE", ("OLD",))):
            name = f"freestamp_{table}_{when.split()[0].lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {when} ON {table} BEGIN {_sqlite_bumps(table, column, rows)} END")


_PG_STEP = "(1 + floor(random() * 1048576)::bigint)"
_PG_BUMP = f"""
CREATE FUNCTION freestamp_bump(sid integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO freestamp (space_id, version) SELECT sid, {_PG_STEP} WHERE sid IS NOT NULL
  ON CONFLICT (space_id) DO UPDATE SET version = freestamp.version + {_PG_STEP}
$$
"""
_PG_TRUNCATE = f"""
CREATE FUNCTION freestamp_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE freestamp SET version = version + {_PG_STEP};
  RETURN NULL;
END
$$
"""
_PG_FUNCTION = """
CREATE FUNCTION freestamp_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN PERFORM freestamp_bump({old}); END IF;
  IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN PERFORM freestamp_bump({new}); END IF;
  RETURN NULL;
END
$$
"""


def _upgrade_postgresql() -> None:
    op.execute(_PG_BUMP)
    op.execute(_PG_TRUNCATE)
    for table, (columns, column) in _WATCHED.items():
        if column is None:
            old, new = ("(SELECT space_id FROM event WHERE id = OLD.event_id)",
                        "(SELECT space_id FROM event WHERE id = NEW.event_id)")
        else:
            old, new = f"OLD.{column}", f"NEW.{column}"
        op.execute(_PG_FUNCTION.format(table=table, old=old, new=new))
        update_of = f"UPDATE OF {columns}" if columns else "UPDATE"
        op.execute(f"CREATE TRIGGER freestamp_{table} AFTER INSERT OR DELETE OR {update_of} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION freestamp_{table}()")
        op.execute(f"CREATE TRIGGER freestamp_{table}_truncate AFTER TRUNCATE ON {table} "  # no row triggers then
                   "FOR EACH STATEMENT EXECUTE FUNCTION freestamp_truncate()")


def upgrade() -> None:
    op.create_table(
        "freestamp",
        sa.Column("space_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("space_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS freestamp_{table} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS freestamp_{table}_truncate ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS freestamp_{table}()")
        op.execute("DROP FUNCTION IF EXISTS freestamp_truncate()")
        op.execute("DROP FUNCTION IF EXISTS freestamp_bump(integer)")
    else:
        for table in _WATCHED:
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS freestamp_{table}_{when}")
    op.drop_table("freestamp")
