"""The console adapter driven by a script of lines, as a person at a terminal (or a pipe) would."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from bot.adapters.console import PLATFORM
from bot.adapters.console.chat import ConsoleChat
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import StudyRecord
from tests.conftest import Branch
from tests.joining import approve


async def run_script(app: App, lines: list[str], user_id: str = "c1", name: str = "李娜") -> str:
    out = io.StringIO()
    chat = ConsoleChat(app.core, user_id=user_id, user_name=name, out=out)
    feed = iter(line + "\n" for line in lines)
    await chat.run(read_line=lambda: next(feed, ""), echo=True)
    return out.getvalue()


async def test_console_join_and_study_by_numbers(app: App, branch: Branch) -> None:
    out = await run_script(app, [f"/start {branch.org.invite_code}", "A", "/study"])  # 我是 李娜
    assert "[A] 我是 李娜  [B] 取消" in out  # a step that takes typing: letters
    assert "已提交申请：以“李娜”加入“机关第一党支部”" in out
    assert out.rstrip().endswith(t("auth.not_member"))  # nothing to log before the approval
    await approve(app, "c1", platform=PLATFORM)
    out = await run_script(app, [
        "/study", "2", "a",  # 自学 (buttons only: numbers), 今天 (the letter in either case)
        "两个半小时", "党章第二章", "3",  # hours typed; content typed; "3" on a text step is text
        "1", "/quit", "/study",  # 确认; nothing after /quit is read
    ])
    assert "  ✓ 自学" in out and "  ✓ 今天" in out
    assert "学习时长：2.5小时" in out and "心得体会：3" in out
    assert out.rstrip().endswith("👤 /quit")
    assert "✅ 学习记录已保存" in out
    async with session_factory(app.engine)() as session:
        assert await session.scalar(select(func.count()).select_from(StudyRecord)) == 1


async def test_console_bad_input_and_cancel(app: App, branch: Branch) -> None:
    await run_script(app, [f"/join {branch.org.invite_code}", "A"])
    await approve(app, "c1", platform=PLATFORM)
    out = await run_script(app, ["/study", "99", "1", "D", "明天", "/cancel"])
    assert "请点击下方按钮选择" in out  # "99" is no button and no form
    assert "请输入日期" in out and "不能晚于今天" in out
    assert out.rstrip().endswith("已取消，本次填写的内容没有保存。")
