"""iCal feeds: the UID domain and each feed's last ETag and Last-Modified; series cancelled "for the rest"
before this revision get their held dates back

Revision ID: 0009
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0009"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "icalstate",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if {"event", "eventoccurrence"} <= tables:
        # Before issue 14, "/event cancel N all" marked the whole series cancelled, dates already held
        # included. Now the series ends at its last held date (storage.events.cancel_series): same here.
        op.execute(HELD_SERIES)


HELD_SERIES = sa.text("""
UPDATE event SET
    status = 'active',
    rule_until = (SELECT MAX(o.original_start) FROM eventoccurrence o
                  WHERE o.event_id = event.id AND o.status = 'scheduled'),
    rule_count = NULL,
    materialised_until = NULL,
    sequence = sequence + 1
WHERE status = 'cancelled' AND rrule IS NOT NULL
  AND EXISTS (SELECT 1 FROM eventoccurrence o WHERE o.event_id = event.id AND o.status = 'scheduled')
""")


def downgrade() -> None:
    op.drop_table("icalstate")
