"""results of the formal vote (versions, positions, votes) and the hash-chained audit trail

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0010'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('village_id', 'seq', name='uq_audit_entry_village_seq')
    )
    op.create_table('result_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=False),
    sa.Column('present', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('entered_by_account_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_account_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('objections_until', sa.Date(), nullable=True),
    sa.Column('superseded_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['entered_by_account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'round', 'version', name='uq_result_entry_version')
    )
    with op.batch_alter_table('result_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_entry_election_id'), ['election_id'], unique=False)

    op.create_table('result_position',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.String(length=32), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['result_entry.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'position', name='uq_result_position')
    )
    op.create_table('result_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_position_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('write_in', sa.Boolean(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['result_position_id'], ['result_position.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('result_position_id', 'name', name='uq_result_vote_name')
    )
    with op.batch_alter_table('result_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_vote_result_position_id'), ['result_position_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('result_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_vote_result_position_id'))

    op.drop_table('result_vote')
    op.drop_table('result_position')
    with op.batch_alter_table('result_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_entry_election_id'))

    op.drop_table('result_entry')
    op.drop_table('audit_entry')
