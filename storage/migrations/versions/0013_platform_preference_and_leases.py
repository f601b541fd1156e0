"""several platforms in one process (issue 16): members.preferred_platform and
members.last_platform (where a member known on several platforms gets pushes); leases (one
process holds the WeCom AI bot's single live connection, the others stand by)

Revision ID: 0013
Revises: 0010 (0009 on the branch before main's 0010 was merged in)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0013'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_platform', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_platform', sa.String(length=16), nullable=True))
    op.create_table(
        'leases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('leases')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('last_platform')
        batch_op.drop_column('preferred_platform')
