"""/book reads a space's bookings from the index alone: ix_booking_space_end also holds each booking's status and
member, so the overlap count and the member's bookings of the space (storage.bookings._SLOT_AND_MEMBER), and
the free spaces suggested after a refusal, no longer read the table row of every booking still to come there

Revision ID: 0025
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0001"
branch_labels = None
depends_on = "0019"  # the index 0019 made, made again with two more columns


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_space_end")
        batch_op.create_index("ix_booking_space_end", ["space_id", "end", "start", "status", "member_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_space_end")
        batch_op.create_index("ix_booking_space_end", ["space_id", "end", "start"], unique=False)
