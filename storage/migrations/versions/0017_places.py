"""A network of places: place details, members' home places, group chats' places, place coordinators,
announcements for one place

An existing database (one site, or several from a spaces file) becomes a network of its sites: each gets its
(empty) details row; no member, chat or space changes, so members see exactly what they saw.

Revision ID: 0017
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0001"
branch_labels = None
depends_on = ("0003", "0004")  # the rota and announcements (a rota line, an announcement for one place)


def upgrade() -> None:
    op.create_table(
        "placeinfo",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "memberplace",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_index(op.f("ix_memberplace_site_id"), "memberplace", ["site_id"], unique=False)
    op.create_table(
        "chatplace",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("platform", "chat_id"),
    )
    op.create_index(op.f("ix_chatplace_site_id"), "chatplace", ["site_id"], unique=False)
    op.create_table(
        "placecoordinator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "site_id", name="uq_placecoordinator_member_site"),
    )
    op.create_index(op.f("ix_placecoordinator_member_id"), "placecoordinator", ["member_id"], unique=False)
    op.create_index(op.f("ix_placecoordinator_site_id"), "placecoordinator", ["site_id"], unique=False)
    op.create_table(
        "announcementplace",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("announcement_id"),
    )
    op.create_index(op.f("ix_announcementplace_site_id"), "announcementplace", ["site_id"], unique=False)
    op.create_table(
        "rota_slot_place",
        sa.Column("rota_slot_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["rota_slot_id"], ["rota_slot.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("rota_slot_id"),
    )
    op.create_index(op.f("ix_rota_slot_place_site_id"), "rota_slot_place", ["site_id"], unique=False)
    # The existing site(s): a network of one, each with its details row; nothing members see changes.
    op.execute("INSERT INTO placeinfo (site_id, address, opening_hours) SELECT id, '', '{}' FROM site")


def downgrade() -> None:
    op.drop_index(op.f("ix_rota_slot_place_site_id"), table_name="rota_slot_place")
    op.drop_table("rota_slot_place")
    op.drop_index(op.f("ix_announcementplace_site_id"), table_name="announcementplace")
    op.drop_table("announcementplace")
    op.drop_index(op.f("ix_placecoordinator_site_id"), table_name="placecoordinator")
    op.drop_index(op.f("ix_placecoordinator_member_id"), table_name="placecoordinator")
    op.drop_table("placecoordinator")
    op.drop_index(op.f("ix_chatplace_site_id"), table_name="chatplace")
    op.drop_table("chatplace")
    op.drop_index(op.f("ix_memberplace_site_id"), table_name="memberplace")
    op.drop_table("memberplace")
    op.drop_table("placeinfo")
