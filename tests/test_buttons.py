"""Button data: every kind packs within Telegram's 64 bytes and reads back as itself; anything
else, malformed or out of range, reads as nothing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.app import App
from handlers.core.buttons import (
    CALLBACK_BYTES,
    MAX_ID,
    MAX_PAGE,
    DialogChoice,
    JoinDecision,
    RemindAgain,
    ReportPage,
    unpack,
)
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.parsing import MAX_YEAR, MIN_YEAR
from tests.conftest import Branch
from tests.test_shuxue import secretary_chat

TOKENS = st.text("0123456789abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=16)
IDS = st.integers(1, MAX_ID)
DAYS = st.dates(date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31))  # the years any date taken is in


@given(TOKENS, TOKENS)
def test_a_dialog_choice_reads_back(nonce: str, choice: str) -> None:
    pressed = DialogChoice(nonce, choice)
    assert len(pressed.pack().encode()) <= CALLBACK_BYTES and unpack(pressed.pack()) == pressed


@given(st.none() | IDS, st.sampled_from(["this_week", "range", "campaign"]), DAYS, DAYS,
       st.integers(1, MAX_PAGE))
def test_a_report_page_reads_back(org_id: int | None, kind: str, one: date, other: date,
                                  page: int) -> None:
    start, end = min(one, other), max(one, other)
    pressed = ReportPage(org_id, kind, start, end, page)
    assert len(pressed.pack().encode()) <= CALLBACK_BYTES and unpack(pressed.pack()) == pressed


@given(IDS, st.booleans())
def test_a_join_decision_reads_back(request_id: int, approve: bool) -> None:
    pressed = JoinDecision(request_id, approve)
    assert len(pressed.pack().encode()) <= CALLBACK_BYTES and unpack(pressed.pack()) == pressed


@given(IDS, DAYS)
def test_remind_again_reads_back(org_id: int, period: date) -> None:
    assert unpack(RemindAgain(org_id, period).pack()) == RemindAgain(org_id, period)


def test_the_formats_of_buttons_already_sent_still_read() -> None:
    assert unpack("d:a1b2c3:ok") == DialogChoice("a1b2c3", "ok")
    assert unpack("r:b:7:range:20231001:20231031:2") == ReportPage(7, "range", date(2023, 10, 1),
                                                                   date(2023, 10, 31), 2)
    assert unpack("r:a:this_month:20231101:20231115:1") == ReportPage(
        None, "this_month", date(2023, 11, 1), date(2023, 11, 15), 1)
    assert unpack("n:3:2023-11-13") == RemindAgain(3, date(2023, 11, 13))
    assert unpack("j:12:y") == JoinDecision(12, True) and unpack("j:12:n") == JoinDecision(12, False)


@pytest.mark.parametrize("data", [
    "", "garbage", "d:", "d:abc", "d:abc:", "d:ABC:0", "d:abc:0:1", "d:abc:选项",
    "r:b:nonsense", "r:b:0:range:20231001:20231031:1", "r:b:-1:range:20231001:20231031:1",
    "r:b:99999999999:range:20231001:20231031:1", "r:b:7:range:20231031:20231001:1",  # reversed
    "r:b:7:range:20230230:20230301:1", "r:a:range:00000101:20231031:1",  # no such day
    "r:a:range:20231001:20231031:0", "r:a:range:20231001:20231031:10000", "r:a:Range:20231001:20231031:1",
    "r:a:range:2023-10-01:2023-10-31:1", "r:x:range:20231001:20231031:1",
    "n:garbage", "n:3:20231113", "n:3:2023-02-30", "n:²:2023-11-13", "n:3:2023-11-13:x",
    "x:1:2", "d:" + "a" * 80,
    "r:a:range:00010101:00010102:1", "r:b:7:campaign:00010101:99991231:1",  # outside the years
    "r:a:range:19991231:20000101:1", "n:3:0001-01-01", "n:3:9999-12-31", "n:3:2101-01-04",
    "j:", "j:1", "j:1:x", "j:0:y", "j:-1:y", "j:99999999999:y", "j:1:y:2", "j:1:Y",
])
def test_malformed_or_forged_data_reads_as_nothing(data: str) -> None:
    assert unpack(data) is None


@given(st.text(max_size=80))
def test_no_string_breaks_the_reader(data: str) -> None:
    pressed = unpack(data)
    assert pressed is None or pressed.pack() == data


def test_data_over_the_limit_is_never_made() -> None:
    with pytest.raises(ValueError):
        DialogChoice("a" * 16, "b" * 60).pack()


async def test_a_forged_page_of_a_period_no_button_names_is_stale(app: App, branch: Branch) -> None:
    secretary = await secretary_chat(app, branch)
    await secretary.press_data(f"r:b:{branch.org.id}:range:19000101:20991231:1")  # 200 years
    assert secretary.replies == [] and secretary.notice == t("button.stale")
    await secretary.press_data(f"r:b:{branch.org.id}:range:20231001:20231031:1")
    assert secretary.notice is None and secretary.replies[0].edit
