"""The fake Bot API server against real python-telegram-bot, over real HTTP."""

import asyncio
import datetime as dtm
import socket
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.botapi import FakeBotApi

USER = 1001
POLL_TIMEOUT = dtm.timedelta(seconds=10)
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("确认", callback_data="ok"),
            InlineKeyboardButton("稍后", callback_data="later"),
        ]
    ]
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(
        f"echo: {update.effective_message.text}", reply_markup=KEYBOARD
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"start {' '.join(context.args or [])}".strip())


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if query.data == "later":  # answer first, edit afterwards
        await query.answer()
        await query.edit_message_text("later")
    else:
        await query.edit_message_text(f"pressed {query.data}")
        await query.answer("收到")


def build_app(api: FakeBotApi) -> Application:
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    return app


async def stop_app(app: Application) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


@pytest.fixture
async def polling_app(api: FakeBotApi) -> AsyncIterator[Application]:
    app = build_app(api)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
    try:
        yield app
    finally:
        await stop_app(app)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- plain Bot


async def test_get_me(bot: Bot, api: FakeBotApi) -> None:
    me = await bot.get_me()
    assert (me.username, me.id, me.is_bot) == (api.bot_username, api.bot_id, True)
    assert api.calls[-1].method == "getMe"


async def test_send_message_records_buttons(bot: Bot, api: FakeBotApi) -> None:
    sent = await bot.send_message(USER, "请选择", reply_markup=KEYBOARD)
    call = api.calls[-1]
    assert (call.method, call.chat_id, call.text, call.message_id) == (
        "sendMessage",
        USER,
        "请选择",
        sent.message_id,
    )
    assert call.buttons() == [
        [{"text": "确认", "callback_data": "ok"}, {"text": "稍后", "callback_data": "later"}]
    ]
    assert api.last_message(USER).button_labels() == ["确认", "稍后"]
    assert (
        sent.reply_markup == KEYBOARD
        and sent.chat.type == "private"
        and sent.from_user.id == api.bot_id
    )


async def test_text_that_looks_like_json_stays_text(bot: Bot, api: FakeBotApi) -> None:
    await bot.send_message(USER, "123")
    assert api.last_message(USER).text == "123" and api.calls[-1].params["chat_id"] == USER


async def test_edit_message_text(bot: Bot, api: FakeBotApi) -> None:
    sent = await bot.send_message(USER, "第一版", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text(
        "第二版", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    [message] = api.messages_in(USER)
    assert (message.text, message.button_labels()) == ("第二版", ["确认", "稍后"])

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "第二版", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    await bot.edit_message_text(
        "第二版", chat_id=USER, message_id=sent.message_id
    )  # drops the keyboard
    assert api.last_message(USER).reply_markup is None
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert api.last_message(USER).button_labels() == ["确认", "稍后"]


async def test_edit_unknown_message(bot: Bot, api: FakeBotApi) -> None:
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    assert api.calls[-1].error == "Bad Request: message to edit not found"


async def test_send_document_upload_and_resend(bot: Bot, api: FakeBotApi) -> None:
    content = "台账,2024\n".encode() * 1000
    sent = await bot.send_document(
        USER, InputFile(content, filename="台账.csv"), caption="本周台账"
    )
    assert sent.document is not None and sent.document.file_name == "台账.csv"
    [doc] = api.documents
    assert (doc.file_name, doc.content, doc.chat_id, doc.caption) == (
        "台账.csv",
        content,
        USER,
        "本周台账",
    )

    await bot.send_document(USER, sent.document.file_id)
    assert api.documents[-1].content == content
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_user_document_is_downloadable(bot: Bot, api: FakeBotApi) -> None:
    api.push_document(USER, "report.xlsx", b"PK\x03\x04data", caption="报表")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert (update.message.document.file_name, update.message.caption) == ("report.xlsx", "报表")
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"PK\x03\x04data"


async def test_fail_next_retry_after(bot: Bot, api: FakeBotApi) -> None:
    api.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(USER, "hi")
    assert (
        str(excinfo.value) == "Flood control exceeded. Retry in 1 seconds"
    )  # .retry_after warns in PTB 22
    assert api.messages_in(USER) == []
    await bot.send_message(USER, "hi")  # only the next call failed
    assert api.last_message(USER).text == "hi"


async def test_wrong_token_and_unknown_method(bot: Bot, api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", base_url=api.base_url).get_me()
    assert api.calls[-1].error == "Unauthorized"
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_json_body_and_status_codes(api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{api.base_url}{api.token}"
        async with session.post(
            f"{url}/sendMessage", json={"chat_id": USER, "text": "json"}
        ) as response:
            body = await response.json()
            assert response.status == 200 and body["result"]["text"] == "json"
        async with session.post(f"{url}/nope") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with session.post(f"{api.base_url}1:bad/getMe") as response:
            assert (
                response.status == 401 and (await response.json())["description"] == "Unauthorized"
            )


async def test_my_commands(bot: Bot, api: FakeBotApi) -> None:
    await bot.set_my_commands([("study", "学习打卡"), ("visit", "调研走访")])
    assert [c.command for c in await bot.get_my_commands()] == ["study", "visit"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Study", "大写不行")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_webhook_bookkeeping(bot: Bot, api: FakeBotApi) -> None:
    api.push_message(USER, "queued")
    await bot.set_webhook(
        "http://127.0.0.1:9/unreachable", secret_token="abc", drop_pending_updates=True
    )
    assert (api.webhook_url, api.webhook_secret) == ("http://127.0.0.1:9/unreachable", "abc")
    with pytest.raises(Conflict):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("http://127.0.0.1:9/unreachable", 0)
    await bot.delete_webhook()
    assert api.webhook_url is None and await bot.get_updates() == ()


async def test_stop_ends_pending_long_poll(api: FakeBotApi) -> None:
    bot = Bot(api.token, base_url=api.base_url)
    await bot.initialize()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await until(lambda: api.waiting_polls == 1)
    started = time.monotonic()
    await api.stop()
    assert await poll == ()
    assert time.monotonic() - started < 1.5
    await bot.shutdown()


# --------------------------------------------------------------------------- Application, polling


async def test_polling_echo(api: FakeBotApi, polling_app: Application) -> None:
    calls = await api.say(USER, "你好", first_name="张三")
    assert [(c.method, c.text) for c in calls] == [("sendMessage", "echo: 你好")]
    assert calls[0].button_labels() == ["确认", "稍后"]

    [reply] = await api.say(USER, "/start@branchbot_test_bot 邀请码")
    assert reply.text == "start 邀请码"


async def test_polling_group_chat(api: FakeBotApi, polling_app: Application) -> None:
    [reply] = await api.say(
        USER, "群里好", chat_id=-100500, chat_type="supergroup", chat_title="第一支部"
    )
    assert reply.chat_id == -100500 and reply.text == "echo: 群里好"
    assert api.messages_in(USER) == []


async def test_polling_press(api: FakeBotApi, polling_app: Application) -> None:
    await api.say(USER, "菜单")
    calls = await api.press(USER, "确认")
    assert [c.method for c in calls] == ["editMessageText", "answerCallbackQuery"]
    assert calls[-1].text == "收到" and calls[-1].chat_id == USER
    assert api.last_message(USER).text == "pressed ok" and api.last_message(USER).buttons() == []

    with pytest.raises(AssertionError, match="no button '确认'"):
        await api.press(USER, "确认")


async def test_press_with_settle_sees_edits_after_the_answer(
    api: FakeBotApi, polling_app: Application
) -> None:
    await api.say(USER, "菜单")
    assert [c.method for c in await api.press(USER, "稍后", settle=0.1)] == [
        "answerCallbackQuery",
        "editMessageText",
    ]
    assert api.last_message(USER).text == "later"


async def test_long_poll_answers_promptly(api: FakeBotApi, polling_app: Application) -> None:
    await until(lambda: api.waiting_polls == 1)
    await asyncio.sleep(0.2)  # well inside the 10 s long poll
    since = len(api.calls)
    pushed = time.monotonic()
    await api.say(USER, "mid-poll", settle=0)
    poll = await api.wait_for(lambda c: c.method == "getUpdates", since=since)
    assert poll.params["timeout"] == 10
    assert poll.at - pushed < 0.5


async def test_polling_shutdown_is_prompt_and_clean(api: FakeBotApi) -> None:
    app = build_app(api)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
    await api.say(USER, "before shutdown")
    await until(lambda: api.waiting_polls == 1)

    started = time.monotonic()
    await stop_app(app)
    await api.stop()
    assert time.monotonic() - started < 1.5
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []


# --------------------------------------------------------------------------- Application, webhook


async def test_webhook_delivery(api: FakeBotApi) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hook"
    app = build_app(api)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=hook, secret_token="s3cret"
    )
    try:
        set_call = next(c for c in api.calls if c.method == "setWebhook")
        assert set_call.params["url"] == hook and set_call.params["secret_token"] == "s3cret"
        assert (api.webhook_url, api.webhook_secret) == (hook, "s3cret")

        [reply] = await api.say(USER, "经由 webhook")
        assert reply.text == "echo: 经由 webhook"
        assert api.webhook_deliveries[-1].status == 200

        async with aiohttp.ClientSession() as session:
            update = {
                "update_id": 99,
                "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
            }
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with session.post(hook, json=update, headers=headers) as response:
                assert response.status == 403
    finally:
        await stop_app(app)


async def test_failed_webhook_deliveries_are_retried_in_order_when_asked(api: FakeBotApi) -> None:
    """Opt-in, as Telegram does: an update the webhook did not take goes again before the next."""
    received: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        update_id = (await request.json())["update_id"]
        received.append(update_id)
        return web.Response(status=500 if received.count(update_id) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        api.retry_failed_webhooks(delay=0.01, attempts=3)
        async with Bot(api.token, base_url=api.base_url) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        first, second = api.push_message(USER, "一"), api.push_message(USER, "二")
        await until(lambda: len(api.webhook_deliveries) == 4)
        assert received == [first, first, second, second]
        assert [(d.update_id, d.status) for d in api.webhook_deliveries] == [
            (first, 500), (first, 200), (second, 500), (second, 200)]
    finally:
        await runner.cleanup()
