"""/summary and /report over the loopback Telegram Bot API: paging edits in place, and the report's
"正在生成…" message edited as it goes, then the file sent as a document."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from telegram.ext import Application

from tests.botapi import FakeBotApi
from tests.conftest import Branch
from tests.telegram_support import join

SECRETARY = 2001


async def test_report_progress_and_file_over_telegram(polling: Application, api: FakeBotApi,
                                                       branch: Branch) -> None:
    await join(api, branch.org.invite_code, user=SECRETARY, name="王书记", username="wang_shuji")
    calls = await api.say(SECRETARY, "/summary 本周")
    assert calls[-1].text.startswith("📊 机关第一党支部 · 本周")
    calls = await api.say(SECRETARY, "/report 台账", timeout=20, settle=1.5)
    methods = [c.method for c in calls]
    assert methods[0] == "sendMessage" and "正在生成报表" in calls[0].text
    progress_id = calls[0].message_id
    edits = [c for c in calls if c.method == "editMessageText"]
    assert edits and all(c.message_id == progress_id for c in edits)
    assert "sendDocument" in methods and methods.index("sendDocument") < len(methods) - 1
    shown = next(m for m in api.messages_in(SECRETARY) if m.message_id == progress_id)
    assert shown.text == "✅ 报表已生成，共 1 个文件。"
    (document,) = api.documents
    assert document.file_name.startswith("机关第一党支部台账_") and document.file_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames[0] == "汇总" and book.sheetnames[1] == "学习台账"
