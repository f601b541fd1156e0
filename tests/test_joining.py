"""Joining without taking a role by typing a name (#11 item 1), in-process on SQLite and
PostgreSQL: requests, who approves them, deciding once, a bound row not claimed again, the audit
log, /pending, group chats bound to another branch, and the roster's platform accounts. The
adapters' own paths (accounts Telegram, WeCom, DingTalk and Feishu vouch for, the console) are
in test_joining_e2e.py."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.dingtalk.bot import pressed as dingtalk_pressed
from bot.adapters.dingtalk.events import CardPress
from bot.adapters.feishu.bot import pressed as feishu_pressed
from bot.adapters.feishu.events import CardAction, EventHeader, UserIds
from bot.runtime.app import App, build_app
from handlers.core.buttons import JoinDecision
from handlers.core.events import Account, Incoming
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.membership import accounts
from handlers.membership.roster import RosterError, import_roster
from storage.db import session_factory
from storage.models import (
    AccountKind,
    AuditLog,
    GroupChat,
    Identity,
    JoinRequest,
    JoinStatus,
    Member,
    MemberAccount,
    OutboxMessage,
    Role,
)
from tests.chat_driver import CoreChat
from tests.conftest import Branch, make_settings
from tests.joining import (
    add_member,
    bound_chat,
    join_approved,
    office_member,
    told,
)

CODE_OF = lambda branch: branch.org.invite_code  # noqa: E731


async def rows(app: App, model: type, *where: object) -> list:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def count(app: App, model: type, *where: object) -> int:
    async with session_factory(app.engine)() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def ask(app: App, code: str, user_id: str, name: str, display: str = "陌生人") -> CoreChat:
    """Open the invite as ``display`` and type ``name``: a request."""
    chat = CoreChat(app.core, user_id, display)
    await chat.say(f"/join {code}")
    assert "请确认你的真实姓名" in chat.text
    await chat.say(name)
    return chat


async def asks_for(app: App, chat_id: str) -> list[OutboxMessage]:
    return await rows(app, OutboxMessage, OutboxMessage.chat_id == chat_id,
                      OutboxMessage.kind == "join_request")


def buttons_of(message: OutboxMessage) -> dict[str, str]:
    return {b["label"]: b["data"] for row in message.payload["buttons"] for b in row}


async def test_a_stranger_typing_the_secretarys_name_gets_no_role(app: App, branch: Branch) -> None:
    office = await bound_chat(app, await office_member(app, branch), "office")
    stranger = await ask(app, CODE_OF(branch), "6666", "王书记")
    assert stranger.text == t("join.requested", name="王书记", org="机关第一党支部",
                              decider="主题教育办公室")  # a 支部书记 row: the office decides
    for command in ("/problems", "/summary", "/study", "/mine", "/meeting", "/report", "/pending"):
        await stranger.say(command)
        assert stranger.text == t("auth.not_member"), command
    await stranger.say("/start")
    assert "正在等待主题教育办公室审批" in stranger.text
    await stranger.say(f"/join {CODE_OF(branch)}")
    assert "正在等待" in stranger.text  # one open request per account
    assert await count(app, Identity, Identity.platform_user_id == "6666") == 0
    (request,) = await rows(app, JoinRequest)
    assert (request.member_id, request.status, request.display_name) == (
        branch.secretary.id, JoinStatus.pending, "陌生人")
    (asked,) = await asks_for(app, "office")
    assert "申请人：陌生人（test：6666）" in asked.payload["text"]
    assert "认领名册：王书记（支部书记）" in asked.payload["text"]
    assert "王书记（支部书记）" in asked.payload["text"] and list(buttons_of(asked)) == ["同意", "拒绝"]
    await office.press_data(buttons_of(asked)["拒绝"])
    assert office.replies[0].edit and office.text.startswith("已拒绝：陌生人（test：6666）")
    assert t("join.rejected_notice", name="王书记", org="机关第一党支部") in await told(app, "6666")
    await stranger.say("/problems")
    assert stranger.text == t("auth.not_member")


async def test_the_branch_secretary_approves_a_member_once(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    newcomer = await ask(app, CODE_OF(branch), "2002", "李娜", display="Lina W")
    assert "支部书记审批后会通知你" in newcomer.text
    (asked,) = await asks_for(app, "7")
    assert "认领名册：李娜（党员）" in asked.payload["text"]
    # the roster carries her Telegram and WeCom accounts: the approver is warned these differ
    assert "名册为此人登记了Telegram ID、企业微信账号，与申请人的不一致" in asked.payload["text"]
    yes = buttons_of(asked)["同意"]
    member = await join_approved(app, CODE_OF(branch), "3003", "张伟")  # 党员 of the branch
    await member.press_data(yes)
    assert member.notice == t("join.not_decider")  # a 党员 decides nothing
    other_secretary = await bound_chat(app, await add_member(app, branch.other.id, "赵敏", Role.secretary), "8")
    await other_secretary.press_data(yes)
    assert other_secretary.notice == t("join.not_decider")  # not her branch
    await secretary.press_data(yes)
    assert secretary.text == "✅ 已同意：Lina W（test：2002）以“李娜”加入“机关第一党支部”。"
    await secretary.press_data(yes)  # a doubled tap
    assert secretary.text == t("join.decided_already", status="已同意")
    await newcomer.say("/start")
    assert "你好，李娜（机关第一党支部）" in newcomer.text
    (identity,) = await rows(app, Identity, Identity.platform_user_id == "2002")
    assert identity.member_id == branch.roster_only.id
    (request,) = await rows(app, JoinRequest, JoinRequest.platform_user_id == "2002")
    audited = [(a.action, a.actor_id, a.after["status"]) for a in await rows(
        app, AuditLog, AuditLog.entity == "join_request", AuditLog.entity_id == request.id)]
    assert audited == [("request", None, "pending"), ("approve", branch.secretary.id, "approved")]


async def test_requests_of_leaders_are_the_offices(app: App, branch: Branch) -> None:
    committee = await add_member(app, branch.org.id, "张委员", Role.committee)
    secretary = await bound_chat(app, branch.secretary, "7")
    office = await bound_chat(app, await office_member(app, branch), "office")
    await ask(app, CODE_OF(branch), "4004", "张委员")
    assert await asks_for(app, "7") == []  # the secretary does not hear of a 支委's request
    (asked,) = await asks_for(app, "office")
    await secretary.press_data(buttons_of(asked)["同意"])
    assert secretary.notice == t("join.not_decider")
    await secretary.say("/pending")
    assert secretary.text == t("join.pending_none")
    await office.say("/pending")
    assert office.replies[0].text == t("join.pending_head", count=1)
    assert [b.label for b in office.replies[1].buttons[0]] == ["同意", "拒绝"]
    await office.press("同意")
    assert office.text.startswith("✅ 已同意")
    (identity,) = await rows(app, Identity, Identity.platform_user_id == "4004")
    assert identity.member_id == committee.id


async def test_a_name_not_on_the_roster_joins_as_a_member_once_approved(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    await ask(app, CODE_OF(branch), "5005", "钱七")
    assert await count(app, Member, Member.name == "钱七") == 0  # nobody is added by asking
    (asked,) = await asks_for(app, "7")
    assert "填写的姓名：钱七（不在名册中，同意后作为党员加入）" in asked.payload["text"]
    await secretary.say("/pending")
    await secretary.press("同意")
    (member,) = await rows(app, Member, Member.name == "钱七")
    assert member.role is Role.member and member.org_id == branch.org.id


async def test_a_bound_row_is_not_claimed_again(app: App, branch: Branch) -> None:
    await bound_chat(app, branch.secretary, "7")
    await join_approved(app, CODE_OF(branch), "1001", "李娜")
    for attempt in range(2):
        impostor = await ask(app, CODE_OF(branch), "6666", "李娜")
        assert impostor.text == t("join.row_taken", name="李娜"), attempt
    assert await count(app, JoinRequest, JoinRequest.platform_user_id == "6666") == 0
    warned = await rows(app, OutboxMessage, OutboxMessage.kind == "join_claim")
    assert [m.chat_id for m in warned] == ["7"]  # once per row and account
    assert "试图认领名册中已绑定账号的“李娜”（机关第一党支部）：陌生人（test：6666）" in warned[0].payload["text"]
    refused = await rows(app, AuditLog, AuditLog.action == "claim_refused")
    assert len(refused) == 2 and refused[0].entity_id == branch.roster_only.id


async def test_two_claims_of_one_row_bind_one(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    first = await ask(app, CODE_OF(branch), "2002", "李娜")
    await ask(app, CODE_OF(branch), "6666", "李娜")
    first_ask, second_ask = await asks_for(app, "7")
    await secretary.press_data(buttons_of(first_ask)["同意"])
    assert secretary.text.startswith("✅ 已同意")
    await secretary.press_data(buttons_of(second_ask)["同意"])
    assert secretary.text == t("join.decided_already", status="已作废")
    assert t("join.superseded_notice", name="李娜") in await told(app, "6666")
    await first.say("/start")
    assert "你好，李娜" in first.text
    assert await count(app, Identity, Identity.member_id == branch.roster_only.id) == 1


async def test_a_row_bound_meanwhile_voids_the_request(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    await ask(app, CODE_OF(branch), "6666", "李娜")
    await bound_chat(app, branch.roster_only, "1001")  # bound otherwise (an account, the operator)
    (asked,) = await asks_for(app, "7")
    await secretary.press_data(buttons_of(asked)["同意"])
    assert secretary.text == t("join.decided_taken", name="李娜")
    (request,) = await rows(app, JoinRequest)
    assert request.status is JoinStatus.superseded
    assert await count(app, Identity, Identity.platform_user_id == "6666") == 0


async def test_two_approvers_at_once_decide_once(db_url: str, branch: Branch, app: App) -> None:
    """The secretary and the office press 同意 and 拒绝 on separate workers at the same moment."""
    await bound_chat(app, branch.secretary, "7")
    await bound_chat(app, await office_member(app, branch), "office")
    await ask(app, CODE_OF(branch), "2002", "李娜")
    (request,) = await rows(app, JoinRequest)
    apps = [build_app(make_settings(db_url)) for _ in range(2)]
    try:
        events = [Incoming(platform="test", user_id=who, user_name=who, chat_id=who, is_private=True,
                           callback_data=JoinDecision(request.id, yes).pack(), message_id="1")
                  for who, yes in (("7", True), ("office", False))]
        outcomes = await asyncio.gather(*(a.core.handle(e) for a, e in zip(apps, events, strict=True)))
    finally:
        for bot_app in apps:
            await bot_app.close()
    said = [o.replies[0].text for o in outcomes]
    decided = [text for text in said if not text.startswith("这条申请已经处理过了")]
    assert len(decided) == 1, said
    (request,) = await rows(app, JoinRequest)
    joined = await count(app, Identity, Identity.platform_user_id == "2002")
    assert (request.status, joined) in ((JoinStatus.approved, 1), (JoinStatus.rejected, 0))
    decisions = await rows(app, AuditLog, AuditLog.action.in_(("approve", "reject")))
    assert len(decisions) == 1


async def test_no_secretary_yet_the_office_hears(app: App, branch: Branch) -> None:
    await bound_chat(app, await office_member(app, branch), "office")
    await ask(app, CODE_OF(branch), "2002", "李娜")
    assert len(await asks_for(app, "office")) == 1


async def test_the_secretary_hears_on_each_platform(app: App, branch: Branch) -> None:
    await bound_chat(app, branch.secretary, "7", platform="telegram")
    await bound_chat(app, branch.secretary, "wangshuji", platform="wecom")
    await ask(app, CODE_OF(branch), "2002", "李娜")
    asked = await rows(app, OutboxMessage, OutboxMessage.kind == "join_request")
    assert sorted((m.platform, m.chat_id) for m in asked) == [("telegram", "7"), ("wecom", "wangshuji")]


async def test_bindgroup_moves_a_group_of_another_branch_only_for_its_leaders(app: App,
                                                                             branch: Branch) -> None:
    await bound_chat(app, branch.secretary, "7")
    other_secretary = await add_member(app, branch.other.id, "赵敏", Role.secretary)
    await bound_chat(app, other_secretary, "8")
    await bound_chat(app, await office_member(app, branch), "office")
    in_group = {who: CoreChat(app.core, who, who, chat_id="-42", private=False)
                for who in ("7", "8", "office")}
    await in_group["7"].say(f"/bindgroup {CODE_OF(branch)}")
    assert in_group["7"].text == t("bindgroup.done", org="机关第一党支部")
    await in_group["8"].say(f"/bindgroup {branch.other.invite_code}")  # the other branch's secretary
    assert in_group["8"].text == t("bindgroup.bound_elsewhere", org="机关第一党支部")
    (group,) = await rows(app, GroupChat)
    assert group.org_id == branch.org.id  # not moved
    await in_group["7"].say(f"/bindgroup {CODE_OF(branch)}")  # its own secretary again: kept
    assert in_group["7"].text == t("bindgroup.done", org="机关第一党支部")
    await in_group["office"].say(f"/bindgroup {branch.other.invite_code}")
    assert in_group["office"].text == t("bindgroup.done", org="机关第二党支部")
    (group,) = await rows(app, GroupChat)
    assert group.org_id == branch.other.id
    await in_group["7"].say(f"/bindgroup {CODE_OF(branch)}")  # now it is the other branch's
    assert in_group["7"].text == t("bindgroup.bound_elsewhere", org="机关第二党支部")
    audited = [(a.action, a.before and a.before["org_id"], a.after["org_id"])
               for a in await rows(app, AuditLog, AuditLog.entity == "group_chat")]
    assert audited == [("bind", None, branch.org.id), ("rebind", branch.org.id, branch.org.id),
                       ("rebind", branch.org.id, branch.other.id)]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    return path


async def imported(app: App, path: Path) -> int:
    async with session_factory(app.engine)() as session, session.begin():
        return await import_roster(t, session, path)


async def refusals(app: App, path: Path) -> list[str]:
    """What the roster import refuses in the file, line by line (it imports nothing then)."""
    with pytest.raises(RosterError) as refused:
        await imported(app, path)
    return refused.value.problems


async def test_the_roster_carries_platform_accounts(app: App, branch: Branch, tmp_path: Path) -> None:
    header = ["姓名", "支部", "角色", "企业微信账号", "Telegram", "手机号"]
    roster = write_csv(tmp_path / "r.csv", [
        header,
        ["钱七", "机关第一党支部", "党员", "QianQi", "@Qian_Qi", "138 1234 5678"],
        ["孙八", "机关第一党支部", "支委", "", "123456789", "+85291234567"],
        ["李娜", "机关第一党支部", "党员", "", "", ""],  # empty cells keep what she had
    ])
    assert await imported(app, roster) == 2
    held = {(a.member_id, a.kind, a.value) for a in await rows(app, MemberAccount)}
    qian = (await rows(app, Member, Member.name == "钱七"))[0].id
    sun = (await rows(app, Member, Member.name == "孙八"))[0].id
    assert {(qian, AccountKind.wecom, "qianqi"), (qian, AccountKind.telegram_username, "qian_qi"),
            (qian, AccountKind.phone, "+8613812345678"), (sun, AccountKind.telegram, "123456789"),
            (sun, AccountKind.phone, "+85291234567"),
            (branch.roster_only.id, AccountKind.telegram, "1001")} <= held
    assert await imported(app, roster) == 0  # the same file again: nothing new, nothing refused
    bad = write_csv(tmp_path / "bad.csv", [
        header,
        ["周九", "机关第一党支部", "党员", "有 空格", "@a", "12345"],
        ["郑一", "机关第一党支部", "党员", "zheng1", "", ""],
        ["王二", "机关第一党支部", "党员", "ZHENG1", "", ""],  # the line above's, in capitals
    ])
    assert await refusals(app, bad) == [
        t("roster.bad_wecom", line=2, value="有 空格"), t("roster.bad_telegram", line=2, value="@a"),
        t("roster.bad_phone", line=2, value="12345"),
        t("roster.account_repeated", line=4, column="企业微信账号", value="zheng1", other=3)]
    taken = write_csv(tmp_path / "taken.csv", [
        header,
        ["吴十", "机关第一党支部", "党员", "LiNa", "", ""],  # 李娜's WeCom userid
        ["郑一", "机关第一党支部", "党员", "zheng1", "", "13812345678"],  # 钱七's phone
    ])
    assert await refusals(app, taken) == [
        t("roster.account_taken", line=2, column="企业微信账号", value="lina", holder="李娜",
          org="机关第一党支部"),
        t("roster.account_taken", line=3, column="手机号", value="+8613812345678", holder="钱七",
          org="机关第一党支部")]
    assert await count(app, Member, Member.name.in_(("周九", "吴十", "郑一", "王二"))) == 0


async def test_the_roster_carries_dingtalk_and_feishu_accounts(app: App, branch: Branch,
                                                               tmp_path: Path) -> None:
    header = ["姓名", "支部", "角色", "钉钉账号", "飞书账号"]
    roster = write_csv(tmp_path / "r.csv", [
        header,
        ["钱七", "机关第一党支部", "支委", " QianQi07 ", "5d9bdxxx"],
        ["孙八", "机关第一党支部", "党员", "qianqi07", "u273y71"],  # another userid: case counts
        ["李娜", "机关第一党支部", "党员", "", ""],
    ])
    assert await imported(app, roster) == 2
    qian = (await rows(app, Member, Member.name == "钱七"))[0]
    sun = (await rows(app, Member, Member.name == "孙八"))[0]
    held = {(a.member_id, a.kind, a.value) for a in await rows(app, MemberAccount,
                                                                MemberAccount.kind.in_(("dingtalk", "feishu")))}
    assert held == {(qian.id, AccountKind.dingtalk, "QianQi07"), (qian.id, AccountKind.feishu, "5d9bdxxx"),
                    (sun.id, AccountKind.dingtalk, "qianqi07"), (sun.id, AccountKind.feishu, "u273y71")}
    assert qian.role is Role.committee
    # The aliases of the columns, and every bad cell named by its line.
    bad = write_csv(tmp_path / "bad.csv", [
        ["姓名", "支部", "角色", "钉钉ID", "Lark"],
        ["周九", "机关第一党支部", "党员", "有 空格", "ou_7d8a6e6df7621556ce0d21922b676706"],  # an open_id
        ["郑一", "机关第一党支部", "党员", "d" * 65, "1.2345678901234568e+17"],  # Excel's long number
        ["王二", "机关第一党支部", "党员", "zheng1", "飞书"],
        ["吴十", "机关第一党支部", "党员", "zheng1", "wushi"],
    ])
    problems = await refusals(app, bad)
    assert problems == [
        t("roster.bad_dingtalk", line=2, value="有 空格"),
        t("roster.bad_feishu", line=2, value="ou_7d8a6e6df7621556ce0d21922b676706"),
        t("roster.bad_dingtalk", line=3, value="d" * 65),
        t("roster.bad_feishu", line=3, value="1.2345678901234568e+17"),
        t("roster.bad_feishu", line=4, value="飞书"),
        t("roster.account_repeated", line=5, column="钉钉ID", value="zheng1", other=4)]
    assert "第2行：钉钉账号“有 空格”格式不对" in problems[0]
    taken = write_csv(tmp_path / "taken.csv", [
        ["姓名", "支部", "角色", "钉钉", "feishu"],
        ["吴十", "机关第一党支部", "党员", "QianQi07", ""],  # 钱七's userid
        ["李娜", "机关第一党支部", "党员", "", "u273y71"],  # 孙八's user_id
    ])
    assert await refusals(app, taken) == [
        t("roster.account_taken", line=2, column="钉钉", value="QianQi07", holder="钱七",
          org="机关第一党支部"),
        t("roster.account_taken", line=3, column="feishu", value="u273y71", holder="孙八",
          org="机关第一党支部")]
    assert await count(app, Member, Member.name.in_(("周九", "郑一", "王二", "吴十"))) == 0


@pytest.mark.parametrize(("cell", "read"), [
    ("13812345678", "+8613812345678"), ("138-1234-5678", "+8613812345678"),
    ("+86 138 1234 5678", "+8613812345678"), ("8613812345678", "+8613812345678"),
    ("0085291234567", "+85291234567"), ("12345678", None), ("23812345678", None), ("", None),
    ("１３８１２３４５６７８", None),  # full-width digits are not a number a platform sends
])
def test_roster_phone_numbers(cell: str, read: str | None) -> None:
    assert accounts.phone(cell) == read


@pytest.mark.parametrize(("cell", "read"), [
    ("123456789", (AccountKind.telegram, "123456789")), ("@Li_Na", (AccountKind.telegram_username, "li_na")),
    ("https://t.me/LiNa2023", (AccountKind.telegram_username, "lina2023")),
    ("lina_w", (AccountKind.telegram_username, "lina_w")), ("0123", None), ("@a", None),
    ("@" + "a" * 33, None), ("李娜", None),
])
def test_roster_telegram_cells(cell: str, read: object) -> None:
    assert accounts.telegram(cell) == read


def test_only_what_the_platform_vouches_for_counts() -> None:
    event = Incoming(platform="telegram", user_id="7", user_name="x", chat_id="7", is_private=True,
                     text="13812345678", accounts=(Account("telegram", "7"),
                                                   Account("telegram_username", "@Wang_ShuJi"),
                                                   Account("phone", "8613812345678"),
                                                   Account("unknown", "x"), Account("telegram", "x7")))
    assert accounts.attested(event) == [(AccountKind.telegram, "7"),
                                        (AccountKind.telegram_username, "wang_shuji"),
                                        (AccountKind.phone, "+8613812345678")]
    typed = Incoming(platform="telegram", user_id="7", user_name="x", chat_id="7", is_private=True,
                     text="13812345678")
    assert accounts.attested(typed) == []
    others = Incoming(platform="dingtalk", user_id="QianQi07", user_name="x", chat_id="QianQi07",
                      is_private=True, text="zhangsan",
                      accounts=(Account("dingtalk", "QianQi07"), Account("feishu", "u273y71"),
                                Account("dingtalk", "有 空格"), Account("feishu", "ou_123")))
    assert accounts.attested(others) == [(AccountKind.dingtalk, "QianQi07"), (AccountKind.feishu, "u273y71")]


def test_a_press_carries_the_account_the_platform_gives_the_presser() -> None:
    """A card press on DingTalk carries the presser's userid; on Feishu the operator's user_id
    when the app may read it (nothing otherwise); never an id from the card's own content."""
    press = CardPress(out_track_id="t1", user_id="QianQi07", space_type="IM_ROBOT", space_id="QianQi07",
                      action_ids=(), params={"value": "/start join-u273y71"}, message_id="m1")
    assert dingtalk_pressed(press, "钱七").accounts == (Account("dingtalk", "QianQi07"),)
    header = EventHeader("e1", "card.action.trigger", 0, "cli_a", "tenant", "token")

    def action(operator: UserIds) -> CardAction:
        return CardAction(header=header, operator=operator, token="c-1", open_message_id="om_1",
                          open_chat_id=None, tag="button", value={"k": "/start", "user_id": "other"})
    with_id = feishu_pressed(action(UserIds("ou_qian", user_id="u273y71")))
    assert accounts.attested(with_id) == [(AccountKind.feishu, "u273y71")]
    assert feishu_pressed(action(UserIds("ou_qian"))).accounts == ()
