"""Files kept by the bot, end to end over real HTTP (issue 18, and #11's "every file sent"):
downloaded at receipt through the loopback Bot API (getFile, then the file download path) and
the fake WeCom (media/get), kept once per content with its sha256, refused by size and type in
Chinese, a download that fails tried again in the background, and a meeting's files sent back
from the store on another platform after its recorder moved there. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.runtime.app import App, build_app
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.files.local import LocalStore
from storage.models import Attachment, AttachmentOwner, DownloadStatus, Meeting, StoredFileRecord
from storage.repositories.members import MemberRepository
from tests import file_samples as samples
from tests.botapi import FakeBotApi
from tests.conftest import SECRETARY_WECOM, Branch, make_settings
from tests.telegram_support import texts
from tests.wecom_support import choose, serving
from tests.wecomapi import FakeWeCom

SECRETARY = 7  # the secretary's Telegram id


async def _bind_secretary(app: App, branch: Branch, platform: str, user_id: str) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(branch.secretary, platform=platform, user_id=user_id,
                                             display_name=None)


async def _rows(db_url: str, model: type, *order: object) -> list:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            return list(await session.scalars(select(model).order_by(*order or (model.id,))))
    finally:
        await bot_app.close()


async def _telegram_until_record(api: FakeBotApi) -> None:
    """/meeting → 记录新会议 as the secretary, up to the 记录 step."""
    await api.say(SECRETARY, "/meeting")
    await api.press(SECRETARY, t("meeting.new"))
    await api.press(SECRETARY, "支部党员大会")
    await api.press(SECRETARY, "今天")
    await api.say(SECRETARY, "14:30-16:30")
    await api.say(SECRETARY, "三楼会议室")
    await api.say(SECRETARY, "学习贯彻党的二十大精神")
    await api.press(SECRETARY, "王书记")
    await api.press(SECRETARY, "王书记")
    await api.press(SECRETARY, "跳过")
    await api.say(SECRETARY, "1.传达学习 2.交流发言")


async def _send(api: FakeBotApi, name: str, content: bytes, mime: str) -> str:
    since = len(api.calls)
    api.push_document(SECRETARY, name, content, mime_type=mime)
    call = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == SECRETARY,
                              since=since)
    return call.text or ""


async def test_every_file_of_a_meeting_is_kept_and_sent_again_on_another_platform(
        polling: Application, api: FakeBotApi, fake: FakeWeCom, app: App, branch: Branch,
        db_url: str, _files_dir: Path) -> None:
    await _bind_secretary(app, branch, "telegram", str(SECRETARY))
    photo1, photo2 = samples.image("JPEG", colour=(10, 20, 30)), samples.png(5)
    await _telegram_until_record(api)
    sent = [("会议现场1.jpg", photo1, "image/jpeg"), ("签到表.png", photo2, "image/png"),
            ("会议记录.pdf", samples.PDF, "application/pdf"),
            ("会议现场1-副本.jpg", photo1, "image/jpeg")]  # the same photo twice: kept once
    for n, (name, content, mime) in enumerate(sent, start=1):
        assert t("dialog.file_received", count=n) in await _send(api, name, content, mime)
    calls = await api.press(SECRETARY, "完成")
    assert "会议记录：4 个文件" in texts(calls)
    await api.press(SECRETARY, "✅ 确认")

    (meeting,) = await _rows(db_url, Meeting)
    attachments = await _rows(db_url, Attachment)
    assert [(a.owner_kind, a.owner_id, a.original_name, a.status, a.member_id, a.platform)
            for a in attachments] == [
        (AttachmentOwner.meeting_record, meeting.id, name, DownloadStatus.stored,
         branch.secretary.id, "telegram") for name, _, _ in sent]
    kept = {f.id: f for f in await _rows(db_url, StoredFileRecord)}
    assert sorted((f.sha256, f.mime, f.size) for f in kept.values()) == sorted(
        (hashlib.sha256(c).hexdigest(), m, len(c)) for _, c, m in sent[:3])
    assert attachments[0].stored_file_id == attachments[3].stored_file_id
    store = LocalStore(_files_dir)
    for attachment in attachments:
        record = kept[attachment.stored_file_id]
        assert hashlib.sha256(await store.read(record.store_key)).hexdigest() == record.sha256
    assert len([c for c in api.calls if c.method == "getFile"]) == 4

    # the secretary moved to WeCom: the files come from the store, not by a Telegram file_id
    await _bind_secretary(app, branch, "wecom", SECRETARY_WECOM)
    async with serving(db_url, fake):
        await fake.say(SECRETARY_WECOM, "/meeting")
        await choose(fake, "1", SECRETARY_WECOM)
        uploads_before = len(fake.uploads)
        calls = await choose(fake, t("meeting.action_files"), SECRETARY_WECOM)
        files = [c for c in calls if c.body.get("msgtype") == "file"]
        uploads = [fake.uploads[c.body["file"]["media_id"]] for c in files]
    assert len(fake.uploads) - uploads_before == 4
    assert [(u.file_name, u.content) for u in uploads] == [(name, content)
                                                           for name, content, _ in sent]


async def test_the_limits_refuse_in_chinese_and_nothing_is_kept(
        api: FakeBotApi, branch: Branch, app: App, db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.telegram_support import polling_bot

    monkeypatch.setenv("BRANCHBOT_FILES_MAX_MB", "0.0625")  # 64 KiB
    await _bind_secretary(app, branch, "telegram", str(SECRETARY))
    async for _application in polling_bot(db_url, api):
        await _telegram_until_record(api)
        big = samples.image("PNG", size=(200, 200)) + b"\0" * 100_000
        assert t("file.too_large", max_mb="0.0625") in await _send(api, "大照片.png", big, "image/png")
        program = b"MZ\x90\x00" + b"\0" * 200  # a Windows program named as a photo
        assert t("file.type_not_allowed") in await _send(api, "照片.jpg", program, "image/jpeg")
        assert t("file.empty") in await _send(api, "空.txt", b"", "text/plain")
        assert t("dialog.file_received", count=1) in await _send(
            api, "说明.txt", "会议按时召开，应到8人。".encode(), "text/plain")
        await api.press(SECRETARY, "完成")
        await api.press(SECRETARY, "✅ 确认")
    (attachment,) = await _rows(db_url, Attachment)
    (kept,) = await _rows(db_url, StoredFileRecord)
    assert attachment.original_name == "说明.txt" and kept.mime == "text/plain"


async def _wecom_until_record(fake: FakeWeCom) -> None:
    user = SECRETARY_WECOM
    await fake.say(user, "/meeting")
    await choose(fake, t("meeting.new"), user)
    await choose(fake, "支部党员大会", user)
    await choose(fake, "今天", user)
    await fake.say(user, "14:30-16:30")
    await fake.say(user, "三楼会议室")
    await fake.say(user, "学习贯彻党的二十大精神")
    await choose(fake, "王书记", user)
    await choose(fake, "王书记", user)
    await choose(fake, "跳过", user)
    await fake.say(user, "1.传达学习 2.交流发言")


async def test_wecom_files_are_kept_and_a_failed_download_is_tried_again(
        fake: FakeWeCom, branch: Branch, app: App, db_url: str) -> None:
    await _bind_secretary(app, branch, "wecom", SECRETARY_WECOM)
    user = SECRETARY_WECOM
    async with serving(db_url, fake) as bot:
        await _wecom_until_record(fake)
        photo = samples.image("JPEG", colour=(1, 2, 3))
        calls = await fake.send_file(user, "", photo, kind="image", mime="image/jpeg")
        assert t("dialog.file_received", count=1) in texts(calls)
        # a file (not only a photo): WeCom's file message
        fake.fail_next("media/get", 502)  # the platform fails once
        calls = await fake.send_file(user, "整改说明.docx", samples.word_document())
        assert t("dialog.file_received", count=2) in texts(calls)
        assert t("file.download_pending") in texts(calls)
        fake.fail_next("media/get", 40007)  # already gone: asked to send it again
        calls = await fake.send_file(user, "过期.pdf", samples.PDF)
        assert t("file.download_failed") in texts(calls)
        await choose(fake, "完成", user)
        await choose(fake, "✅ 确认", user)

        first = await _rows(db_url, Attachment)
        assert [(a.original_name, a.status) for a in first] == [
            (None, DownloadStatus.stored), ("整改说明.docx", DownloadStatus.pending)]
        assert first[1].stored_file_id is None and first[1].attempts == 0

        assert bot.core.files is not None
        outcomes = await bot.core.files.retry_due()
        assert [(o.attachment_id, o.status) for o in outcomes] == [
            (first[1].id, DownloadStatus.stored)]
        second = await _rows(db_url, Attachment)
        assert second[1].status is DownloadStatus.stored and second[1].attempts == 1
        assert await bot.core.files.retry_due() == []  # nothing left to do
        kept = {f.id: f for f in await _rows(db_url, StoredFileRecord)}
        assert kept[second[1].stored_file_id].mime == (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        assert kept[second[0].stored_file_id].sha256 == hashlib.sha256(photo).hexdigest()
    gets = [c for c in fake.calls if c.method == "media/get"]
    assert len(gets) == 4 and all(c.query["access_token"].startswith("token-") for c in gets)
