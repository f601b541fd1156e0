"""Storage on SQLite and PostgreSQL: migrations, time zones, and concurrent finishing of a dialog."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import func, inspect, select, text

from bot.runtime.app import App, SchemaOutOfDate, build_app, require_current_schema
from handlers.core.events import Incoming
from storage.db import create_engine, session_factory
from storage.migrate import current_revision, head_revision, is_up_to_date, upgrade
from storage.models import DialogState, HandledEvent, StudyRecord
from storage.repositories.dialogs import DialogRepository
from storage.sqlite_inline import inline_creator
from tests.conftest import Branch, make_settings
from tests.joining import join_approved

EXPECTED_TABLES = {
    "organizations", "members", "identities", "group_chats", "study_records", "visits", "problems",
    "problem_events", "commitments", "commitment_reports", "dialog_states", "audit_log",
    "handled_events", "alembic_version",
}


async def test_migrations_build_the_schema_from_nothing(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        assert await current_revision(engine) is None and not await is_up_to_date(engine)
        with pytest.raises(SchemaOutOfDate):
            await require_current_schema(engine)
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        await require_current_schema(engine)
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert EXPECTED_TABLES <= tables
        await upgrade(engine)  # a second upgrade is a no-op
    finally:
        await engine.dispose()


async def test_datetimes_come_back_aware_and_in_utc(app: App) -> None:
    shanghai_noon = datetime(2023, 11, 9, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    async with session_factory(app.engine)() as session, session.begin():
        await DialogRepository(session).put("test", "u1", dialog="study", step="form", data={"a": 1},
                                            expires_at=shanghai_noon)
    async with session_factory(app.engine)() as session:
        row = await session.scalar(select(DialogState))
    assert row is not None and row.expires_at == shanghai_noon
    assert row.expires_at.utcoffset() == timedelta(0) and row.data == {"a": 1}


async def test_sqlite_keeps_times_as_text_sqlalchemy_writes_and_reads_any_iso_text(
        db_url: str, app: App) -> None:
    """On SQLite a time is stored as SQLAlchemy's own text (naive UTC, six decimals), so rows of
    before and after compare and sort alike; text written otherwise (SQLite's CURRENT_TIMESTAMP,
    an ISO time with its offset) reads as the same instant in UTC; a naive time is refused."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the stored text is SQLite's")
    shanghai = timezone(timedelta(hours=8))
    async with session_factory(app.engine)() as session, session.begin():
        session.add(HandledEvent(platform="test", event_id="1",
                                 at=datetime(2023, 11, 9, 12, 0, 5, 7, tzinfo=shanghai)))
        session.add(HandledEvent(platform="test", event_id="2",
                                 at=datetime(2023, 11, 9, 4, 0, tzinfo=timezone.utc)))
    async with app.engine.connect() as connection:
        stored = (await connection.execute(
            text("SELECT at FROM handled_events ORDER BY event_id"))).scalars().all()
        assert stored == ["2023-11-09 04:00:05.000007", "2023-11-09 04:00:00.000000"]
        await connection.execute(text("INSERT INTO handled_events (platform, event_id, at) VALUES "
                                      "('test', '3', '2023-11-09 04:00:00'), "
                                      "('test', '4', '2023-11-09T12:00:00+08:00')"))
        await connection.commit()
    async with session_factory(app.engine)() as session:
        read = (await session.scalars(select(HandledEvent.at).order_by(HandledEvent.event_id))).all()
        assert read == [datetime(2023, 11, 9, 4, 0, 5, 7, tzinfo=timezone.utc)] + [
            datetime(2023, 11, 9, 4, 0, tzinfo=timezone.utc)] * 3
        assert all(at.utcoffset() == timedelta(0) for at in read)
        session.add(HandledEvent(platform="test", event_id="5", at=datetime(2023, 11, 9, 4, 0)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.flush()


async def test_two_workers_confirming_at_once_save_one_record(db_url: str, branch: Branch) -> None:
    """Two processes' worth of cores (separate engines) press the same 确认 at the same moment."""
    apps = [build_app(make_settings(db_url)) for _ in range(2)]
    try:
        chat = await join_approved(apps[0], branch.org.invite_code, "1001", "李娜")
        await chat.say("/study")
        await chat.press("自学")
        await chat.press("今天")
        await chat.press("1小时")
        await chat.press("《习近平著作选读》")
        await chat.press("跳过")
        confirm = chat.data_of("✅ 确认")
        events = [Incoming(platform="test", user_id="1001", user_name="李娜", chat_id="1001",
                           is_private=True, callback_data=confirm, message_id="9",
                           event_id=f"double-{i}") for i in range(2)]
        outcomes = await asyncio.gather(*(a.core.handle(e) for a, e in zip(apps, events, strict=True)))
        saved = [o for o in outcomes if any("已保存" in r.text for r in o.replies)]
        assert len(saved) == 1
        async with session_factory(apps[0].engine)() as session:
            assert await session.scalar(select(func.count()).select_from(StudyRecord)) == 1
            assert await session.scalar(select(func.count()).select_from(HandledEvent)) >= 2
    finally:
        for bot_app in apps:
            await bot_app.close()


async def test_the_inline_sqlite_connection_runs_on_the_pinned_aiosqlite(tmp_path: Path) -> None:
    """storage.sqlite_inline overrides private parts of aiosqlite.Connection: they must still be
    there, and a statement must run without aiosqlite's worker thread."""
    assert all(hasattr(aiosqlite.Connection, name) for name in ("_execute", "_connect", "stop"))
    before = threading.active_count()
    connection = await inline_creator(str(tmp_path / "inline.db"))()
    try:
        cursor = await connection.execute("SELECT 40 + 2")
        assert await cursor.fetchone() == (42,) and threading.active_count() == before
    finally:
        await connection.close()
