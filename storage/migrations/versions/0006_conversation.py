"""conversation state: a plain-words request in progress and the choices last offered, per member and chat

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversationstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("request_expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("choices", sa.Text(), nullable=True),
        sa.Column("choices_expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "chat_id", "member_id", name="uq_conversation_chat_member"),
    )
    op.create_index("ix_conversationstate_member_id", "conversationstate", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_conversationstate_member_id", table_name="conversationstate")
    op.drop_table("conversationstate")
