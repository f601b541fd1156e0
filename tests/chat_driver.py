"""Talk to the core in-process, as one user would: type text, press buttons by their label."""

from __future__ import annotations

from itertools import count

from handlers.core.events import Button, FileRef, Incoming, Outcome, Reply
from handlers.core.router import Core

_message_ids = count(1)


class CoreChat:
    def __init__(self, core: Core, user_id: str, name: str = "李娜", *, platform: str = "test",
                 chat_id: str | None = None, private: bool = True) -> None:
        self.core, self.user_id, self.name, self.platform = core, user_id, name, platform
        self.chat_id = chat_id or user_id
        self.private = private
        self.replies: list[Reply] = []
        self.notice: str | None = None
        self._buttons: list[tuple[Button, str]] = []  # (button, id of its message)

    def _base(self) -> dict[str, object]:
        return dict(platform=self.platform, user_id=self.user_id, user_name=self.name,
                    chat_id=self.chat_id, is_private=self.private)

    async def _send(self, event: Incoming) -> Outcome:
        outcome = await self.core.handle(event)
        if outcome.followup is not None:  # a long job (a report): its replies follow
            outcome.replies = outcome.replies + [reply async for reply in outcome.followup]
            outcome.followup = None
        self.replies, self.notice = outcome.replies, outcome.notice
        for reply in outcome.replies:
            if reply.buttons:
                message_id = str(next(_message_ids))
                self._buttons = [(b, message_id) for row in reply.buttons for b in row]
        return outcome

    async def say(self, text: str) -> Outcome:
        return await self._send(Incoming(**self._base(), text=text))  # type: ignore[arg-type]

    async def send_file(self, file_id: str, name: str | None) -> Outcome:
        """A file sent in this chat (the core fetches it through the ``FileSource`` registered for
        the chat's platform)."""
        return await self._send(Incoming(**self._base(), file=FileRef(file_id, name)))  # type: ignore[arg-type]

    async def press(self, label: str) -> Outcome:
        for button, message_id in self._buttons:
            if button.label == label and button.data is not None:
                return await self.press_data(button.data, message_id)
        raise AssertionError(f"no button {label!r}; have {self.labels}")

    async def press_data(self, data: str, message_id: str = "1") -> Outcome:
        event = Incoming(**self._base(), callback_data=data, message_id=message_id)  # type: ignore[arg-type]
        return await self._send(event)

    @property
    def labels(self) -> list[str]:
        return [button.label for button, _ in self._buttons]

    def data_of(self, label: str) -> str:
        return next(b.data for b, _ in self._buttons if b.label == label and b.data)

    @property
    def text(self) -> str:
        """Everything the last event made the bot say, joined."""
        return "\n".join(reply.text for reply in self.replies)
