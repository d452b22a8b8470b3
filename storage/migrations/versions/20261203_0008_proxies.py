"""migrant workers' participation intent; proxy-vote authorizations

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0008'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('requested', 'accepted', 'approved')"


def upgrade() -> None:
    op.create_table('participation_intent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'person_id', name='uq_participation_intent')
    )
    with op.batch_alter_table('participation_intent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_intent_election_id'), ['election_id'], unique=False)

    op.create_table('proxy_authorization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('principal_person_id', sa.Integer(), nullable=False),
    sa.Column('holder_person_id', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consent_source', sa.String(length=8), nullable=True),
    sa.Column('committee_reason', sa.Text(), nullable=True),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('requested_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_account_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('form_received_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('published_fingerprint', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ),
    sa.ForeignKeyConstraint(['holder_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['principal_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('verification_code')
    )
    with op.batch_alter_table('proxy_authorization', schema=None) as batch_op:
        batch_op.create_index('ix_proxy_holder', ['election_id', 'holder_person_id'], unique=False)
        # One active authorization per principal and election, whatever races past the service.
        batch_op.create_index('uq_proxy_active_principal', ['election_id', 'principal_person_id'], unique=True, sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade() -> None:
    with op.batch_alter_table('proxy_authorization', schema=None) as batch_op:
        batch_op.drop_index('uq_proxy_active_principal', sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
        batch_op.drop_index('ix_proxy_holder')
    op.drop_table('proxy_authorization')
    with op.batch_alter_table('participation_intent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_intent_election_id'))
    op.drop_table('participation_intent')
