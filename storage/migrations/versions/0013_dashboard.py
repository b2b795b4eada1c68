"""Coordinators' dashboard: one-time login links and sessions (digests only)

Revision ID: 0013
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboardlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dashboardlink_token_hash"), "dashboardlink", ["token_hash"], unique=True)
    op.create_index(op.f("ix_dashboardlink_member_id"), "dashboardlink", ["member_id"], unique=False)
    op.create_table(
        "dashboardsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dashboardsession_session_hash"), "dashboardsession", ["session_hash"], unique=True)
    op.create_index(op.f("ix_dashboardsession_member_id"), "dashboardsession", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboardsession_member_id"), table_name="dashboardsession")
    op.drop_index(op.f("ix_dashboardsession_session_hash"), table_name="dashboardsession")
    op.drop_table("dashboardsession")
    op.drop_index(op.f("ix_dashboardlink_member_id"), table_name="dashboardlink")
    op.drop_index(op.f("ix_dashboardlink_token_hash"), table_name="dashboardlink")
    op.drop_table("dashboardlink")
