"""Pushes from the outbox, shown in the console."""

from __future__ import annotations

from bot.adapters.console import PLATFORM
from bot.adapters.console.chat import ConsoleChat
from handlers.core.events import Reply


class ConsoleSender:
    """Pushes from the outbox, shown in the console: the user's own like any bot message,
    other chats' (groups, other members) with their recipient."""

    platform = PLATFORM

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id == self.chat.user_id:
            self.chat._print("📣")
            self.chat._render(reply)
        else:
            self.chat._print(f"📣 → {chat_id}：" + reply.text.replace("\n", "\n   "))
