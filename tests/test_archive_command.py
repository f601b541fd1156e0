"""/archive over the loopback Bot API, on SQLite and PostgreSQL: the office gets a progress
message edited branch by branch, then the zip as a document; larger than the platform takes, a
download link from the S3 store (moto's server on loopback, a real S3 API) or, on a local store,
where it lies; anyone else is told who makes the archive."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from bot.adapters.telegram.files import TelegramFiles
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import Campaign
from storage.repositories.calendar import CalendarRepository
from storage.repositories.members import MemberRepository
from tests.archive_support import PERIOD, fill
from tests.botapi import FakeBotApi
from tests.conftest import Branch
from tests.joining import office_member
from tests.s3_support import ACCESS_KEY, REGION, SECRET, new_bucket, s3_endpoint  # noqa: F401
from tests.telegram_support import polling_bot, texts

OFFICE, SECRETARY = 9, 7


async def _people(app: App, branch: Branch) -> None:
    office = await office_member(app, branch)
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        await members.bind(office, platform="telegram", user_id=str(OFFICE), display_name=None)
        await members.bind(branch.secretary, platform="telegram", user_id=str(SECRETARY),
                           display_name=None)
        await CalendarRepository(session).replace([], [], Campaign(
            name="主题教育", start=PERIOD.start, end=PERIOD.end))


async def _archive(api: FakeBotApi) -> list:
    since = len(api.calls)
    await api.say(OFFICE, "/archive")
    await api.wait_for(lambda c: c.chat_id == OFFICE and (
        c.method == "sendDocument" or "超过本平台可发送的大小" in (c.text or "")), since=since,
        timeout=60)
    return api.calls[since:]


async def test_the_office_gets_the_archive_as_a_file(api: FakeBotApi, app: App, branch: Branch,
                                                    db_url: str) -> None:
    await fill(app, branch)
    await _people(app, branch)
    async for _bot in polling_bot(db_url, api):
        refused = await api.say(SECRETARY, "/archive")
        assert texts(refused) == t("archive.not_allowed")
        calls = await _archive(api)
    edits = [c.text for c in calls if c.method == "editMessageText"]
    assert any("正在归档 1/2：机关第一党支部" in (e or "") for e in edits)
    assert any("✅ 资料归档已生成：2 个支部" in (e or "") for e in edits)
    (document,) = [d for d in api.documents if d.chat_id == OFFICE]
    assert document.file_name == "主题教育资料归档.zip"
    with zipfile.ZipFile(io.BytesIO(document.content)) as archive:
        book = load_workbook(io.BytesIO(archive.read("目录.xlsx")), read_only=True)
        assert len(list(book["文件"].iter_rows(min_row=2))) == 7
        assert "机关第一党支部/阶段性总结.docx" in archive.namelist()


async def test_too_large_for_the_platform_on_a_local_store(
        api: FakeBotApi, app: App, branch: Branch, db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramFiles, "max_send_bytes", 1000)
    await fill(app, branch)
    await _people(app, branch)
    async for _bot in polling_bot(db_url, api):
        calls = await _archive(api)
    assert not [d for d in api.documents if d.chat_id == OFFICE]
    assert "已保存在服务器的文件存储中" in texts(calls) and "branchbot archive" in texts(calls)


@pytest.fixture
def s3_settings(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """The bot's file store in a fresh bucket of the loopback S3 server (set before ``app``)."""
    import asyncio

    bucket = asyncio.run(new_bucket(s3_endpoint))
    for key, value in {"STORE": "s3", "S3_ENDPOINT": s3_endpoint, "S3_BUCKET": bucket,
                       "S3_REGION": REGION, "S3_ACCESS_KEY": ACCESS_KEY,
                       "S3_SECRET": SECRET}.items():
        monkeypatch.setenv(f"BRANCHBOT_FILES_{key}", value)
    yield bucket


async def test_too_large_on_s3_is_a_download_link(
        s3_settings: str, api: FakeBotApi, app: App, branch: Branch, db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramFiles, "max_send_bytes", 1000)
    assert app.files.store.__class__.__name__ == "S3Store"
    await fill(app, branch)  # the evidence goes into the bucket
    await _people(app, branch)
    async for _bot in polling_bot(db_url, api):
        calls = await _archive(api)
    (message,) = [c.text for c in calls if "请在 7 天内用此链接下载" in (c.text or "")]
    link = message.rsplit("\n", 1)[1]
    assert s3_settings in link
    with urllib.request.urlopen(link, timeout=10) as response:  # noqa: S310 (loopback)
        content = response.read()
        assert "attachment" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "目录.xlsx" in archive.namelist()
        photos = [n for n in archive.namelist() if n.endswith(".jpg")]
        assert photos and all(archive.read(n)[:2] == b"\xff\xd8" for n in photos)
