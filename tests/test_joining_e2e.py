"""Joining through the real adapters (#11 item 1), on SQLite and PostgreSQL: Telegram over the
loopback Bot API (the stranger with the secretary's name, the id, the @username and the shared
contact Telegram vouches for), WeCom callbacks over the loopback fake (the userid it
authenticates), DingTalk's Stream and Feishu's long connection over theirs (the userid, the
user_id), the console and the command line as processes through a pipe."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from telegram.ext import Application

from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.membership.roster import import_table
from storage.db import session_factory
from storage.models import (
    AccountKind,
    Identity,
    JoinRequest,
    JoinStatus,
    Member,
    MemberAccount,
    Organization,
    OutboxMessage,
    Role,
)
from storage.repositories.accounts import AccountRepository
from storage.repositories.members import MemberRepository
from tests import dingtalk_support as ds
from tests import feishu_support as fs
from tests.botapi import FakeBotApi
from tests.conftest import SECRETARY_TELEGRAM_USERNAME, Branch, make_settings
from tests.fakes.dingtalk.server import FakeDingTalk
from tests.fakes.feishu.server import FakeFeishu
from tests.telegram_support import join, texts
from tests.test_cli import cli, query
from tests.wecom_support import choose, serving
from tests.wecom_support import join as wecom_join
from tests.wecom_support import texts as wecom_texts
from tests.wecomapi import FakeWeCom

STRANGER = 6666
OFFICE = 900


async def rows(db_url: str, model: type, *where: object) -> list:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            return list(await session.scalars(select(model).where(*where).order_by(model.id)))
    finally:
        await bot_app.close()


async def setup(db_url: str, work: object) -> object:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session, session.begin():
            return await work(session)  # type: ignore[operator]
    finally:
        await bot_app.close()


async def office_on_telegram(db_url: str, branch: Branch) -> None:
    async def work(session: object) -> None:
        members = MemberRepository(session)  # type: ignore[arg-type]
        bureau = await session.get(Organization, branch.org.parent_id)  # type: ignore[attr-defined]
        office = await members.add(bureau, "马主任", Role.office)
        await members.bind(office, platform="telegram", user_id=str(OFFICE), display_name="马主任")
    await setup(db_url, work)


async def test_a_stranger_with_the_secretarys_name_gets_nothing_over_telegram(
        polling: Application, api: FakeBotApi, branch: Branch, db_url: str) -> None:
    await office_on_telegram(db_url, branch)
    calls = await api.say(STRANGER, f"/start {branch.org.invite_code}", first_name="王书记")
    assert calls[-1].button_labels() == ["我是 王书记", "取消"]
    calls = await api.press(STRANGER, "我是 王书记")
    assert t("join.requested", name="王书记", org="机关第一党支部", decider="主题教育办公室") in texts(calls)
    for command in ("/problems", "/summary", "/study", "/report", "/pending", "/mine"):
        calls = await api.say(STRANGER, command)
        assert texts(calls) == t("auth.not_member"), command
    forged = f"r:b:{branch.org.id}:this_month:20231101:20231115:1"  # a paging button's data
    since = len(api.calls)
    api.push_callback(STRANGER, forged, message_id=api.last_message(STRANGER).message_id)
    answered = await api.wait_for(lambda c: c.method == "answerCallbackQuery", since=since)
    assert answered.params.get("text") == t("report.not_allowed")
    assert await rows(db_url, Identity, Identity.platform_user_id == str(STRANGER)) == []
    (asked,) = await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_request")
    assert (asked.platform, asked.chat_id) == ("telegram", str(OFFICE))
    assert "申请人：王书记（Telegram：6666）" in asked.payload["text"]
    calls = await api.say(OFFICE, "/pending")
    assert "认领名册：王书记（支部书记）" in texts(calls)
    calls = await api.press(OFFICE, "拒绝")
    assert "已拒绝：王书记（Telegram：6666）" in texts(calls)
    calls = await api.say(STRANGER, "/problems")
    assert texts(calls) == t("auth.not_member")
    (request,) = await rows(db_url, JoinRequest)
    assert request.status is JoinStatus.rejected


async def test_the_telegram_id_and_username_on_the_roster_bind_at_once(
        polling: Application, api: FakeBotApi, branch: Branch, db_url: str) -> None:
    await office_on_telegram(db_url, branch)
    await join(api, branch.org.invite_code)  # 李娜's numeric id is on the roster
    await join(api, branch.org.invite_code, user=7, name="王书记", username=SECRETARY_TELEGRAM_USERNAME)
    held = {(a.kind, a.value) for a in await rows(db_url, MemberAccount,
                                                   MemberAccount.member_id == branch.secretary.id)}
    assert (AccountKind.telegram, "7") in held  # the id it had when it bound: usernames move
    # The username changed hands: someone else reporting it now finds the row bound.
    calls = await api.say(99, f"/start {branch.org.invite_code}", first_name="X",
                          username=SECRETARY_TELEGRAM_USERNAME)
    assert texts(calls) == t("join.row_taken", name="王书记")
    assert await rows(db_url, Identity, Identity.platform_user_id == "99") == []
    claimed = await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_claim")
    assert [m.chat_id for m in claimed] == [str(OFFICE)]  # a 支部书记's row: the office hears


async def test_a_username_not_reported_now_is_only_a_request(
        polling: Application, api: FakeBotApi, branch: Branch, db_url: str) -> None:
    calls = await api.say(7, f"/start {branch.org.invite_code}", first_name="王书记")  # no username
    assert "请确认你的真实姓名" in texts(calls)
    calls = await api.say(7, "王书记")
    assert "已提交申请" in texts(calls)
    assert await rows(db_url, Identity) == []


async def test_the_senders_own_shared_contact_binds_a_roster_phone(
        polling: Application, api: FakeBotApi, branch: Branch, db_url: str) -> None:
    async def with_phone(session: object) -> None:
        member = await MemberRepository(session).add(branch.org, "周敏")  # type: ignore[arg-type]
        await AccountRepository(session).set(member.id, AccountKind.phone, "+8613812345678")  # type: ignore[arg-type]
    await setup(db_url, with_phone)
    await api.say(3003, f"/start {branch.org.invite_code}", first_name="Zhou")
    calls = await api.say(3003, "13812345678")  # a typed number proves nothing, and is no name
    assert t("input.name_letters", field="姓名") in texts(calls)
    calls = await api.say(3003, "周小敏")  # a name typed: a request, whatever the roster holds
    assert "已提交申请：以“周小敏”加入" in texts(calls)
    await api.say(3003, "/start")
    await api.say(3003, f"/start {branch.org.invite_code}")
    assert await rows(db_url, Identity) == []
    # Asking for the row with a phone on the roster offers the contact request button.
    (request,) = await rows(db_url, JoinRequest)
    calls = await api.say(3004, f"/start {branch.org.invite_code}", first_name="周敏")
    calls = await api.press(3004, "我是 周敏")
    sent = [c for c in calls if c.method == "sendMessage"][-1]
    assert sent.reply_markup["keyboard"] == [[{"text": t("join.share_contact"), "request_contact": True}]]
    assert "已提交申请：以“周敏”加入" in sent.text
    edited = [c for c in calls if c.method == "editMessageText"]
    assert edited and "→ 我是 周敏" in edited[0].text  # the pressed message shows the answer
    assert await api.share_contact(3004, "8613812345678", own=False, contact_user_id=5555,
                                   timeout=1) == []  # someone else's contact: not taken
    assert await api.share_contact(3004, "+86 138 1234 5678", own=False, timeout=1) == []
    assert await rows(db_url, Identity) == []
    calls = await api.share_contact(3004, "8613812345678")  # her own, as the button sends it
    assert "周敏，你已加入“机关第一党支部”：你的Telegram账号与支部名册登记的一致" in texts(calls)
    (identity,) = await rows(db_url, Identity)
    zhou = (await rows(db_url, Member, Member.name == "周敏"))[0]
    assert identity.platform_user_id == "3004" and identity.member_id == zhou.id
    statuses = {r.platform_user_id: r.status for r in await rows(db_url, JoinRequest)}
    assert statuses == {request.platform_user_id: JoinStatus.pending, "3004": JoinStatus.superseded}
    calls = await api.share_contact(3005, "+8613812345678")  # the same number, someone else now
    assert texts(calls) == t("join.row_taken", name="周敏")


async def test_wecom_userid_on_the_roster_binds_and_a_stranger_asks(
        fake: FakeWeCom, branch: Branch, db_url: str) -> None:
    async def secretary_on_telegram(session: object) -> None:
        await MemberRepository(session).bind(branch.secretary, platform="telegram",  # type: ignore[arg-type]
                                             user_id="7", display_name="王书记")
    await setup(db_url, secretary_on_telegram)
    async with serving(db_url, fake):
        await wecom_join(fake, branch.org.invite_code)  # the userid "LiNa" is the roster's "lina"
        calls = await fake.say("ZhangSan", f"/join {branch.org.invite_code}")
        assert "真实姓名" in wecom_texts(calls)
        calls = await fake.say("ZhangSan", "张三")
        assert "已提交申请：以“张三”加入“机关第一党支部”" in wecom_texts(calls)
        calls = await fake.say("ZhangSan", "/study")
        assert wecom_texts(calls) == t("auth.not_member")
        calls = await fake.say("ZhangSan", "/help")
        assert "正在等待支部书记审批" in wecom_texts(calls)
    (asked,) = await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_request")
    assert (asked.platform, asked.chat_id) == ("telegram", "7")  # reaches her where she is
    assert "申请人：—（企业微信：ZhangSan）" in asked.payload["text"]
    assert [i.platform_user_id for i in await rows(db_url, Identity, Identity.platform == "wecom")] == ["LiNa"]


async def test_a_wecom_member_is_approved_and_told_on_wecom(fake: FakeWeCom, branch: Branch,
                                                            db_url: str) -> None:
    async def secretary_on_wecom(session: object) -> None:
        await MemberRepository(session).bind(branch.secretary, platform="wecom",  # type: ignore[arg-type]
                                             user_id="WangShuJi", display_name=None)
    await setup(db_url, secretary_on_wecom)
    async with serving(db_url, fake):
        await fake.say("ZhangSan", f"/join {branch.org.invite_code}")
        await fake.say("ZhangSan", "张三")
        calls = await fake.say("WangShuJi", "/pending")
        assert "填写的姓名：张三" in wecom_texts(calls)
        calls = await choose(fake, "同意", user="WangShuJi")
        assert "已同意：—（企业微信：ZhangSan）以“张三”加入" in wecom_texts(calls)
    told = await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_approved")
    assert [(m.platform, m.chat_id) for m in told] == [("wecom", "ZhangSan")]
    assert "张三，你已加入“机关第一党支部”" in told[0].payload["text"]


async def roster(db_url: str, *lines: list[str]) -> int:
    """Import roster lines (姓名, 支部, 角色, 钉钉账号, 飞书账号) as ``member import`` does."""
    async def work(session: object) -> int:
        return await import_table(t, session, [["姓名", "支部", "角色", "钉钉账号", "飞书账号"], *lines])  # type: ignore[arg-type]
    return await setup(db_url, work)  # type: ignore[return-value]


async def secretary_on_telegram(db_url: str, branch: Branch) -> None:
    async def work(session: object) -> None:
        await MemberRepository(session).bind(branch.secretary, platform="telegram",  # type: ignore[arg-type]
                                             user_id="7", display_name="王书记")
    await setup(db_url, work)


async def test_a_dingtalk_userid_on_the_roster_binds_at_once_and_a_stranger_asks(
        db_url: str, branch: Branch) -> None:
    await secretary_on_telegram(db_url, branch)
    assert await roster(db_url, ["钱七", "机关第一党支部", "支委", "QianQi07", ""]) == 1
    code = branch.org.invite_code
    async with FakeDingTalk() as fake, ds.serving(db_url, fake):
        qian = ds.Chat(fake, "QianQi07", "钱七")
        assert t("join.welcome_account", name="钱七", org="机关第一党支部", platform="钉钉") in ds.texts(
            await qian.say(f"/join {code}"))
        assert "请选择学习形式" in ds.texts(await qian.say("/study"))
        # The same letters in other capitals are another DingTalk userid: a request, not 钱七's row.
        other = ds.Chat(fake, "qianqi07", "钱七")
        assert "请确认你的真实姓名" in ds.texts(await other.say(f"/join {code}"))
        # A stranger typing the roster's account as their name is asking as someone new.
        stranger = ds.Chat(fake, "zhangsan", "张三")
        assert "请确认你的真实姓名" in ds.texts(await stranger.say(f"/join {code}"))
        said = ds.texts(await stranger.say("QianQi07"))
        assert "已提交申请：以“QianQi07”加入“机关第一党支部”" in said
        assert ds.texts(await stranger.say("/study")) == t("auth.not_member")
    qian_row = (await rows(db_url, Member, Member.name == "钱七"))[0]
    assert qian_row.role is Role.committee  # the roster's role, at once
    bound = [(i.platform_user_id, i.member_id) for i in await rows(db_url, Identity, Identity.platform == "dingtalk")]
    assert bound == [("QianQi07", qian_row.id)]
    (request,) = await rows(db_url, JoinRequest)
    assert (request.platform_user_id, request.member_id, request.status) == ("zhangsan", None, JoinStatus.pending)
    (asked,) = await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_request")
    assert (asked.platform, asked.chat_id) == ("telegram", "7")
    assert "申请人：张三（钉钉：zhangsan）" in asked.payload["text"]


async def test_a_feishu_user_id_on_the_roster_binds_and_without_one_it_is_a_request(
        db_url: str, branch: Branch) -> None:
    qian_open_id = "ou_qianqi07000000001"  # the fake's user_id: the 8 characters after ou_
    await secretary_on_telegram(db_url, branch)
    assert await roster(db_url, ["钱七", "机关第一党支部", "支委", "", "qianqi07"],
                        ["李娜", "机关第一党支部", "党员", "", "lina0000"]) == 1
    code = branch.org.invite_code
    async with FakeFeishu() as fake, fs.serving(db_url, fake) as (_, served):
        qian = fs.Chat(fake, served, user=qian_open_id)
        assert t("join.welcome_account", name="钱七", org="机关第一党支部", platform="飞书") in fs.texts(
            await qian.say(f"/join {code}"))
        assert "请选择学习形式" in fs.texts(await qian.say("/study"))
        # Without the permission to read user ids Feishu sends only the open_id: 李娜 asks.
        fake.user_ids_readable = False
        lina = fs.Chat(fake, served)
        assert "请确认你的真实姓名" in fs.texts(await lina.say(f"/join {code}"))
        assert "已提交申请：以“李娜”加入“机关第一党支部”" in fs.texts(await lina.say("李娜"))
        # A stranger typing 钱七's user_id proves nothing either.
        fake.user_ids_readable = True
        stranger = fs.Chat(fake, served, user="ou_stranger0000000001")
        await stranger.say(f"/join {code}")
        assert "已提交申请：以“qianqi07”加入" in fs.texts(await stranger.say("qianqi07"))
    qian_row = (await rows(db_url, Member, Member.name == "钱七"))[0]
    assert qian_row.role is Role.committee
    bound = [(i.platform_user_id, i.member_id) for i in await rows(db_url, Identity, Identity.platform == "feishu")]
    assert bound == [(qian_open_id, qian_row.id)]  # the chat stays the open_id's
    asked = {(r.platform_user_id, r.member_id, r.status) for r in await rows(db_url, JoinRequest)}
    assert asked == {(fs.USER, branch.roster_only.id, JoinStatus.pending),
                     ("ou_stranger0000000001", None, JoinStatus.pending)}
    told = [m.payload["text"] for m in await rows(db_url, OutboxMessage, OutboxMessage.kind == "join_request")]
    # 李娜's row holds accounts the applicant did not show: her approver is warned, kind by kind.
    assert any(t("join.note_accounts", kinds="Telegram ID、企业微信账号、飞书账号") in text
               and f"申请人：—（飞书：{fs.USER}）" in text for text in told)


def test_the_console_and_the_command_line_join_by_approval(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    code = query(tmp_path, "select invite_code from organizations where name='机关第一党支部'")[0][0]
    env = {"BRANCHBOT_PUSHES_ENABLED": "false"}
    asked = cli(tmp_path, "chat", stdin=f"/join {code}\n刘新\n/study\n/quit\n", env=env)
    assert asked.returncode == 0, asked.stderr
    assert "已提交申请：以“刘新”加入“机关第一党支部”" in asked.stdout
    assert t("auth.not_member") in asked.stdout
    listing = cli(tmp_path, "member", "pending").stdout.splitlines()
    assert len(listing) == 2  # the demo's 孙晓, and 刘新 from the console
    assert "孙晓（控制台：visitor-1）申请以“孙晓”加入（名册：党员，支部书记审批）" in listing[0]
    new_id = listing[1].split()[0].lstrip("#")
    assert "刘新" in listing[1] and "不在名册中，作为党员" in listing[1]
    approved = cli(tmp_path, "member", "approve", new_id)
    assert approved.returncode == 0 and "✅ 已同意：新用户（控制台：newcomer）以“刘新”加入" in approved.stdout
    again = cli(tmp_path, "member", "reject", new_id)
    assert again.returncode == 0 and t("join.decided_already", status="已同意") in again.stdout
    missing = cli(tmp_path, "member", "approve", "999")
    assert missing.returncode == 1 and t("cli.no_such_request", id=999) in missing.stderr
    bad = cli(tmp_path, "member", "approve", "99999999999")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    studying = cli(tmp_path, "chat", stdin="/start\n/study\n/quit\n", env=env)
    assert "你好，刘新（机关第一党支部）" in studying.stdout and "请选择学习形式" in studying.stdout
    secretary = cli(tmp_path, "chat", "--as", "王建国", stdin="/pending\n1\n/quit\n", env=env)
    assert "认领名册：孙晓（党员）" in secretary.stdout
    assert "✅ 已同意：孙晓（控制台：visitor-1）以“孙晓”加入“机关第一党支部”" in secretary.stdout
    assert cli(tmp_path, "member", "pending").stdout.strip() == t("cli.pending_none")
    assert query(tmp_path, "select action, actor_id is null from audit_log where entity='join_request' "
                           "order by id") == [("request", 1), ("request", 1), ("approve", 1), ("approve", 0)]
