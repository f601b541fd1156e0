"""files of earlier records (issue 18): an attachment (a download into the file store, pending)
for every evidence file and meeting record photo recorded before the bot kept files, so each is
fetched while the platform still has it (Telegram ids keep working for the same bot; a WeCom
media id older than 3 days is marked failed at the first try, and the record says so)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_EVIDENCE = """
INSERT INTO attachments (owner_kind, owner_id, member_id, platform, platform_file_id,
                         original_name, received_at, status, attempts, next_attempt_at)
SELECT 'problem_evidence', e.id, e.uploaded_by_id, e.platform, e.file_id, e.file_name, e.at,
       'pending', 0, e.at
FROM problem_evidence e
WHERE NOT EXISTS (SELECT 1 FROM attachments a
                  WHERE a.owner_kind = 'problem_evidence' AND a.owner_id = e.id)
"""

# A meeting kept only its first file's id, and not the platform: its recorder's first one.
_MEETINGS = """
INSERT INTO attachments (owner_kind, owner_id, member_id, platform, platform_file_id,
                         original_name, received_at, status, attempts, next_attempt_at)
SELECT 'meeting_record', m.id, m.created_by_id,
       COALESCE((SELECT i.platform FROM identities i WHERE i.member_id = m.created_by_id
                 ORDER BY i.id LIMIT 1), 'console'),
       m.record_file_id, NULL, m.created_at, 'pending', 0, m.created_at
FROM meetings m
WHERE m.record_file_id IS NOT NULL AND m.record_file_id <> ''
  AND NOT EXISTS (SELECT 1 FROM attachments a
                  WHERE a.owner_kind = 'meeting_record' AND a.owner_id = m.id)
"""


def upgrade() -> None:
    op.execute(_EVIDENCE)
    op.execute(_MEETINGS)


def downgrade() -> None:
    # Only what this revision added and never downloaded (a kept file is not forgotten).
    op.execute("DELETE FROM attachments WHERE status <> 'stored' AND attempts = 0")
