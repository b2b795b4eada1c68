"""Attendance: presences, walk-ins and door codes, visitors, categories, booking check-in, volunteer roles,
attestation links

Revision ID: 0014
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0014"
down_revision = "0001"
branch_labels = None
depends_on = "0002"  # presences and tallies point at event dates


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("signed_up", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["occurrence_id"], ["eventoccurrence.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("occurrence_id", "member_id", name="uq_presence_occurrence_member"),
    )
    op.create_index(op.f("ix_presence_occurrence_id"), "presence", ["occurrence_id"], unique=False)
    op.create_index(op.f("ix_presence_member_id"), "presence", ["member_id"], unique=False)
    op.create_table(
        "eventtally",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("walk_ins", sa.Integer(), nullable=False),
        sa.Column("door_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("list_sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts_asked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts_confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["occurrence_id"], ["eventoccurrence.id"]),
        sa.PrimaryKeyConstraint("occurrence_id"),
    )
    op.create_index(op.f("ix_eventtally_door_code"), "eventtally", ["door_code"], unique=True)
    op.create_table(
        "visitcount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_visitcount_day"), "visitcount", ["day"], unique=False)
    op.create_index(op.f("ix_visitcount_member_id"), "visitcount", ["member_id"], unique=False)
    op.create_table(
        "attendancecategory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name", name="uq_attendancecategory_kind_name"),
    )
    op.create_table(
        "eventcategory",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "spacecheckinrule",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"]),
        sa.PrimaryKeyConstraint("space_id"),
    )
    op.create_table(
        "bookingcheckin",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"]),
        sa.PrimaryKeyConstraint("booking_id"),
    )
    op.create_table(
        "volunteerrole",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "attestationlink",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_attestationlink_member_id"), "attestationlink", ["member_id"], unique=False)
    op.create_table(
        "attestationsignoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=False),
        sa.Column("signed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["signed_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "year", name="uq_attestationsignoff_member_year"),
    )
    op.create_index(op.f("ix_attestationsignoff_member_id"), "attestationsignoff", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attestationsignoff_member_id"), table_name="attestationsignoff")
    op.drop_table("attestationsignoff")
    op.drop_index(op.f("ix_attestationlink_member_id"), table_name="attestationlink")
    op.drop_table("attestationlink")
    op.drop_table("volunteerrole")
    op.drop_table("bookingcheckin")
    op.drop_table("spacecheckinrule")
    op.drop_table("eventcategory")
    op.drop_table("attendancecategory")
    op.drop_index(op.f("ix_visitcount_member_id"), table_name="visitcount")
    op.drop_index(op.f("ix_visitcount_day"), table_name="visitcount")
    op.drop_table("visitcount")
    op.drop_index(op.f("ix_eventtally_door_code"), table_name="eventtally")
    op.drop_table("eventtally")
    op.drop_index(op.f("ix_presence_member_id"), table_name="presence")
    op.drop_index(op.f("ix_presence_occurrence_id"), table_name="presence")
    op.drop_table("presence")
