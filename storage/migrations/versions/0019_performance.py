"""Performance: overlap queries and a member's upcoming bookings served by indexes led by the end time
(cost independent of history)

Revision ID: 0019
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0001"
branch_labels = None
depends_on = "0002"  # the occurrence index is on 0002's table


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_space_time")
        batch_op.create_index("ix_booking_space_end", ["space_id", "end", "start"], unique=False)
        batch_op.create_index("ix_booking_member_end", ["member_id", "end"], unique=False)
    with op.batch_alter_table("eventoccurrence", schema=None) as batch_op:
        batch_op.create_index("ix_occurrence_event_end", ["event_id", "end"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eventoccurrence", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrence_event_end")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_member_end")
        batch_op.drop_index("ix_booking_space_end")
        batch_op.create_index("ix_booking_space_time", ["space_id", "start", "end"], unique=False)
