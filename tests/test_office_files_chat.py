"""The office works from the chat (#13 item 7), on SQLite and PostgreSQL: a roster, pairings,
topics, past 述学 or the calendar sent in a private chat is imported as the CLI imports it, the
reply naming each bad line and nothing written; a secretary imports their own branch only; who
may not is told; /template sends blank files that import once filled in. Through the core (with a
reader of files held here), the console's /file, and Telegram over the loopback Bot API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from telegram.ext import Application

from bot.runtime.app import App, build_app
from handlers.core import router
from handlers.core.events import FileRef, Incoming
from handlers.core.file_source import FileGone
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import Session, session_factory
from storage.models import AccountKind, Campaign, Member, MemberAccount, OrgKind, Pairing, ResearchTopic, Role
from storage.repositories.members import MemberRepository
from storage.queries.sender import sender
from storage.repositories.dialogs import StaleState
from storage.repositories.orgs import OrgRepository
from tests.botapi import FakeBotApi
from tests.chat_driver import CoreChat
from tests.conftest import Branch, make_settings
from tests.file_samples import sheet as xlsx
from tests.test_cli import cli

SECRETARY = 7
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



class Files:
    """The files users sent, as an adapter fetches them for the file store (a ``FileSource``)."""

    platform = "test"

    def __init__(self) -> None:
        self.held: dict[str, bytes] = {}

    async def fetch(self, file_id: str) -> bytes:
        if file_id not in self.held:
            raise FileGone(file_id)
        return self.held[file_id]

    def add(self, content: bytes) -> str:
        file_id = f"f{len(self.held)}"
        self.held[file_id] = content
        return file_id


@pytest.fixture
async def files(app: App) -> Files:
    found = Files()
    app.core.files.register(found)
    return found


async def person(app: App, branch: Branch, name: str, role: Role, user: str) -> CoreChat:
    async with session_factory(app.engine)() as session, session.begin():
        orgs, members = OrgRepository(session), MemberRepository(session)
        org = await orgs.get(branch.org.id)
        if role is Role.office:
            org = await orgs.add("测试局办公室", kind=OrgKind.bureau, parent=None)
        assert org is not None
        member = await members.add(org, name, role) if name != "王书记" else await members.get(branch.secretary.id)
        assert member is not None
        await members.bind(member, platform="test", user_id=user, display_name=name)
    return CoreChat(app.core, user, name)


async def count(app: App, model: type) -> int:
    async with session_factory(app.engine)() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_office_sends_roster_pairings_topics_and_calendar(app: App, branch: Branch, files: Files) -> None:
    office = await person(app, branch, "马主任", Role.office, "office")
    roster = xlsx([["姓名", "支部", "角色"], ["张伟", "机关第一党支部", "党员"], ["赵敏", "机关第二党支部", "支委"]])
    await office.send_file(files.add(roster), "名册.xlsx")
    assert office.text == "✅ 名册已导入，新增 2 人。"
    pairs = "支部,姓名,结对居村\n机关第一党支部,张伟,东明村\n机关第二党支部,赵敏,幸福社区\n".encode("gb18030")
    await office.send_file(files.add(pairs), "结对.csv")
    assert office.text == "✅ 结对名单已导入：共 2 行，新增结对 2 个。"
    topics = xlsx([["支部", "课题", "负责人", "结题日期"], ["机关第一党支部", "加装电梯", "张伟", "2023-11-21"]])
    await office.send_file(files.add(topics), "课题.xlsx")
    assert office.text == "✅ 调研课题已导入：共 1 个课题，新增 1 个。"
    calendar = '[campaign]\nstart = 2023-09-15\nreading_class_days = 7\n'.encode()
    await office.send_file(files.add(calendar), "日历.toml")
    assert office.text.startswith("✅ 日历已导入")
    async with session_factory(app.engine)() as session:
        campaign = await session.scalar(select(Campaign))
    assert campaign is not None and campaign.reading_class_days == 7
    assert (await count(app, Pairing), await count(app, ResearchTopic)) == (2, 1)


async def test_bad_lines_named_and_nothing_written(app: App, branch: Branch, files: Files) -> None:
    office = await person(app, branch, "马主任", Role.office, "office")
    roster = xlsx([["姓名", "支部", "角色"], ["张伟", "机关第一党支部", "党员"], ["", "机关第一党支部", "党员"],
                   ["李雷", "机关第九党支部", "党员"], ["韩梅", "机关第一党支部", "组长"]])
    before = await count(app, Member)
    await office.send_file(files.add(roster), "名册.xlsx")
    assert office.text.startswith("❌ 名册未导入")
    assert "第3行：姓名为空或超过50字。" in office.text and "第5行：角色“组长”无法识别" in office.text
    await office.send_file(files.add(xlsx([["姓名", "支部", "角色"], ["李雷", "机关第九党支部", "党员"]])), "a.xlsx")
    assert "第2行：支部“机关第九党支部”不存在" in office.text
    assert await count(app, Member) == before
    pairs = xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "王书记", "东明村"], ["机关第一党支部", "无名氏", "西村"]])
    await office.send_file(files.add(pairs), "结对.xlsx")
    assert office.text == ("❌ 结对名单未导入（一行有误则整份不导入，请改正后重新发送）：\n"
                           "第3行：机关第一党支部的名册上没有“无名氏”，请先导入名册。")
    assert await count(app, Pairing) == 0
    await office.send_file(files.add(b"[campaign]\nstart = 2023-13-01\n"), "日历.toml")
    assert office.text.startswith("❌ 日历文件未导入") and "第2行" in office.text
    await office.send_file(files.add(xlsx([["序号", "备注"], ["1", "x"]])), "杂表.xlsx")
    assert office.text == t("upload.unknown_sheet")
    await office.send_file(files.add(b"%PDF-1.4"), "通知.pdf")
    assert "不支持 .pdf 文件" in office.text
    await office.send_file(files.add(b"not a zip"), "坏表.xlsx")
    assert "无法读取这个 Excel 文件" in office.text
    await office.send_file("missing", "名册.xlsx")
    assert office.text == t("upload.unavailable_gone")
    await office.send_file(files.add(b"x" * (5 * 1024 * 1024 + 1)), "大表.csv")
    assert "文件太大了（最多 5 MB）" in office.text


async def test_secretary_own_branch_only_and_members_refused(app: App, branch: Branch, files: Files) -> None:
    secretary = await person(app, branch, "王书记", Role.secretary, "sec")
    pairs = xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "王书记", "东明村"], ["机关第二党支部", "王书记", "西村"]])
    await secretary.send_file(files.add(pairs), "结对.xlsx")
    assert "第3行：支部“机关第二党支部”不是你的支部（机关第一党支部）" in secretary.text
    assert await count(app, Pairing) == 0
    roster = xlsx([["姓名", "支部", "角色"], ["张伟", "机关第一党支部", "办公室"]])
    await secretary.send_file(files.add(roster), "名册.xlsx")
    assert "第2行：“办公室”角色只能由主题教育办公室导入。" in secretary.text
    await secretary.send_file(files.add(b"[campaign]\nstart = 2023-09-15\n"), "日历.toml")
    assert secretary.text == t("upload.calendar_office_only")
    own = xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "王书记", "东明村"]])
    await secretary.send_file(files.add(own), "结对.xlsx")
    assert secretary.text.startswith("✅ 结对名单已导入")
    member = await person(app, branch, "张伟", Role.member, "m1")
    await member.send_file(files.add(pairs), "结对.xlsx")
    assert member.text == t("upload.not_leader")
    await member.say("/template 结对")
    assert member.text == t("upload.not_leader")
    stranger = CoreChat(app.core, "nobody", "路人")
    await stranger.send_file(files.add(pairs), "结对.xlsx")
    assert stranger.text == t("auth.not_member")


async def test_templates_are_blank_and_import_once_filled(app: App, branch: Branch, files: Files) -> None:
    office = await person(app, branch, "马主任", Role.office, "office")
    await office.say("/template")
    assert "名册、结对、课题、述学、日历" in office.text
    headers = {}
    for name in ("名册", "结对", "课题", "述学"):
        await office.say(f"/template {name}")
        (reply,) = office.replies
        assert reply.document is not None and reply.document.file_name.endswith(".xlsx")
        rows = list(load_workbook(io.BytesIO(reply.document.content)).active.iter_rows(values_only=True))
        assert len(rows) == 1  # the header only
        headers[name] = list(rows[0])
    await office.send_file(files.add(xlsx([headers["结对"], ["机关第一党支部", "王书记", "东明村"]])), "结对.xlsx")
    assert office.text.startswith("✅ 结对名单已导入")
    cells = {"姓名": "李四", "支部": "机关第一党支部", "角色": "党员", "钉钉账号": "LiSi01", "飞书账号": "u273y71"}
    filled = [[cells.get(h, "") for h in headers["名册"]]]
    await office.send_file(files.add(xlsx([headers["名册"], *filled])), "名册.xlsx")
    assert office.text == "✅ 名册已导入，新增 1 人。"
    async with session_factory(app.engine)() as session:
        held = (await session.execute(select(MemberAccount.kind, MemberAccount.value).join(
            Member, Member.id == MemberAccount.member_id).where(Member.name == "李四"))).tuples().all()
    assert sorted(held) == [(AccountKind.dingtalk, "LiSi01"), (AccountKind.feishu, "u273y71")]
    await office.say("/template 日历")
    (reply,) = office.replies
    assert reply.document is not None and reply.document.file_name == "主题教育日历.toml"
    await office.send_file(files.add(reply.document.content), reply.document.file_name)
    assert office.text.startswith("✅ 日历已导入")


async def test_telegram_document_imported(polling: Application, api: FakeBotApi, app: App,
                                          branch: Branch, db_url: str) -> None:
    """Over the loopback Bot API: the secretary's pairing sheet as a Telegram document is fetched
    with getFile and imported; a bad one is answered line by line."""
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(branch.secretary, platform="telegram", user_id=str(SECRETARY),
                                             display_name=None)
    since = len(api.calls)
    api.push_document(SECRETARY, "结对.xlsx", xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "王书记", "东明村"]]))
    call = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == SECRETARY, since=since)
    assert call.text == "✅ 结对名单已导入：共 1 行，新增结对 1 个。"
    assert any(c.method == "getFile" for c in api.calls[since:])
    since = len(api.calls)
    api.push_document(SECRETARY, "结对.csv", "支部,姓名,结对居村\n机关第一党支部,无名氏,西村\n".encode())
    call = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == SECRETARY, since=since)
    assert "第2行：机关第一党支部的名册上没有“无名氏”" in (call.text or "")
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            assert await session.scalar(select(func.count()).select_from(Pairing)) == 1
    finally:
        await bot_app.close()


def test_console_file_command(tmp_path: Path) -> None:
    """The console's ``/file PATH`` sends a file of the computer: the demo's office imports a
    pairing sheet and is told each bad line of another, through a pipe."""
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    good, bad = tmp_path / "结对.xlsx", tmp_path / "错.csv"
    good.write_bytes(xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "李娜", "新村"]]))
    bad.write_text("支部,姓名,结对居村\n机关第一党支部,无名氏,西村\n", encoding="utf-8")
    script = f"/file {good}\n/file {bad}\n/file {tmp_path / 'none.xlsx'}\n/template 结对\n/quit\n"
    chat = cli(tmp_path, "chat", "--as", "王建国", stdin=script)
    assert chat.returncode == 0, chat.stderr
    assert "结对名单已导入：共 1 行，新增结对 1 个" in chat.stdout
    assert "第2行：机关第一党支部的名册上没有“无名氏”" in chat.stdout
    assert t("upload.unavailable_gone") in chat.stdout
    assert (tmp_path / "结对名单模板.xlsx").exists()


async def test_a_file_handled_again_is_fetched_once(
        app: App, branch: Branch, files: Files, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update taken from the inbox has its file fetched in its transaction; handled again (the
    dialog moved meanwhile, or the connection was lost), it is handled with the file kept the
    first time, not downloaded twice."""
    office = await person(app, branch, "马主任", Role.office, "office")
    file_id = files.add(xlsx([["姓名", "支部", "角色"], ["张伟", "机关第一党支部", "党员"]]))
    fetched: list[str] = []
    fetch = files.fetch

    async def counted(wanted: str) -> bytes:
        fetched.append(wanted)
        return await fetch(wanted)

    lost = [StaleState()]

    async def flaky_sender(session: Session, platform: str, user_id: str) -> object:
        if lost:
            raise lost.pop()
        return await sender(session, platform, user_id)

    monkeypatch.setattr(files, "fetch", counted)
    monkeypatch.setattr(router, "sender", flaky_sender)
    monkeypatch.setattr(router, "RETRY_DELAY", 0)
    event = Incoming(platform="test", user_id=office.user_id, user_name="马主任", chat_id=office.user_id,
                     is_private=True, file=FileRef(file_id, "名册.xlsx", XLSX_MIME), event_id="u1")

    async def take(_session: Session) -> Incoming:
        return event

    handled = await app.core.handle_taken("test", office.user_id, take)
    assert fetched == [file_id] and not lost  # lost once, handled the second time
    assert handled.event == event and t("cli.roster_imported", added=1) in handled.outcome.replies[0].text
    assert await count(app, Member) == 4  # the branch's two, the office's 马主任, the roster's 张伟 once
