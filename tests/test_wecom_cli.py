"""The WeCom side of the command line: `branchbot run` serving the callback URL as its own process,
configured by environment variables only; `branchbot group set-webhook`; missing settings."""

from __future__ import annotations

import os
from pathlib import Path

from handlers.core.i18n import DEFAULT_TEXTS as t
from tests.conftest import Branch
from tests.test_cli import cli, query, run_process
from tests.test_telegram_e2e import free_port, wait_listening
from tests.wecom_support import USER, join, texts
from tests.wecomapi import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom


async def test_run_serves_the_callback_url(fake: FakeWeCom, db_url: str, branch: Branch,
                                           tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update({
        "BRANCHBOT_DATABASE_URL": db_url, "BRANCHBOT_PLATFORM": "wecom",
        "BRANCHBOT_WECOM_CORP_ID": CORP_ID, "BRANCHBOT_WECOM_AGENT_ID": str(AGENT_ID),
        "BRANCHBOT_WECOM_SECRET": fake.secret, "BRANCHBOT_WECOM_TOKEN": TOKEN,
        "BRANCHBOT_WECOM_AES_KEY": AES_KEY, "BRANCHBOT_WECOM_PORT": str(port),
        "BRANCHBOT_WECOM_PATH": "/wx/cb", "BRANCHBOT_WECOM_API_BASE_URL": fake.base_url,
        "BRANCHBOT_PUSHES_ENABLED": "true",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    })
    async with run_process(tmp_path, env):
        await wait_listening(port, timeout=30)
        fake.callback_url = f"http://127.0.0.1:{port}/wx/cb"
        await join(fake, branch.org.invite_code)
        calls = await fake.say(USER, "/study")
        assert "请选择学习形式" in texts(calls)


def test_run_names_the_missing_wecom_settings(tmp_path: Path) -> None:
    result = cli(tmp_path, "run", env={"BRANCHBOT_PLATFORM": "wecom",
                                       "BRANCHBOT_WECOM_CORP_ID": CORP_ID})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "BRANCHBOT_WECOM_SECRET" in result.stderr and "BRANCHBOT_WECOM_CORP_ID" not in result.stderr


def test_set_webhook_stores_the_group_robot(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    branch = query(tmp_path, "SELECT name FROM organizations WHERE kind = 'branch' ORDER BY id")[0][0]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"
    result = cli(tmp_path, "group", "set-webhook", branch, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == t("wecom.webhook_set", org=branch)
    assert cli(tmp_path, "group", "set-webhook", branch, url + "-2").returncode == 0  # changed
    rows = query(tmp_path, "SELECT platform, chat_id, webhook_url FROM group_chats "
                           "WHERE platform = 'wecom'")
    assert len(rows) == 1 and rows[0][1].startswith("robot:") and rows[0][2] == url + "-2"
    for args, message in (((branch, "ftp://example.com/x"), t("wecom.bad_webhook")),
                          (("没有这个支部", url), t("cli.no_such_branch", name="没有这个支部"))):
        refused = cli(tmp_path, "group", "set-webhook", *args)
        assert refused.returncode == 1 and refused.stderr.strip().endswith(message)
        assert "Traceback" not in refused.stderr
