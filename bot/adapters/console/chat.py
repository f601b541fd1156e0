"""The console adapter: chat with the bot in a terminal, or through a pipe.

Buttons are shown with the selectors the core gave them (``[1] 自学``, ``[A] 今天``, ``[#1]`` for a
push); every line typed goes to the core as it is, and the core decides what it presses.
``/file PATH`` sends a file of this computer (a roster, the calendar …) as a phone sends one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.adapters.console import PLATFORM
from handlers.core import selectors
from handlers.core.events import FileRef, Incoming, Reply
from handlers.core.file_source import FileGone
from handlers.core.router import Core

QUIT = {"/quit", "/exit", "退出"}
FILE_COMMAND = "/file "


class LocalFiles:
    """The console's ``FileSource``: the file at the path typed after ``/file``."""

    platform = PLATFORM

    async def fetch(self, file_id: str) -> bytes:
        try:
            return await asyncio.to_thread(Path(file_id).expanduser().read_bytes)
        except OSError as error:
            raise FileGone(str(error)) from error


class ConsoleChat:
    def __init__(self, core: Core, *, user_id: str, user_name: str, out: TextIO = sys.stdout,
                 files_dir: str = ".") -> None:
        self.core = core
        self.t = core.config.texts  # what the console writes itself (the core's language)
        self.user_id = user_id
        self.user_name = user_name
        self.out = out
        self.files_dir = files_dir
        if core.files is not None and PLATFORM not in core.files.sources:
            core.files.register(LocalFiles())

    def _print(self, text: str) -> None:  # used by ConsoleSender too
        self.out.write(text + "\n")
        self.out.flush()

    def _render(self, reply: Reply) -> None:  # used by ConsoleSender too
        if reply.answered is not None:  # the press answered, then (as a new message) what follows
            self._print("  ✓ " + reply.answered.answer)
            if not reply.text and reply.document is None:
                return
        if reply.text:
            self._print("🤖 " + reply.text.replace("\n", "\n   "))
        if reply.document is not None:  # its name is sanitized (OutDocument): no folder in it
            path = Path(self.files_dir) / reply.document.file_name
            path.write_bytes(reply.document.content)
            self._print(f"{'   ' if reply.text else '🤖 '}📎 {path}")
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self._print("   " + "  ".join(selectors.line(b) for b in flat))
            self._print("   " + self.t(selectors.hint(reply.buttons)))

    def _event(self, line: str) -> Incoming:
        """A typed line; ``/file PATH`` sends that file of this computer, as a phone sends one."""
        base = dict(platform=PLATFORM, user_id=self.user_id, user_name=self.user_name,
                    chat_id=self.user_id, is_private=True)
        if line.startswith(FILE_COMMAND):
            path = line[len(FILE_COMMAND):].strip()
            return Incoming(**base, file=FileRef(path, Path(path).name))  # type: ignore[arg-type]
        return Incoming(**base, text=line)  # type: ignore[arg-type]

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


