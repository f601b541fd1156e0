"""Periods that make sense (issue 13, item 4): with no period named, a summary shows 本月 once it
is a week old, before that the last complete month (or 全程 when that month was before the
campaign); 全程 starts at the campaign's start from the office's calendar (else at the first
record); every summary's period choices are 本周, 上周, 本月, 上月, 全程. Through /summary and
/report as a secretary and the office would use them, on a chosen day, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import handlers.core.router as router
from bot.runtime.app import App
from handlers.calendar.file import load_calendar
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.reports.periods import (
    CampaignSpan,
    campaign,
    default_period,
    offered_periods,
    parse_period,
)
from storage.db import session_factory
from storage.models import Member, Role, StudyRecord
from storage.repositories.members import MemberRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch

SH = ZoneInfo("Asia/Shanghai")


def test_the_default_is_a_period_at_least_a_week_old() -> None:
    for day, expected in ((date(2023, 11, 1), (date(2023, 10, 1), date(2023, 10, 31), "last_month")),
                          (date(2023, 11, 6), (date(2023, 10, 1), date(2023, 10, 31), "last_month")),
                          (date(2023, 11, 7), (date(2023, 11, 1), date(2023, 11, 7), "this_month")),
                          (date(2023, 11, 30), (date(2023, 11, 1), date(2023, 11, 30), "this_month"))):
        period = default_period(day, None)
        assert (period.start, period.end, period.kind) == expected, day
        assert parse_period([], day, None) == period
    # the campaign began this month: 上月 would be before it, so the campaign so far
    started = CampaignSpan(date(2023, 11, 1))
    period = default_period(date(2023, 11, 3), started)
    assert (period.start, period.end, period.kind) == (date(2023, 11, 1), date(2023, 11, 3), "campaign")
    # a campaign that began in October still defaults to October on 11月3日
    assert default_period(date(2023, 11, 3), CampaignSpan(date(2023, 9, 15))).kind == "last_month"


def test_the_campaign_and_the_offered_periods() -> None:
    today = date(2023, 11, 15)  # a Wednesday
    span = CampaignSpan(date(2023, 9, 15), date(2024, 1, 31))
    assert [(p.kind, p.start, p.end) for p in offered_periods(today, span)] == [
        ("this_week", date(2023, 11, 13), today), ("last_week", date(2023, 11, 6), date(2023, 11, 12)),
        ("this_month", date(2023, 11, 1), today), ("last_month", date(2023, 10, 1), date(2023, 10, 31)),
        ("campaign", date(2023, 9, 15), today)]
    assert [p.label(t) for p in offered_periods(today, span)] == ["本周", "上周", "本月", "上月",
                                                                   t("report.campaign")]
    over = campaign(span, date(2024, 3, 1))  # after its end: the whole campaign
    assert (over.start, over.end) == (date(2023, 9, 15), date(2024, 1, 31))
    early = campaign(span, date(2023, 9, 1))  # before its start: today only, never reversed
    assert (early.start, early.end) == (date(2023, 9, 1), date(2023, 9, 1))
    assert campaign(None, today).start == today


@pytest.fixture
def on_november_third(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core's clock at 2023-11-03 10:00 in Shanghai."""
    moment = datetime(2023, 11, 3, 10, 0, tzinfo=SH).astimezone(timezone.utc)
    monkeypatch.setattr(router, "utcnow", lambda: moment)


async def _secretary_and_office(app: App, branch: Branch) -> tuple[CoreChat, CoreChat]:
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        await members.bind(branch.secretary, platform="test", user_id="s", display_name=None)
        bureau = await session.get(type(branch.org), branch.org.parent_id)
        office = await members.add(bureau, "马主任", Role.office)
        await members.bind(office, platform="test", user_id="o", display_name=None)
        lina = await session.get(Member, branch.roster_only.id)
        for day, minutes in ((date(2023, 9, 1), 600), (date(2023, 10, 20), 90), (date(2023, 11, 2), 30)):
            session.add(StudyRecord(member_id=lina.id, org_id=branch.org.id, form="自学",
                                    study_date=day, minutes=minutes, content="党章"))
    return CoreChat(app.core, "s", "王书记"), CoreChat(app.core, "o", "马主任")


async def test_summaries_in_the_first_days_of_a_month(app: App, branch: Branch, tmp_path: Path,
                                                      on_november_third: None) -> None:
    sec, office = await _secretary_and_office(app, branch)
    await sec.say("/summary")
    assert sec.text.startswith("📊 机关第一党支部 · 上月（2023-10-01 至 2023-10-31）")
    assert "学习 1.5 小时" in sec.text and "未报送：王书记" in sec.text  # 李娜 studied in October
    await sec.say("/summary 本月")  # named: as asked, two days
    assert "本月（2023-11-01 至 2023-11-03）" in sec.text and "学习 0.5 小时" in sec.text
    await office.say("/summary all")
    assert "上月（2023-10-01 至 2023-10-31）" in office.text

    # 全程 without a campaign: from the first record; with the office's calendar: from its start
    await sec.say("/summary 全程")
    assert "（2023-09-01 至 2023-11-03）" in sec.text and "学习 12 小时" in sec.text
    calendar = tmp_path / "calendar.toml"
    calendar.write_text("[campaign]\nstart = 2023-09-15\nend = 2024-01-31\n", encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        await load_calendar(t, session, calendar)
    await sec.say("/summary 全程")
    assert "（2023-09-15 至 2023-11-03）" in sec.text and "学习 2 小时" in sec.text
    await sec.say("/report 台账")  # /report's default is the campaign so far
    assert t("report.generating", period=f"{t('report.campaign')}（2023-09-15 至 2023-11-03）") in sec.text

    # a campaign that began this month: no default month before it
    calendar.write_text("[campaign]\nstart = 2023-11-01\n", encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        await load_calendar(t, session, calendar)
    await sec.say("/summary")
    assert f"{t('report.campaign')}（2023-11-01 至 2023-11-03）" in sec.text
