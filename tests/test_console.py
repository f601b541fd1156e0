"""The console adapter driven by a script of lines, as a person at a terminal (or a pipe) would."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from bot.adapters.console.chat import ConsoleChat
from bot.runtime.app import App
from storage.db import session_factory
from storage.models import StudyRecord
from tests.conftest import Branch


async def run_script(app: App, lines: list[str], user_id: str = "c1", name: str = "李娜") -> str:
    out = io.StringIO()
    chat = ConsoleChat(app.core, user_id=user_id, user_name=name, out=out)
    feed = iter(line + "\n" for line in lines)
    await chat.run(read_line=lambda: next(feed, ""), echo=True)
    return out.getvalue()


async def test_console_join_and_study_by_numbers(app: App, branch: Branch) -> None:
    out = await run_script(app, [
        f"/start {branch.org.invite_code}", "1",  # 我是 李娜
        "/study", "2", "1",  # 自学, 今天
        "两个半小时", "党章第二章", "3",  # hours typed; content typed; "3" is not a button here: text
        "1", "/quit", "/study",  # 确认; nothing after /quit is read
    ])
    assert "[1] 我是 李娜  [2] 取消" in out
    assert "  ✓ 自学" in out and "  ✓ 今天" in out
    assert "学习时长：2.5小时" in out and "心得体会：3" in out
    assert out.rstrip().endswith("👤 /quit")
    assert "✅ 学习记录已保存" in out
    async with session_factory(app.engine)() as session:
        assert await session.scalar(select(func.count()).select_from(StudyRecord)) == 1


async def test_console_bad_input_and_cancel(app: App, branch: Branch) -> None:
    out = await run_script(app, [
        f"/join {branch.org.invite_code}", "1", "/study", "99", "1", "4", "明天", "/cancel",
    ])
    assert "请点击下方按钮选择" in out  # "99" is no button and no form
    assert "请输入日期" in out and "不能晚于今天" in out
    assert out.rstrip().endswith("已取消，本次填写的内容没有保存。")
