"""A fake Telegram Bot API server on loopback, for tests and benchmarks.

It speaks real HTTP (JSON, urlencoded and multipart requests), so python-telegram-bot's own
request stack, polling loop and webhook path run unchanged against it. Tests drive it the way a
Telegram user would (``push_message``, ``press``, ``say``) and observe what the bot did through
``calls``, ``messages_in`` and ``documents``.

Deliberate simplifications: ``parse_mode`` is not interpreted (text is stored as sent), only
inline keyboards are kept on messages (as Telegram does), a webhook delivery that fails is
recorded and not retried (unless ``retry_failed_webhooks`` asks for Telegram's retries), and a message to a chat the fake has not seen creates that chat
(private for a positive id, a group otherwise) instead of answering "chat not found".
"""

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

#: Methods that send a new message, checked against blocked chats and the limits.
_SEND_METHODS = frozenset({"sendMessage", "sendDocument"})

#: Bot methods that put something visible in a chat; ``say`` waits for the first of these.
OUTPUT_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}
)

# Form fields PTB sends as raw strings; everything else it JSON-encodes. Kept as str so that a
# text such as "123" or "true" is not turned into a number or a bool.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "document",
        "language_code",
        "ip_address",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _inline_rows(markup: JSONDict | None) -> list[list[JSONDict]]:
    if not markup:
        return []
    return list(markup.get("inline_keyboard", []))


def _labels(markup: JSONDict | None) -> list[str]:
    return [str(button.get("text")) for row in _inline_rows(markup) for button in row]


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as it appears in ``Call.params``."""

    file_name: str
    mime_type: str
    content: bytes


@dataclass
class Call:
    """One Bot API call made by the bot, recorded once the fake has answered it."""

    method: str
    chat_id: int | None
    text: str | None
    reply_markup: JSONDict | None
    message_id: int | None
    params: JSONDict
    at: float
    #: the error description when the fake answered with an error, else None
    error: str | None = None

    def buttons(self) -> list[list[JSONDict]]:
        return _inline_rows(self.reply_markup)

    def button_labels(self) -> list[str]:
        return _labels(self.reply_markup)


@dataclass
class Message:
    """A message sent by the bot, in its current state (edits applied)."""

    message_id: int
    chat_id: int
    date: int
    text: str | None = None
    reply_markup: JSONDict | None = None
    caption: str | None = None
    document: JSONDict | None = None
    edit_date: int | None = None

    def buttons(self) -> list[list[JSONDict]]:
        return _inline_rows(self.reply_markup)

    def button_labels(self) -> list[str]:
        return _labels(self.reply_markup)


@dataclass(frozen=True)
class SentDocument:
    file_name: str
    content: bytes
    chat_id: int
    caption: str | None
    mime_type: str
    message_id: int


@dataclass(frozen=True)
class WebhookDelivery:
    """The outcome of POSTing one update to the webhook (status None: connection failed)."""

    update_id: int
    status: int | None
    error: str | None


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes

    def document(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


@dataclass
class _Chat:
    info: JSONDict
    messages: dict[int, Message] = field(default_factory=dict)
    message_ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))


class ApiError(Exception):
    """An error answer, shaped as Telegram sends it."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class _Signal:
    """Wakes every current waiter. ``notify`` is synchronous so the ``push_*`` methods can be."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


def _bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


class FakeBotApi:
    """The Bot API of one bot, served on 127.0.0.1 at a free port."""

    def __init__(
        self, token: str = "123456:TEST-TOKEN", bot_username: str = "branchbot_test_bot"
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.calls: list[Call] = []
        self.documents: list[SentDocument] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        #: (scope as sorted JSON, language_code) -> commands, as set by setMyCommands
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._delivery_task: asyncio.Task[None] | None = None
        self._closing = False

        self._updates: deque[JSONDict] = deque()
        self._deliveries: asyncio.Queue[JSONDict] = asyncio.Queue()
        self._update_ids = itertools.count(1)
        self._updates_signal = _Signal()
        self._calls_signal = _Signal()
        self._poll_generation = 0
        self._waiting_polls = 0
        self._last_webhook_error: tuple[int, str] | None = None
        self._webhook_retry: tuple[float, int] | None = None  # (delay, attempts), see below

        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_001)
        self._query_chats: dict[str, int] = {}
        self._unanswered_queries: set[str] = set()
        self._failures: dict[str, deque[tuple[float, ApiError]]] = {}
        self._limits: tuple[int, int, int] | None = None
        self._group_window = 60.0
        self._sent_all: deque[float] = deque()
        self._sent_chat: dict[int, deque[float]] = {}
        #: 429s answered because a limit set by ``enforce_limits`` was exceeded
        self.limit_violations = 0
        #: chats that blocked the bot (403) or no longer exist (400 chat not found)
        self.blocked_chats: set[int] = set()
        self.gone_chats: set[int] = set()

        api_methods: list[tuple[str, Callable[[JSONDict], Awaitable[Any]]]] = [
            ("getMe", self._api_get_me),
            ("getUpdates", self._api_get_updates),
            ("sendMessage", self._api_send_message),
            ("editMessageText", self._api_edit_message_text),
            ("editMessageReplyMarkup", self._api_edit_message_reply_markup),
            ("answerCallbackQuery", self._api_answer_callback_query),
            ("sendDocument", self._api_send_document),
            ("getFile", self._api_get_file),
            ("setWebhook", self._api_set_webhook),
            ("deleteWebhook", self._api_delete_webhook),
            ("getWebhookInfo", self._api_get_webhook_info),
            ("setMyCommands", self._api_set_my_commands),
            ("getMyCommands", self._api_get_my_commands),
            ("deleteMyCommands", self._api_delete_my_commands),
            ("close", self._api_close),
            ("logOut", self._api_log_out),
        ]
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, impl) for name, impl in api_methods}

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._delivery_task = asyncio.create_task(
            self._deliver_webhooks(), name="FakeBotApi:webhook"
        )

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered at once (with no updates)."""
        self._closing = True
        self._updates_signal.notify()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
            self._delivery_task = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeBotApi":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (PTB appends the token)."""
        return f"{self._root()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self._root()}/file/bot"

    @property
    def waiting_polls(self) -> int:
        """How many getUpdates requests are parked in a long poll right now."""
        return self._waiting_polls

    def _root(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self._port}"

    # ----------------------------------------------------------------- driving

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "用户",
        last_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
    ) -> int:
        """A user's text message; a leading "/word" gets a bot_command entity."""
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        self._users[user_id] = user
        chat_id = user_id if chat_id is None else chat_id
        if chat_type == "private":
            info = {k: v for k, v in user.items() if k in ("first_name", "last_name", "username")}
        else:
            info = {"title": chat_title or "测试群"}
        chat = self._chats.setdefault(chat_id, _Chat({}))
        chat.info = {"id": chat_id, "type": chat_type, **info}

        message = self._user_message(chat, user, text=text)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            length = len(command.encode("utf-16-le")) // 2  # entity offsets count UTF-16 units
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push_update({"message": message})

    def push_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "用户",
    ) -> int:
        """A press on a button of a bot message; ``first_name`` only names a user not seen yet."""
        return self._push_callback(
            user_id, data, message_id=message_id, chat_id=chat_id, first_name=first_name
        )[0]

    def push_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        chat_id: int | None = None,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        """A user's file, downloadable by the bot through getFile."""
        user = self._known_user(user_id, "用户")
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chat(chat_id, user["first_name"] if chat_id == user_id else None)
        stored = self._store_file(file_name, mime_type, content)
        message = self._user_message(chat, user, document=stored.document())
        if caption is not None:
            message["caption"] = caption
        return self._push_update({"message": message})

    def push_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        own: bool = True,
        contact_user_id: int | None = None,
        first_name: str = "用户",
    ) -> int:
        """A contact the user sends in their private chat: their own (what the contact request
        button sends), or (``own`` False) someone else's, ``contact_user_id`` (None: a number
        not on Telegram)."""
        user = self._known_user(user_id, first_name)
        chat = self._chat(user_id, user["first_name"])
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name}
        if own or contact_user_id is not None:
            contact["user_id"] = user_id if own else contact_user_id
        return self._push_update({"message": self._user_message(chat, user, contact=contact)})

    async def share_contact(
        self, user_id: int, phone_number: str, *, own: bool = True,
        contact_user_id: int | None = None, timeout: float = 5.0, settle: float = 0.05,
    ) -> list[Call]:
        """Send a contact as the user and return the bot's calls to the chat once it is quiet
        (none, when the bot does not take it: then after ``timeout``)."""
        since = len(self.calls)
        self.push_contact(user_id, phone_number, own=own, contact_user_id=contact_user_id)
        first = await self._find_call(
            lambda c: c.chat_id == user_id and c.method in OUTPUT_METHODS, timeout, since
        )
        if first is None:
            return []
        last = await self._settle(user_id, first, settle)
        return [c for c in self.calls[since : last + 1] if c.chat_id == user_id]

    async def press(
        self,
        user_id: int,
        label: str,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        settle: float = 0.0,
    ) -> list[Call]:
        """Press the button ``label`` on the newest bot message in the chat that has it.

        Returns the calls to that chat from the press up to the answerCallbackQuery. A handler
        that answers first and edits afterwards needs ``settle`` > 0 to have the edit included:
        then the calls keep being collected until the chat is quiet for ``settle`` seconds.
        """
        chat_id = user_id if chat_id is None else chat_id
        for message in reversed(self.messages_in(chat_id)):
            button = next(
                (
                    b
                    for row in message.buttons()
                    for b in row
                    if b.get("text") == label and "callback_data" in b
                ),
                None,
            )
            if button is not None:
                break
        else:
            available = {
                m.message_id: m.button_labels() for m in self.messages_in(chat_id) if m.buttons()
            }
            raise AssertionError(
                f"no button {label!r} in chat {chat_id}; "
                f"buttons by message_id: {available or 'none'}"
            )

        since = len(self.calls)
        _, query_id = self._push_callback(
            user_id,
            button["callback_data"],
            message_id=message.message_id,
            chat_id=chat_id,
            first_name="用户",
        )
        answered = await self._find_call(
            lambda c: c.method == "answerCallbackQuery"
            and c.params.get("callback_query_id") == query_id,
            timeout,
            since,
        )
        if answered is None:
            raise TimeoutError(
                f"button {label!r} (query {query_id}) in chat {chat_id} "
                f"was not answered within {timeout}s; "
                f"calls to that chat since the press: {self._describe(since, chat_id)}"
            )
        if settle > 0:
            answered = await self._settle(chat_id, answered, settle)
        return [c for c in self.calls[since : answered + 1] if c.chat_id == chat_id]

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        settle: float = 0.05,
        **push_kwargs: Any,
    ) -> list[Call]:
        """Send ``text`` as the user and return the bot's calls to that chat once it is quiet."""
        target = user_id if chat_id is None else chat_id
        since = len(self.calls)
        self.push_message(user_id, text, chat_id=chat_id, **push_kwargs)
        first = await self._find_call(
            lambda c: c.chat_id == target and c.method in OUTPUT_METHODS, timeout, since
        )
        if first is None:
            raise TimeoutError(
                f"no reply in chat {target} to {text!r} within {timeout}s; calls since: "
                f"{self._describe(since)}; queued updates: {len(self._updates)}, "
                f"webhook: {self.webhook_url or 'none'}, long polls waiting: {self._waiting_polls}"
            )
        last = await self._settle(target, first, settle)
        return [c for c in self.calls[since : last + 1] if c.chat_id == target]

    def retry_failed_webhooks(self, delay: float = 0.5, attempts: int = 20) -> None:
        """POST an update the webhook did not take (no answer, or not 2xx) again after ``delay``
        seconds, up to ``attempts`` times in all, before the updates after it, as Telegram retries
        an unacknowledged update. Each try is recorded in ``webhook_deliveries``."""
        self._webhook_retry = (delay, attempts)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error (before any effect),
        after ``delay`` seconds (longer than the client waits: a timeout)."""
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend((delay, ApiError(error_code, description, retry_after)) for _ in range(times))

    # ----------------------------------------------------------------- observing

    def messages_in(self, chat_id: int) -> list[Message]:
        chat = self._chats.get(chat_id)
        return [] if chat is None else sorted(chat.messages.values(), key=lambda m: m.message_id)

    def last_message(self, chat_id: int) -> Message:
        messages = self.messages_in(chat_id)
        if not messages:
            raise AssertionError(f"the bot has sent nothing to chat {chat_id}")
        return messages[-1]

    async def wait_for(
        self, predicate: Callable[[Call], bool], timeout: float = 5.0, *, since: int = 0
    ) -> Call:
        """The first call at index >= ``since`` matching ``predicate``, waiting for it if needed."""
        index = await self._find_call(predicate, timeout, since)
        if index is None:
            raise TimeoutError(
                f"no matching call within {timeout}s; calls since {since}: {self._describe(since)}"
            )
        return self.calls[index]

    async def _find_call(
        self, predicate: Callable[[Call], bool], timeout: float, since: int
    ) -> int | None:
        deadline = time.monotonic() + timeout
        index = since
        while True:
            while index < len(self.calls):
                if predicate(self.calls[index]):
                    return index
                index += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await self._calls_signal.wait(remaining)

    async def _settle(self, chat_id: int, last: int, settle: float) -> int:
        """Index of the last call to the chat once none has followed for ``settle`` seconds."""
        while (
            following := await self._find_call(lambda c: c.chat_id == chat_id, settle, last + 1)
        ) is not None:
            last = following
        return last

    def _describe(self, since: int, chat_id: int | None = None) -> str:
        calls = [c for c in self.calls[since:] if chat_id is None or c.chat_id == chat_id]
        return (
            ", ".join(
                f"{c.method}(chat={c.chat_id}{', error=' + c.error if c.error else ''})"
                for c in calls
            )
            or "none"
        )

    # ----------------------------------------------------------------- HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        params = await self._read_params(request)
        name, impl = self._methods.get(
            request.match_info["method"].lower(), (request.match_info["method"], None)
        )
        result: Any = None
        error: ApiError | None = None
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if impl is None:
                raise ApiError(404, "Not Found")
            failures = self._failures.get(name.lower())
            if failures:
                delay, failure = failures.popleft()
                await asyncio.sleep(delay)
                raise failure
            if name in _SEND_METHODS:
                self._check_recipient(params)
            result = await impl(params)
        except ApiError as exc:
            error = exc
        self._record(name, params, result, error)
        if error is not None:
            return web.json_response(error.payload(), status=error.error_code)
        return web.json_response({"ok": True, "result": result})

    def enforce_limits(self, per_second: int = 30, per_chat_second: int = 1,
                       per_group_minute: int = 20, group_window: float = 60.0) -> None:
        """Answer sends beyond Telegram's limits with 429 and ``retry_after``, as Telegram does
        (``group_window`` shortens the group's minute for fast tests)."""
        self._limits = (per_second, per_chat_second, per_group_minute)
        self._group_window = group_window

    def _check_recipient(self, params: JSONDict) -> None:
        chat_id = int(params.get("chat_id") or 0)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.gone_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if self._limits is None:
            return
        per_second, per_chat_second, per_group_minute = self._limits
        now = time.monotonic()
        chat_times = self._sent_chat.setdefault(chat_id, deque())
        window, limit = (self._group_window, per_group_minute) if chat_id < 0 else (1.0, per_chat_second)
        for times, span in ((self._sent_all, 1.0), (chat_times, window)):
            while times and times[0] <= now - span:
                times.popleft()
        if len(self._sent_all) >= per_second or len(chat_times) >= limit:
            self.limit_violations += 1
            busiest = chat_times if len(chat_times) >= limit else self._sent_all
            span = window if busiest is chat_times else 1.0
            retry = max(1, int(busiest[0] + span - now + 0.999))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        self._sent_all.append(now)
        chat_times.append(now)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type)

    @staticmethod
    async def _read_params(request: web.Request) -> JSONDict:
        """Query string plus body: JSON, or a form (urlencoded or multipart) of JSON values."""
        params: JSONDict = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        if request.content_type == "application/json" and request.body_exists:
            params.update(await request.json())
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = _decode_form_value(key, value)
        return params

    def _record(self, method: str, params: JSONDict, result: Any, error: ApiError | None) -> None:
        chat_id = params.get("chat_id")
        if method == "answerCallbackQuery":
            chat_id = self._query_chats.get(str(params.get("callback_query_id")))
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if message_id is None and isinstance(params.get("message_id"), int):
            message_id = params["message_id"]
        text = params.get("text")
        markup = params.get("reply_markup")
        self.calls.append(
            Call(
                method=method,
                chat_id=chat_id if isinstance(chat_id, int) else None,
                text=text if isinstance(text, str) else None,
                reply_markup=markup if isinstance(markup, dict) else None,
                message_id=message_id,
                params=params,
                at=time.monotonic(),
                error=None if error is None else error.description,
            )
        )
        self._calls_signal.notify()

    # ----------------------------------------------------------------- Bot API methods
    # Each takes the decoded params and returns the result, or raises ApiError.

    async def _api_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long polling; a newer getUpdates ends an older pending one with 409, as Telegram does."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()
        offset = int(params.get("offset") or 0)
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        self._waiting_polls += 1
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                remaining = deadline - time.monotonic()
                if self._updates or self._closing or remaining <= 0:
                    return list(itertools.islice(self._updates, limit))
                await self._updates_signal.wait(remaining)
        finally:
            self._waiting_polls -= 1

    async def _api_send_message(self, params: JSONDict) -> JSONDict:
        chat = self._bot_chat(params)
        message = Message(
            message_id=next(chat.message_ids),
            chat_id=chat.info["id"],
            date=int(time.time()),
            text=_checked_text(params.get("text")),
            reply_markup=_inline_markup(params.get("reply_markup")),
        )
        chat.messages[message.message_id] = message
        return self._message_json(message)

    async def _api_edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        text = _checked_text(params.get("text"))
        markup = _inline_markup(params.get("reply_markup"))  # absent: the keyboard is removed
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        message.text, message.reply_markup, message.edit_date = text, markup, int(time.time())
        return self._message_json(message)

    async def _api_edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        markup = _inline_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        message.reply_markup, message.edit_date = markup, int(time.time())
        return self._message_json(message)

    async def _api_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._unanswered_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._unanswered_queries.discard(query_id)
        return True

    async def _api_send_document(self, params: JSONDict) -> JSONDict:
        chat = self._bot_chat(params)
        document = params.get("document")
        if isinstance(document, Upload):
            if not document.content:
                raise _bad_request("file must be non-empty")
            stored = self._store_file(document.file_name, document.mime_type, document.content)
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif document is None:
            raise _bad_request("there is no document in the request")
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None and len(caption) > 1024:
            raise _bad_request("message caption is too long")
        message = Message(
            message_id=next(chat.message_ids),
            chat_id=chat.info["id"],
            date=int(time.time()),
            reply_markup=_inline_markup(params.get("reply_markup")),
            caption=caption,
            document=stored.document(),
        )
        chat.messages[message.message_id] = message
        self.documents.append(
            SentDocument(
                stored.file_name,
                stored.content,
                message.chat_id,
                caption,
                stored.mime_type,
                message.message_id,
            )
        )
        return self._message_json(message)

    async def _api_get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _api_set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or None
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = url
        self.webhook_secret = (params.get("secret_token") or None) if url else None
        if url:
            # Updates waiting for getUpdates go out through the new webhook.
            while self._updates:
                self._deliveries.put_nowait(self._updates.popleft())
        return True

    async def _api_delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = None
        self.webhook_secret = None
        return True

    async def _api_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates) + self._deliveries.qsize(),
        }
        if self._last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    async def _api_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _api_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _api_delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_close(self, params: JSONDict) -> bool:
        return True

    async def _api_log_out(self, params: JSONDict) -> bool:
        return True

    # ----------------------------------------------------------------- internals

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Branchbot Test",
            "username": self.bot_username,
        }

    def _known_user(self, user_id: int, first_name: str) -> JSONDict:
        return self._users.setdefault(
            user_id,
            {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"},
        )

    def _chat(self, chat_id: int, private_name: str | None) -> _Chat:
        """The chat as last seen, else a new one: private (named) or a group."""
        if chat_id not in self._chats:
            if private_name is not None:
                info = {"type": "private", "first_name": private_name}
            else:
                info = {"type": "group", "title": "测试群"}
            self._chats[chat_id] = _Chat({"id": chat_id, **info})
        return self._chats[chat_id]

    def _bot_chat(self, params: JSONDict) -> _Chat:
        """The chat the bot writes to; an unseen positive id is that user's private chat."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        name = self._users.get(chat_id, {}).get("first_name", "用户") if chat_id > 0 else None
        return self._chat(chat_id, name)

    def _user_message(self, chat: _Chat, user: JSONDict, **content: Any) -> JSONDict:
        return {
            "message_id": next(chat.message_ids),
            "date": int(time.time()),
            "chat": dict(chat.info),
            "from": dict(user),
            **content,
        }

    def _message_json(self, message: Message) -> JSONDict:
        out: JSONDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": dict(self._chats[message.chat_id].info),
            "from": self._bot_user(),
        }
        optional = {
            "text": message.text,
            "caption": message.caption,
            "document": message.document,
            "reply_markup": message.reply_markup,
            "edit_date": message.edit_date,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    def _message_to_edit(self, params: JSONDict) -> Message:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        message = (
            chat.messages.get(message_id)
            if chat is not None and isinstance(message_id, int)
            else None
        )
        if message is None:
            raise _bad_request("message to edit not found")
        return message

    def _push_update(self, payload: JSONDict) -> int:
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook_url:
            self._deliveries.put_nowait(update)
        else:
            self._updates.append(update)
            self._updates_signal.notify()
        return update["update_id"]

    def _push_callback(
        self, user_id: int, data: str, *, message_id: int, chat_id: int | None, first_name: str
    ) -> tuple[int, str]:
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chats.get(chat_id)
        message = None if chat is None else chat.messages.get(message_id)
        if message is None:
            raise AssertionError(
                f"no bot message {message_id} in chat {chat_id} to press a button on"
            )
        query_id = str(next(self._query_ids))
        self._query_chats[query_id] = chat_id
        self._unanswered_queries.add(query_id)
        query = {
            "id": query_id,
            "from": dict(self._known_user(user_id, first_name)),
            "message": self._message_json(message),
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self._push_update({"callback_query": query}), query_id

    def _store_file(self, file_name: str, mime_type: str, content: bytes) -> _StoredFile:
        number = next(self._file_numbers)
        stored = _StoredFile(
            file_id=f"BQACAgUAAxkBAAI{number:08d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}{PurePosixPath(file_name).suffix}",
            file_name=file_name,
            mime_type=mime_type,
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    def _drop_pending(self) -> None:
        self._updates.clear()
        while not self._deliveries.empty():
            self._deliveries.get_nowait()

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _deliver_webhooks(self) -> None:
        """POST queued updates to the webhook one at a time, so they arrive in order."""
        while True:
            update = await self._deliveries.get()
            delay, attempts = self._webhook_retry or (0.0, 1)
            for attempt in range(attempts):
                if attempt:
                    await asyncio.sleep(delay)
                if not self.webhook_url:  # the webhook was deleted meanwhile: back to getUpdates
                    self._updates.append(update)
                    self._updates_signal.notify()
                    break
                if await self._post_webhook(update):
                    break

    async def _post_webhook(self, update: JSONDict) -> bool:
        """One POST of ``update`` to the webhook, recorded; True if the webhook took it."""
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        assert self._client is not None
        status: int | None = None
        try:
            async with self._client.post(
                self.webhook_url, data=json.dumps(update), headers=headers
            ) as response:
                status = response.status
                error = (
                    None
                    if status < 300
                    else f"Wrong response from the webhook: {status} {response.reason}"
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc!r}"
        self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, error))
        if error is not None:
            self._last_webhook_error = (int(time.time()), error)
        return error is None


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _checked_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _bad_request("message text is empty")
    if len(text) > 4096:
        raise _bad_request("message is too long")
    return text


def _inline_markup(markup: Any) -> JSONDict | None:
    """The markup a message keeps: an inline keyboard with rows, else nothing (as Telegram)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if not markup.get("inline_keyboard"):
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _bad_request("BUTTON_DATA_INVALID")
    return markup
