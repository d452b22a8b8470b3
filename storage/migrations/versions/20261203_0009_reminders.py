"""reminder waves, mutes, village quiet hours, scheduled notices

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0009'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scheduled_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('send_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_notice_village_id'), ['village_id'], unique=False)

    op.create_table('village_reminder_settings',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=False),
    sa.Column('quiet_end', sa.Time(), nullable=False),
    sa.Column('polling_place', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('village_id')
    )
    op.create_table('reminder_mute',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('muted_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('reminder_wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_notice_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.String(length=48), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('essential', sa.Boolean(), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=48), nullable=True),
    sa.Column('fired_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('cancelled_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ),
    sa.ForeignKeyConstraint(['cancelled_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.ForeignKeyConstraint(['scheduled_notice_id'], ['scheduled_notice.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('reminder_wave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_wave_election_id'), ['election_id'], unique=False)
        batch_op.create_index('ix_reminder_wave_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_wave_subject'), ['subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_wave_village_id'), ['village_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('reminder_wave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_wave_village_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_wave_subject'))
        batch_op.drop_index('ix_reminder_wave_status_due_at')
        batch_op.drop_index(batch_op.f('ix_reminder_wave_election_id'))

    op.drop_table('reminder_wave')
    op.drop_table('reminder_mute')
    op.drop_table('village_reminder_settings')
    with op.batch_alter_table('scheduled_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_notice_village_id'))

    op.drop_table('scheduled_notice')
