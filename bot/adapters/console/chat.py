"""The console adapter: chat with the bot in a terminal, or through a pipe.

Buttons are shown as a numbered list; typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.adapters.console import PLATFORM
from handlers.core.events import Button, Incoming, Reply
from handlers.core.router import Core

QUIT = {"/quit", "/exit", "退出"}


class ConsoleChat:
    def __init__(self, core: Core, *, user_id: str, user_name: str, out: TextIO = sys.stdout,
                 files_dir: str = ".") -> None:
        self.core = core
        self.t = core.config.texts  # what the console writes itself (the core's language)
        self.user_id = user_id
        self.user_name = user_name
        self.out = out
        self.files_dir = files_dir
        self._message_id = 0
        self._buttons: list[Button] = []  # the newest message's buttons, numbered from 1
        self._buttons_message = ""

    def _print(self, text: str) -> None:  # used by ConsoleSender too
        self.out.write(text + "\n")
        self.out.flush()

    def _render(self, reply: Reply) -> None:  # used by ConsoleSender too
        if reply.answered is not None:  # the press answered, then (as a new message) what follows
            self._print("  ✓ " + reply.answered.answer)
            if not reply.text and reply.document is None:
                return
        self._message_id += 1
        self._print("🤖 " + reply.text.replace("\n", "\n   "))
        if reply.document is not None:
            path = f"{self.files_dir}/{reply.document.file_name}"
            with open(path, "wb") as handle:
                handle.write(reply.document.content)
            self._print(f"   📎 {path}")
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self._buttons, self._buttons_message = flat, str(self._message_id)
            self._print("   " + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(flat, start=1)))
            self._print("   " + self.t("console.type_number"))

    def _event(self, line: str) -> Incoming:
        base = dict(platform=PLATFORM, user_id=self.user_id, user_name=self.user_name,
                    chat_id=self.user_id, is_private=True)
        if line.isdigit() and 1 <= int(line) <= len(self._buttons):
            button = self._buttons[int(line) - 1]
            if button.start is not None:
                return Incoming(**base, text=f"/start {button.start}")
            return Incoming(**base, callback_data=button.data, message_id=self._buttons_message)
        return Incoming(**base, text=line)

    async def send(self, line: str) -> None:
        """Handle one typed line as the user's message or button press."""
        outcome = await self.core.handle(self._event(line))
        if outcome.notice:
            self._print("   ⚠ " + outcome.notice)
        for reply in outcome.replies:
            self._render(reply)
        if outcome.followup is not None:  # a report: progress lines, then its files
            async for reply in outcome.followup:
                if reply.progress is not None:  # a terminal shows each step instead of editing
                    self._print("   " + reply.progress)
                else:
                    self._render(reply)

    async def run(self, read_line: Callable[[], str] = sys.stdin.readline, echo: bool = False) -> None:
        self._print(self.t("console.welcome", name=self.user_name))
        while True:
            line = await asyncio.to_thread(read_line)
            if not line:
                break
            line = line.strip()
            if echo:
                self._print(f"👤 {line}")
            if line in QUIT:
                break
            if line:
                await self.send(line)


