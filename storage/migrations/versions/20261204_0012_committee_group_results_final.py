"""the committee's Telegram group on the village; "results are now final" waves

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('village', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committee_group_chat_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('reminder_wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_reminder_wave_result_entry_id', 'result_entry', ['result_entry_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('reminder_wave', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reminder_wave_result_entry_id', type_='foreignkey')
        batch_op.drop_column('result_entry_id')
    with op.batch_alter_table('village', schema=None) as batch_op:
        batch_op.drop_column('committee_group_chat_id')
