"""Decisions: polls, date polls, proposals, their choices, votes, where they were posted; member roles

Revision ID: 0015
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0015"
down_revision = "0001"
branch_labels = None
depends_on = "0002"  # a date poll becomes an event


def upgrade() -> None:
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("quorum_percent", sa.Integer(), nullable=True),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("eligible", sa.Integer(), nullable=True),
        sa.Column("voters", sa.Integer(), nullable=True),
        sa.Column("reminded_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_decision_author_id"), "decision", ["author_id"], unique=False)
    op.create_index(op.f("ix_decision_status"), "decision", ["status"], unique=False)
    op.create_table(
        "decisionoption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_decisionoption_decision_id"), "decisionoption", ["decision_id"], unique=False)
    op.create_table(
        "decisionvote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.ForeignKeyConstraint(["option_id"], ["decisionoption.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("option_id", "member_id", name="uq_decisionvote_option_member"),
    )
    op.create_index(op.f("ix_decisionvote_decision_id"), "decisionvote", ["decision_id"], unique=False)
    op.create_index(op.f("ix_decisionvote_member_id"), "decisionvote", ["member_id"], unique=False)
    op.create_table(
        "decisionpost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id", "platform", "chat_id", name="uq_decisionpost_chat"),
    )
    op.create_index(op.f("ix_decisionpost_decision_id"), "decisionpost", ["decision_id"], unique=False)
    op.create_table(
        "memberrole",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "role", name="uq_memberrole_member_role"),
    )
    op.create_index(op.f("ix_memberrole_member_id"), "memberrole", ["member_id"], unique=False)
    op.create_index(op.f("ix_memberrole_role"), "memberrole", ["role"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_memberrole_role"), table_name="memberrole")
    op.drop_index(op.f("ix_memberrole_member_id"), table_name="memberrole")
    op.drop_table("memberrole")
    op.drop_index(op.f("ix_decisionpost_decision_id"), table_name="decisionpost")
    op.drop_table("decisionpost")
    op.drop_index(op.f("ix_decisionvote_member_id"), table_name="decisionvote")
    op.drop_index(op.f("ix_decisionvote_decision_id"), table_name="decisionvote")
    op.drop_table("decisionvote")
    op.drop_index(op.f("ix_decisionoption_decision_id"), table_name="decisionoption")
    op.drop_table("decisionoption")
    op.drop_index(op.f("ix_decision_status"), table_name="decision")
    op.drop_index(op.f("ix_decision_author_id"), table_name="decision")
    op.drop_table("decision")
