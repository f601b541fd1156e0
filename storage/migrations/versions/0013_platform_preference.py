"""several platforms in one process (issue 16): members.preferred_platform and
members.last_platform (where a member known on several platforms gets pushes)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_platform', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_platform', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('last_platform')
        batch_op.drop_column('preferred_platform')
