"""typed choices in the database (issue 11): dialog_states.offered, the buttons of the message in
progress as typing selects them; an index to find the newest push sent to a chat (#1, #2 …)

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dialog_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered', sa.JSON(), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_chat_sent', ['platform', 'chat_id', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat_sent')
    with op.batch_alter_table('dialog_states', schema=None) as batch_op:
        batch_op.drop_column('offered')
