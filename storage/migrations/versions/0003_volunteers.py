"""volunteers: task entries, projects, shifts and sign-ups, the rota, the volunteers' group

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volunteer_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("volunteer_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_project_slug"), ["slug"], unique=True)

    op.create_table(
        "rota_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("weekdays", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "volunteer_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "chat_id", name="uq_volunteer_group_chat"),
    )
    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("start", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("rota_slot_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uncovered_alert_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["volunteer_project.id"]),
        sa.ForeignKeyConstraint(["rota_slot_id"], ["rota_slot.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rota_slot_id", "start", name="uq_shift_rota_slot_start"),
    )
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.create_index("ix_shift_start", ["start"], unique=False)

    op.create_table(
        "shift_signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_asked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shift_id", "member_id", name="uq_shift_signup_shift_member"),
    )
    with op.batch_alter_table("shift_signup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_signup_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shift_signup_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "task_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["volunteer_project.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shift_id", "member_id", name="uq_task_entry_shift_member"),
    )
    with op.batch_alter_table("task_entry", schema=None) as batch_op:
        batch_op.create_index("ix_task_entry_day", ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_entry_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_entry_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_entry_project_id"))
        batch_op.drop_index(batch_op.f("ix_task_entry_member_id"))
        batch_op.drop_index("ix_task_entry_day")
    op.drop_table("task_entry")
    with op.batch_alter_table("shift_signup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_signup_shift_id"))
        batch_op.drop_index(batch_op.f("ix_shift_signup_member_id"))
    op.drop_table("shift_signup")
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_start")
    op.drop_table("shift")
    op.drop_table("volunteer_group")
    op.drop_table("rota_slot")
    with op.batch_alter_table("volunteer_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_project_slug"))
    op.drop_table("volunteer_project")
