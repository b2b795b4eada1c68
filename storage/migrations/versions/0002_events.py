"""events, occurrences, sign-ups and calendar tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('rule_count', sa.Integer(), nullable=True),
    sa.Column('rule_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('materialised_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_organiser_id'), ['organiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_space_id'), ['space_id'], unique=False)

    op.create_table('eventoccurrence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('original_start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'original_start', name='uq_occurrence_event_original')
    )
    with op.batch_alter_table('eventoccurrence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eventoccurrence_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_occurrence_time', ['start', 'end'], unique=False)

    op.create_table('eventsignup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('joined_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['occurrence_id'], ['eventoccurrence.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('occurrence_id', 'member_id', name='uq_signup_occurrence_member')
    )
    with op.batch_alter_table('eventsignup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eventsignup_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eventsignup_occurrence_id'), ['occurrence_id'], unique=False)

    op.create_table('calendartoken',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('calendartoken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendartoken_token'), ['token'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('calendartoken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendartoken_token'))
    op.drop_table('calendartoken')
    with op.batch_alter_table('eventsignup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eventsignup_occurrence_id'))
        batch_op.drop_index(batch_op.f('ix_eventsignup_member_id'))
    op.drop_table('eventsignup')
    with op.batch_alter_table('eventoccurrence', schema=None) as batch_op:
        batch_op.drop_index('ix_occurrence_time')
        batch_op.drop_index(batch_op.f('ix_eventoccurrence_event_id'))
    op.drop_table('eventoccurrence')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_space_id'))
        batch_op.drop_index(batch_op.f('ix_event_organiser_id'))
    op.drop_table('event')
