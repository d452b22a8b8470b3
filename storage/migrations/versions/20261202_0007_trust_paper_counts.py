"""paper trust votes; both candidate lists of a two-ballot election

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trust_paper_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=False),
    sa.Column('candidate_person_id', sa.Integer(), nullable=False),
    sa.Column('trust', sa.Integer(), nullable=False),
    sa.Column('no_trust', sa.Integer(), nullable=False),
    sa.Column('abstain', sa.Integer(), nullable=False),
    sa.Column('ballots', sa.Integer(), nullable=False),
    sa.Column('entered_by_account_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['entered_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['villager_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'group_id', 'meeting_date', 'candidate_person_id', name='uq_trust_paper_count_line')
    )
    with op.batch_alter_table('trust_paper_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_paper_count_election_id'), ['election_id'], unique=False)
    # The preliminary list stays beside the formal one: the stage joins the key.
    with op.batch_alter_table('election_candidate', schema=None) as batch_op:
        batch_op.drop_constraint('uq_election_candidate', type_='unique')
        batch_op.create_unique_constraint('uq_election_candidate', ['election_id', 'stage', 'position', 'person_id'])


def downgrade() -> None:
    with op.batch_alter_table('election_candidate', schema=None) as batch_op:
        batch_op.drop_constraint('uq_election_candidate', type_='unique')
        batch_op.create_unique_constraint('uq_election_candidate', ['election_id', 'position', 'person_id'])
    with op.batch_alter_table('trust_paper_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_paper_count_election_id'))
    op.drop_table('trust_paper_count')
