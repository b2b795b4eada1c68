"""link confirmations, account handles

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pendinglink",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner_member_id", sa.Integer(), nullable=False),
        sa.Column("entrant_member_id", sa.Integer(), nullable=False),
        sa.Column("entrant_platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entrant_user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("owner_confirmed", sa.Boolean(), nullable=False),
        sa.Column("entrant_confirmed", sa.Boolean(), nullable=False),
        sa.Column("entrant_must_confirm", sa.Boolean(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["entrant_member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_table(
        "accounthandle",
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("identity_id"),
    )
    op.create_index("ix_accounthandle_handle", "accounthandle", ["handle"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_accounthandle_handle", table_name="accounthandle")
    op.drop_table("accounthandle")
    op.drop_table("pendinglink")
