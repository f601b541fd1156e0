"""Issue 11 item 5: field limits are the same on SQLite and PostgreSQL, and checked at input.

What PostgreSQL refused (a 129-character Telegram name, a 300-character file name, a 132-character
MIME type, U+0000) is made storable where it comes in; text with nothing visible is empty; every
typed step's limit is what its column holds (the table below, written once).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import String, Text, func, select

from bot.runtime.app import App
from handlers.core.events import FileRef, Incoming
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.inputs import cleaned
from handlers.core.parsing import InvalidInput, clean_text, parse_name
from handlers.dialogs.engine import MAX_FILES
from storage.db import session_factory
from storage.models import (
    Commitment,
    CommitmentReport,
    Identity,
    Meeting,
    MeetingAttendance,
    Member,
    OutboxMessage,
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.models import ProblemStatus as S
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.joining import approve
from tests.test_problem_lifecycle import add_problem, joined

# Where each typed step's answer is kept (a JSON payload counts as unlimited text).
COLUMNS: dict[tuple[str, str], Any] = {
    ("study", "content"): StudyRecord.content, ("study", "reflection"): StudyRecord.reflection,
    ("visit", "place"): Visit.place, ("visit", "whom"): Visit.whom, ("visit", "heard"): Visit.heard,
    ("visit", "topic"): Visit.topic,
    ("problem", "description"): Problem.description, ("problem", "owner"): Problem.owner_name,
    ("problem", "measures"): Problem.measures,
    ("problem_accept", "measures"): Problem.measures, ("problem_accept", "owner"): Problem.owner_name,
    ("problem_reason", "reason"): ProblemEvent.note, ("problem_extend", "reason"): ProblemEvent.note,
    ("problem_reopen", "reason"): ProblemEvent.note, ("problem_update", "note"): ProblemEvent.note,
    ("problem_ask_extension", "note"): ProblemEvent.note,
    ("problem_closure", "note"): ProblemEvent.note,
    ("commit", "content"): Commitment.content, ("commit_report", "report"): CommitmentReport.text,
    ("shuxue", "self_study"): ShuxueAnswer.self_study, ("shuxue", "research"): ShuxueAnswer.research,
    ("shuxue", "deeds"): ShuxueAnswer.deeds,
    ("meeting", "place"): Meeting.place, ("meeting", "topic"): Meeting.topic,
    ("meeting", "study_item"): Meeting.study_item,
    ("meeting", "host"): Meeting.host, ("meeting", "recorder"): Meeting.recorder,
    ("meeting", "lecturer"): Meeting.lecturer, ("meeting", "procedure"): Meeting.procedure,
    ("meeting", "record"): Meeting.record_text,
    ("meeting_dispute", "note"): OutboxMessage.payload,
    ("meeting_absence", "reason"): MeetingAttendance.absence_reason,
    ("join", "name"): Member.name,
}


def test_every_typed_text_fits_its_column(app: App) -> None:
    """A new text step must name its column here; its limit must be what the column holds."""
    stepped = {(d.name, s.key): s.max_len for d in app.core.registry.dialogs.values()
               for s in d.steps if s.max_len is not None}
    assert set(stepped) == set(COLUMNS)
    for where, limit in stepped.items():
        kind = COLUMNS[where].property.columns[0].type
        if isinstance(kind, String) and not isinstance(kind, Text) and kind.length is not None:
            assert limit <= kind.length, where


@pytest.mark.parametrize("text", ["\u200f", "\u202d\u202c", "\u3164\u3164", " \u200b\u2060\ufeff",
                                  "\u115f\u1160", "\u2800", "\u0301\u0301", "\u00a0\u3000",
                                  "\U000e0041"])
def test_text_with_nothing_visible_is_empty(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text(text, max_len=50, field="学习内容")
    assert refused.value.key == "input.empty"
    with pytest.raises(InvalidInput):
        parse_name(text, max_len=50, field="姓名")


def test_visible_text_keeps_its_inner_marks() -> None:
    assert clean_text("\u200f שלום \u200f", max_len=50, field="x") == "שלום"
    assert clean_text("家庭👨\u200d👩\u200d👧走访", max_len=50, field="x") == "家庭👨\u200d👩\u200d👧走访"
    assert clean_text("e\u0301", max_len=2, field="x") == "e\u0301"  # as both databases count
    for name in ("1", "12", "！", "✅"):
        with pytest.raises(InvalidInput) as refused:
            parse_name(name, max_len=50, field="姓名")
        assert refused.value.key == "input.name_letters"


def test_the_door_makes_an_event_storable() -> None:
    event = Incoming("telegram", "1", "名" * 129 + "\x00", "1", True, text="党\x00章\r\n学习\x07",
                     file=FileRef("f1", "../" + "很长的文件名" * 50 + ".pdf", "Application/" + "x" * 120))
    door = cleaned(event)
    assert door.text == "党章\n学习" and len(door.user_name) == 100 and "\x00" not in door.user_name
    assert door.file is not None and door.file.mime_type is None
    assert door.file.name is not None and len(door.file.name) <= 200
    assert door.file.name.endswith(".pdf") and "/" not in door.file.name
    plain = Incoming("telegram", "1", "李娜", "1", True, text="两小时")
    assert cleaned(plain) is plain  # nothing to change: nothing copied


async def _rows(app: App, model: type, *where: object) -> list:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def test_a_long_telegram_name_joins(app: App, branch: Branch) -> None:
    chat = CoreChat(app.core, "4242", "名" * 129)
    await chat.say(f"/start {branch.org.invite_code}")
    assert not any("我是" in label for label in chat.labels)  # too long to be offered as a name
    await chat.say("新同志")
    assert "已提交申请：以“新同志”加入" in chat.text
    assert "已同意" in await approve(app, "4242")
    (identity,) = await _rows(app, Identity, Identity.platform_user_id == "4242")
    assert identity.display_name == "名" * 100


async def test_nul_and_invisible_text_never_reach_a_record(app: App, branch: Branch) -> None:
    chat = await joined(app, "1001", "李娜", branch.org.invite_code)
    await chat.say("/study")
    await chat.press("自学")
    await chat.press("今天")
    await chat.say("1\x00.5")
    assert "学习了什么" in chat.text  # 1.5 hours read: the NUL is gone
    await chat.say("\u200f\u202d\u3164")
    assert chat.text.startswith(t("input.empty", field=t("study.content")))
    await chat.say("党章\x00第二章")
    await chat.say("\x00心得\x00")
    await chat.press("✅ 确认")
    (record,) = await _rows(app, StudyRecord)
    assert (record.minutes, record.content, record.reflection) == (90, "党章第二章", "心得")


async def test_long_file_names_and_mime_types_are_kept_within_their_columns(
        app: App, branch: Branch) -> None:
    """A 300-character name, a 132-character MIME type: 完成 and the report still save."""
    owner = await joined(app, "1001", "李娜", branch.org.invite_code)
    await add_problem(app, branch.roster_only, status=S.rectifying)
    await owner.say("/progress")
    await owner.press("1")
    await owner.press(t("problem.act_update"))
    await owner.say("已完成一半")
    await owner.press("跳过")
    base = dict(platform="test", user_id="1001", user_name="李娜", chat_id="1001", is_private=True)
    for n in range(MAX_FILES + 2):
        name = f"{n:02d}" + "长" * 300 + ".jpg"
        await owner.core.handle(Incoming(**base, file=FileRef(f"file{n}", name, "image/" + "x" * 126)))
    said = await owner.say("完成")
    assert "请核对" in owner.text and all(len(r.text) <= 4096 for r in owner.replies), said
    await owner.press("✅ 确认")
    assert owner.text.endswith(t("problem.done_update"))
    evidence = await _rows(app, ProblemEvidence)
    assert len(evidence) == MAX_FILES  # the two over the cap were refused with a message
    assert all(e.file_name is not None and len(e.file_name) <= 200 for e in evidence)
    assert all(e.file_name.endswith(".jpg") and e.mime_type is None for e in evidence)


async def test_a_long_meeting_record_makes_a_card_that_fits(app: App, branch: Branch) -> None:
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    await secretary.say("/meeting")
    await secretary.press(t("meeting.new"))
    await secretary.press("支部党员大会")
    await secretary.press("今天")
    await secretary.press("14:30-16:30")
    for typed in ("党员活动室", "学习贯彻", "王书记", "王书记", "王书记", "议" * 2000, "记" * 5000):
        await secretary.say(typed)
    assert "请核对" in secretary.text and len(secretary.text) < 4096
    assert t("dialog.card_more", length=5000) in secretary.text
    await secretary.press("✅ 确认")
    (meeting,) = await _rows(app, Meeting)
    assert meeting.procedure == "议" * 2000 and meeting.record_text == "记" * 5000
    async with session_factory(app.engine)() as session:
        assert await session.scalar(select(func.count()).select_from(MeetingAttendance)) > 0
