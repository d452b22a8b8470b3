"""candidate questions and answers (/ask)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('candidate_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('asker_person_id', sa.Integer(), nullable=False),
    sa.Column('asker_account_id', sa.Integer(), nullable=False),
    sa.Column('candidate_person_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('moderated_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('moderated_by_account_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_account_id', sa.Integer(), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('draft_key', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['asker_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['asker_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ),
    sa.ForeignKeyConstraint(['candidate_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['moderated_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['published_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_key')
    )
    with op.batch_alter_table('candidate_question', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_question_asker', ['asker_person_id', 'election_id', 'status'], unique=False)
        batch_op.create_index('ix_candidate_question_village_status', ['village_id', 'status'], unique=False)

    op.create_table('candidate_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('candidate_person_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['candidate_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['question_id'], ['candidate_question.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('question_id', 'candidate_person_id', name='uq_candidate_answer_once')
    )


def downgrade() -> None:
    op.drop_table('candidate_answer')
    with op.batch_alter_table('candidate_question', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_question_village_status')
        batch_op.drop_index('ix_candidate_question_asker')
    op.drop_table('candidate_question')
