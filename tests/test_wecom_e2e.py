"""The WeCom adapter end to end: encrypted callbacks POSTed to the callback server under uvicorn
on loopback, answers through the fake WeCom API, state and records in SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.adapters.wecom.crypto import MsgCrypt, signature
from bot.runtime.app import App
from handlers.core.events import Button, Reply
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import HandledEvent, Member, StudyRecord
from storage.repositories.members import MemberRepository
from tests.conftest import Branch
from tests.telegram_support import scalar_count
from tests.test_wecom_crypto import VERIFY, _raw_encrypt
from tests.wecom_support import USER, choose, join, serving, texts
from tests.wecomapi import AES_KEY, CORP_ID, TOKEN, FakeWeCom


async def test_join_and_study_with_cards_and_numbers(fake: FakeWeCom, branch: Branch,
                                                     db_url: str) -> None:
    async with serving(db_url, fake):
        await join(fake, branch.org.invite_code)
        calls = await fake.say(USER, "/study")  # eleven forms: numbered text
        assert "[1] 集中学习" in calls[-1].text and t("select.numbers") in calls[-1].text
        calls = await choose(fake, "集中学习")
        assert calls[-1].labels()[:3] == ["今天", "昨天", "前天"]  # a card
        pressed = fake.last_card(USER)
        calls = await choose(fake, "今天")
        assert calls[0].method == "message/update_template_card"
        assert calls[0].body["response_code"] == pressed.response_code
        assert calls[0].body["button"] == {"replace_name": "今天"}
        await fake.say(USER, "１．５小时")
        await choose(fake, "《习近平著作选读》")
        calls = await choose(fake, "跳过")
        assert "学习时长：1.5小时" in calls[-1].text
        assert calls[-1].labels() == ["✅ 确认", "✏️ 修改", "取消"]
        calls = await choose(fake, "✅ 确认")
        assert t("study.saved") in texts(calls)
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 90,
                              StudyRecord.form == "集中学习") == 1


async def test_a_used_card_code_falls_back_to_a_new_message(fake: FakeWeCom, branch: Branch,
                                                            db_url: str) -> None:
    async with serving(db_url, fake):
        await join(fake, branch.org.invite_code)
        await fake.say(USER, "/study")
        await choose(fake, "自学")
        fake.expire_codes()  # used once already, or older than 72 hours
        calls = await choose(fake, "昨天")
        assert "学习了多长时间" in texts(calls)
        assert [c for c in fake.calls if c.method == "message/update_template_card"][-1].errcode


async def test_a_redelivered_message_is_handled_once(fake: FakeWeCom, branch: Branch,
                                                     db_url: str) -> None:
    async with serving(db_url, fake) as bot:
        await join(fake, branch.org.invite_code)
        await fake.say(USER, "/study")
        message = fake.text_xml(USER, "2", 77)  # 自学
        for _ in range(3):  # WeCom retries what it thinks went unanswered
            assert await fake.deliver(message) == 200
        await bot.drain()
        assert sum("哪天学习的" in c.text for c in fake.sent_to(USER)) == 1
        card = fake.last_card(USER)
        event = fake.card_event_xml(USER, card, card.keys["今天"], 1_700_000_000)
        for _ in range(2):
            assert await fake.deliver(event) == 200
        await bot.drain()
        assert sum("学习了多长时间" in c.text for c in fake.sent_to(USER)) == 1
    assert await scalar_count(db_url, HandledEvent, HandledEvent.platform == "wecom") >= 4


async def test_url_verification(fake: FakeWeCom, db_url: str) -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, CORP_ID)
    async with serving(db_url, fake), aiohttp.ClientSession() as client:
        timestamp, nonce = str(int(time.time())), "47744683"
        echostr = crypt.encrypt("1288432023552776189")
        query = {"msg_signature": signature(TOKEN, timestamp, nonce, echostr),
                 "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        async with client.get(fake.callback_url, params=query) as response:
            assert response.status == 200 and await response.text() == "1288432023552776189"
        sample = dict(zip(("msg_signature", "timestamp", "nonce", "echostr"), VERIFY, strict=True))
        async with client.get(fake.callback_url, params=sample) as response:
            assert response.status == 403  # authentic, but from 2016: a replay
        async with client.get(fake.callback_url, params={**query, "echostr": echostr[4:]}) as response:
            assert response.status == 403


async def test_bad_callbacks_are_refused_unprocessed(fake: FakeWeCom, branch: Branch, db_url: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    good = fake.text_xml(USER, f"/join {branch.org.invite_code}", 5)
    now = str(int(time.time()))

    def signed(ciphertext: str) -> tuple[dict[str, str], bytes]:
        query = {"msg_signature": signature(TOKEN, now, "1", ciphertext), "timestamp": now,
                 "nonce": "1"}
        return query, f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()

    query, body = fake.envelope(good)
    other_corp = MsgCrypt(TOKEN, AES_KEY, "ww0000000000000000")
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<xml><Encrypt>&b;</Encrypt></xml>").encode()
    cases: list[tuple[str, dict[str, str], bytes, int]] = [
        ("wrong signature", {**query, "msg_signature": "0" * 40}, body, 403),
        ("no signature", {k: v for k, v in query.items() if k != "msg_signature"}, body, 400),
        ("stale timestamp", *fake.envelope(good, timestamp=int(time.time()) - 3600), 403),
        ("wrong corp id", *signed(other_corp.encrypt(good)), 403),
        ("broken padding", *signed(_raw_encrypt(b"\x00" * 48 + b"\x00" * 16)), 403),
        ("malformed outer XML", query, b"<xml><Encrypt>", 400),
        ("an entity bomb", query, bomb, 400),
        ("malformed inner XML", *signed(fake.crypt.encrypt("<xml><FromUserName>x")), 400),
        ("oversized body", query, b"<xml>" + b" " * 70_000 + b"</xml>", 413),
    ]
    async with serving(db_url, fake) as bot:
        for name, case_query, case_body, status in cases:
            assert await fake.post(case_query, case_body) == status, name
        await bot.drain()
    assert [c for c in fake.calls if c.method == "message/send"] == []
    assert await scalar_count(db_url, HandledEvent) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_start_button_opens_the_dialog_in_the_private_chat(fake: FakeWeCom, branch: Branch,
                                                                  db_url: str) -> None:
    async with serving(db_url, fake) as bot:
        await join(fake, branch.org.invite_code)
        await bot.send(USER, Reply("本周述学开始了", buttons=((Button("填写述学", start="study"),),)))
        assert fake.last_card(USER).keys == {"填写述学": "/start study"}
        calls = await fake.press(USER, "填写述学")
        assert "请选择学习形式" in texts(calls)


async def test_a_report_is_uploaded_and_sent_as_files(fake: FakeWeCom, app: App, branch: Branch,
                                                      db_url: str) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        secretary = await session.get(Member, branch.secretary.id)
        assert secretary is not None
        await MemberRepository(session).bind(secretary, platform="wecom", user_id="WangShuJi",
                                             display_name=None)
    async with serving(db_url, fake) as bot:
        await fake.say("WangShuJi", "/report xlsx")
        await bot.drain()
    files = [c for c in fake.sent_to("WangShuJi") if c.body.get("msgtype") == "file"]
    assert len(files) == 1
    upload = fake.uploads[files[0].body["file"]["media_id"]]
    assert upload.file_name.endswith(".xlsx") and upload.content[:2] == b"PK"
    sent = [c.text for c in fake.sent_to("WangShuJi")]
    assert sent[-1] == t("report.done", count=1)  # of the progress lines, only the last
    async with session_factory(app.engine)() as session:
        assert await session.scalar(select(func.count()).select_from(HandledEvent)) == 1
