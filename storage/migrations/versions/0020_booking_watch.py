"""Booking watches: a member told once when a taken slot frees up

Revision ID: 0020
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookingwatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("end", storage.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("told_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "space_id", "start", "end", name="uq_bookingwatch_slot"),
    )
    with op.batch_alter_table("bookingwatch", schema=None) as batch_op:
        batch_op.create_index("ix_bookingwatch_space_start", ["space_id", "start"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookingwatch_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bookingwatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookingwatch_member_id"))
        batch_op.drop_index("ix_bookingwatch_space_start")
    op.drop_table("bookingwatch")
