"""several workers on one database (issue 15): handled_events becomes the inbox — an update a
webhook acknowledged is stored with its payload and its member before the 200 and marked handled
in the transaction of its effects (handled_at NULL: still to handle, by whichever worker)

Revision ID: 0011
Revises: 0010 (given as 0009; re-chained after main gained 0010, so the branch has one head)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handled_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('handled_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
    op.execute("UPDATE handled_events SET handled_at = at")
    with op.batch_alter_table('handled_events', schema=None) as batch_op:
        batch_op.create_index('ix_handled_events_pending', ['platform', 'user_id', 'id'],
                              unique=False,
                              postgresql_where=sa.text('handled_at IS NULL'),
                              sqlite_where=sa.text('handled_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('handled_events', schema=None) as batch_op:
        batch_op.drop_index('ix_handled_events_pending')
        batch_op.drop_column('handled_at')
        batch_op.drop_column('payload')
        batch_op.drop_column('user_id')
