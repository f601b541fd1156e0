"""Everything the scale-out benchmark knows of branchbot itself, in one place: the command line,
the sample branch, the texts it looks for, and the study records' table. The rest of the rig
only speaks HTTP, processes and SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.dialogs import prepare_database
from handlers.core.i18n import DEFAULT_TEXTS as t  # TODO(#14 integration): the reader's translator
from storage.vocabulary import STUDY_FORMS

ROOT = Path(__file__).resolve().parents[2]

#: the buttons and answers a member of the benchmark reads
CONFIRM_LABEL = t("dialog.confirm")
SAVED_TEXT = t("study.saved")
ERROR_TEXT = t("error.internal")
DAY_WORDS = (t("date.today"), t("date.yesterday"), t("date.day_before"))  # 0, 1, 2 days back
FORMS = STUDY_FORMS[:6]

#: (telegram user id, form, study_date, minutes, content, reflection) of every live study record
RECORDS_SQL = """
    SELECT i.platform_user_id, s.form, s.study_date, s.minutes, s.content, s.reflection
    FROM study_records s JOIN identities i ON i.member_id = s.member_id AND i.platform = 'telegram'
    WHERE s.deleted_at IS NULL ORDER BY s.id
"""


def branchbot() -> str:
    """The ``branchbot`` command of the virtualenv running the benchmark."""
    command = Path(sys.executable).with_name("branchbot")
    if not command.exists():
        sys.exit(f"{command} not found: run the benchmark with the project's .venv/bin/python")
    return str(command)


def upgrade_schema(env: dict[str, str]) -> None:
    """``branchbot db upgrade`` once, as a deployment does before starting its workers."""
    subprocess.run([branchbot(), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


async def add_members(url: str, users: list[int]) -> None:
    """One branch with these Telegram users as its members (the dialog benchmark's sample)."""
    await prepare_database(url, users)
