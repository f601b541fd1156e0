"""What was saved against what each dialog meant.

- saved: dialogs with a record holding exactly their values;
- duplicates: further records with those same values (one dialog saved twice);
- wrong: records that match no dialog's values (an answer taken for another step, another
  dialog's answer, a value lost on the way): each stands for a dialog that went wrong;
- lost: the dialogs left, neither saved nor accounted for by a wrong record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import asyncpg

from bench.scaleout_rig.project import ERROR_TEXT, RECORDS_SQL
from bench.scaleout_rig.workload import Intent
from tests.botapi import FakeBotApi

Values = tuple[int, str, date, int, str, str | None]  # user, form, day, minutes, content, reflection


@dataclass(frozen=True)
class Tally:
    dialogs: int
    saved: int
    wrong: int
    lost: int
    duplicates: int
    error_replies: int


def intended(intent: Intent, today: date) -> Values:
    return (intent.user, intent.form, intent.study_date(today), intent.minutes, intent.content,
            intent.reflection)


async def saved_records(plain_url: str) -> list[Values]:
    connection = await asyncpg.connect(plain_url)
    try:
        rows = await connection.fetch(RECORDS_SQL)
    finally:
        await connection.close()
    return [(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def error_replies(api: FakeBotApi) -> int:
    """Messages and button notices that told a member something went wrong."""
    return sum(1 for c in api.calls
               if ERROR_TEXT in (c.text or "") or ERROR_TEXT in str(c.params.get("text") or ""))


def wrong_records(intents: list[Intent], records: list[Values], today: date) -> list[Values]:
    meant = {intended(i, today) for i in intents}
    return [values for values in records if values not in meant]


def tally(intents: list[Intent], records: list[Values], today: date, errors: int) -> Tally:
    meant = Counter(intended(i, today) for i in intents)
    found = Counter(records)
    saved = sum(1 for values in meant if found[values] > 0)
    duplicates = sum(found[values] - 1 for values in meant if found[values] > 1)
    wrong = sum(n for values, n in found.items() if values not in meant)
    lost = max(0, len(intents) - saved - wrong)
    return Tally(len(intents), saved, wrong, lost, duplicates, errors)
