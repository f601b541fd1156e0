"""meeting rules and the campaign (issue 13): a member's 党小组; a meeting's 党小组, study item
(学习内容 / 第一议题) and lecturer as a member; the campaign's own dates from the calendar file

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('reading_class_days', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party_group', sa.String(length=50), nullable=True))

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lecturer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('party_group', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('study_item', sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_meetings_lecturer_id_members'), 'members',
                                    ['lecturer_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meetings_lecturer_id_members'), type_='foreignkey')
        batch_op.drop_column('study_item')
        batch_op.drop_column('party_group')
        batch_op.drop_column('lecturer_id')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('party_group')

    op.drop_table('campaign')
