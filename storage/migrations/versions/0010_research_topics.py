"""research topics and sessions by form (issue 13): a branch's 调研课题 with its owner, the visit
that is a trip for one (``visits.topic_id``); the daily tallies count the papers' sessions by
form (三会一课/主题党日, 中心组学习, 联组学习, the 读书班's longest record), so they are emptied here and
counted again from the records by storage.migrate.upgrade right after; a problem's 整改措施条数
(``problems.measure_items``), counted here for the problems there are

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage.measures import measure_count

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM daily_topics")  # derived data: recounted after the upgrade
    op.execute("DELETE FROM daily_tallies")
    with op.batch_alter_table('daily_tallies', schema=None) as batch_op:
        for column in ('org_life_sessions', 'centre_sessions', 'joint_sessions', 'reading_longest'):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False))
    op.create_table('research_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_name', sa.String(length=50), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_research_topics_org_id_organizations')),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_research_topics_owner_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_topics')),
    sa.UniqueConstraint('org_id', 'title', name=op.f('uq_research_topics_org_id'))
    )
    with op.batch_alter_table('research_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_research_topics_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('measure_items', sa.Integer(), nullable=True))
    problems = sa.table('problems', sa.column('id', sa.Integer()), sa.column('measures', sa.Text()),
                        sa.column('measure_items', sa.Integer()))
    connection = op.get_bind()
    for problem_id, measures in connection.execute(sa.select(problems.c.id, problems.c.measures)).all():
        connection.execute(problems.update().where(problems.c.id == problem_id)
                           .values(measure_items=measure_count(measures)))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_visits_topic_id'), ['topic_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_visits_topic_id_research_topics'), 'research_topics',
                                    ['topic_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visits_topic_id_research_topics'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_visits_topic_id'))
        batch_op.drop_column('topic_id')

    with op.batch_alter_table('research_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_topics_org_id'))

    op.drop_table('research_topics')
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_column('measure_items')
    with op.batch_alter_table('daily_tallies', schema=None) as batch_op:
        for column in ('reading_longest', 'joint_sessions', 'centre_sessions', 'org_life_sessions'):
            batch_op.drop_column(column)
