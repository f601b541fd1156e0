"""Selectors (handlers/core/selectors.py): how they are assigned and read, and that the choices
of the message in progress are the database's, not a process's (a report's pages, a dialog
typed on a second core)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.runtime.app import App, build_app
from handlers.core import selectors
from handlers.core.events import Button
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import DialogState, StudyRecord
from storage.repositories.members import MemberRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch, make_settings
from tests.joining import bound_chat
from tests.test_dialogs import joined


def test_letters_run_like_spreadsheet_columns() -> None:
    names = [name for name, _ in zip(selectors.letters(), range(30), strict=False)]
    assert names[:3] == ["A", "B", "C"] and names[25:28] == ["Z", "AA", "AB"]


def test_explicit_selectors_are_kept_and_the_rest_fill_in() -> None:
    assert selectors.assign(["1", "2", None, None], lettered=False) == ["1", "2", "3", "4"]
    assert selectors.assign([None, "1", None], lettered=False) == ["2", "1", "3"]
    assert selectors.assign([None, None], lettered=True) == ["A", "B"]


OFFERS = [{"s": "A", "l": "✅ 确认"}, {"s": "B", "l": "《习近平著作选读》"}, {"s": "C", "l": "25%"},
          {"s": "D", "l": "取消"}]


def test_a_typed_line_matches_a_selector_or_a_label() -> None:
    by = {typed: (selectors.match(OFFERS, typed) or {}).get("s") for typed in (
        "a", "Ａ", " b ", "确认", "确 认！", "习近平著作选读", "25", "取消", "２５％")}
    assert by == {"a": "A", "Ａ": "A", " b ": "B", "确认": "A", "确 认！": "A",
                  "习近平著作选读": "B", "25": "C", "取消": "D", "２５％": "C"}
    for typed in ("E", "1", "✅", "", "²", "确认一下", "²5"):
        assert selectors.match(OFFERS, typed) is None, typed


@given(st.text(max_size=50))
def test_matching_any_text_never_fails(typed: str) -> None:
    found = selectors.match(OFFERS, typed)
    assert found is None or found in OFFERS
    number = selectors.push_number(typed)
    assert number is None or 1 <= number <= 999


def test_push_selectors_and_hints() -> None:
    assert [selectors.push_number(x) for x in ("#1", "＃12", " #3 ", "#0", "#", "1", "#²")] == [
        1, 12, 3, None, None, None, None]
    pushed = ((Button("再提醒", data="n:1:2024-01-01", selector="#1"),),)
    assert selectors.hint(pushed) == "select.push"
    assert selectors.hint(((Button("今天", selector="A"),),)) == "select.letters"
    assert selectors.hint(((Button("自学", selector="2"),),)) == "select.numbers"
    assert selectors.line(Button("3", selector="3")) == "[3]"
    assert selectors.line(Button("自学", selector="2")) == "[2] 自学"


async def test_a_reports_pages_are_typed_like_any_buttons(app: App, branch: Branch) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        for n in range(12):  # more than a page of members
            await members.add(branch.org, f"党员{n:02d}")
    secretary = await bound_chat(app, branch.secretary, "7")
    await secretary.say("/summary")
    (page_one,) = [r for r in secretary.replies if r.buttons]
    assert [b.selector for row in page_one.buttons for b in row] == ["1"]  # 下一页 ▶
    await secretary.say("1")
    (page_two,) = [r for r in secretary.replies if r.buttons]
    assert [b.label for row in page_two.buttons for b in row] == [t("report.prev_page")]
    assert page_two.text != page_one.text
    await secretary.say("上一页")  # its label typed
    assert secretary.replies[-1].text == page_one.text
    await secretary.say("随便说点什么")  # no dialog in progress: the usual hint, nothing stuck
    assert secretary.text == t("help.hint")
    await secretary.say("/cancel")  # nothing was being filled in
    assert secretary.text == t("dialog.nothing_to_cancel")


async def test_a_second_core_reads_the_typed_choices_of_the_first(app: App, branch: Branch,
                                                                  db_url: str) -> None:
    first = await joined(app, branch)
    await first.say("/study")
    await first.say("2")  # 自学, on the first core
    other = build_app(make_settings(db_url, platform="console"))
    try:
        second = CoreChat(other.core, "1001", "李娜")
        await second.say("B")  # 昨天, on the second: the letters are in the database
        assert "学习了多长时间" in second.text
        async with session_factory(other.engine)() as session:
            (state,) = await session.scalars(select(DialogState))
        assert [o["s"] for o in state.offered][:2] == ["A", "B"] and state.step == "minutes"
        await second.say("3")
        await second.say("A")  # the branch's first book
        await second.say("跳过")
        await second.say("1")
    finally:
        await other.close()
    async with session_factory(app.engine)() as session:
        (record,) = await session.scalars(select(StudyRecord))
    assert (record.form, record.minutes, record.content) == ("自学", 180, "《习近平著作选读》")
