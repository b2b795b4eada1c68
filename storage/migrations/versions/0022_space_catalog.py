"""Space catalog version: one row changed by triggers at every write to the space and site tables, so that
each process's in-memory catalog of spaces and sites (storage.catalog) knows when it is stale

Revision ID: 0022
Revises: 0001
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("space", "site")
# A new random value, never a counter: a value seen inside a transaction that rolled back is never reused.
_SQLITE_SET = "UPDATE catalogversion SET version = random() WHERE name = 'spaces';"
_PG_FUNCTION = """
CREATE FUNCTION catalogversion_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalogversion SET version = floor((random() - 0.5) * 9.0e18)::bigint WHERE name = 'spaces';
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "catalogversion",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    table = sa.table("catalogversion", sa.column("name", sa.String), sa.column("version", sa.BigInteger))
    op.execute(table.insert().values(name="spaces", version=secrets.randbits(62)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name in _TABLES:
            op.execute(f"CREATE TRIGGER catalogversion_{name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION catalogversion_bump()")
    else:
        for name in _TABLES:
            for when in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER catalogversion_{name}_{when.lower()} AFTER {when} ON {name} "
                           f"BEGIN {_SQLITE_SET} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS catalogversion_{name} ON {name}")
        op.execute("DROP FUNCTION IF EXISTS catalogversion_bump()")
    else:
        for name in _TABLES:
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS catalogversion_{name}_{when}")
    op.drop_table("catalogversion")
