"""Telegram updates in as neutral events; replies rendered as messages, edits and keyboards."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import Application

from bot.adapters import split
from bot.adapters.telegram import PLATFORM
from bot.adapters.telegram.markup import ButtonJson, InlineKeyboardJson
from handlers.core.events import Account, Button, FileRef, Incoming, Reply

log = logging.getLogger(__name__)
TEXT_LIMIT = 4096  # a message's text, in UTF-16 units
CAPTION_LIMIT = 1024  # a document's caption


def accounts(user: User, phone: str | None = None) -> tuple[Account, ...]:
    """What Telegram vouches for of the sender: their id, the username they have now, and a phone
    number only from a contact they shared of themselves."""
    found = [Account("telegram", str(user.id))]
    if user.username:
        found.append(Account("telegram_username", user.username))
    if phone:
        found.append(Account("phone", phone))
    return tuple(found)


def to_incoming(update: Update) -> Incoming | None:
    """The neutral event for an update, or None for updates the core does not take."""
    event_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        message = query.message
        if message is None or query.data is None:
            return None
        chat = message.chat
        return Incoming(
            platform=PLATFORM, user_id=str(query.from_user.id), user_name=query.from_user.full_name,
            chat_id=str(chat.id), is_private=chat.type == ChatType.PRIVATE, callback_data=query.data,
            message_id=str(message.message_id), chat_title=chat.title, event_id=event_id,
            accounts=accounts(query.from_user),
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    document = message.document
    file = None
    if document is not None:
        file = FileRef(document.file_id, document.file_name, document.mime_type)
    elif message.photo:
        file = FileRef(message.photo[-1].file_id, None, "image/jpeg")
    text = message.text or message.caption
    contact = message.contact
    own = contact is not None and contact.user_id == message.from_user.id  # not someone else's
    if text is None and file is None and not own:
        return None
    chat = message.chat
    return Incoming(
        platform=PLATFORM, user_id=str(message.from_user.id), user_name=message.from_user.full_name,
        chat_id=str(chat.id), is_private=chat.type == ChatType.PRIVATE, text=text,
        file=file, chat_title=chat.title, event_id=event_id,
        accounts=accounts(message.from_user, contact.phone_number if own and contact else None),
    )


def keyboard(buttons: tuple[tuple[Button, ...], ...], bot_username: str,
             share_contact: str | None = None) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if not buttons:  # a message has one keyboard: the contact request only where no choices are
        return None if share_contact is None else ReplyKeyboardMarkup(
            [[KeyboardButton(share_contact, request_contact=True)]], resize_keyboard=True,
            one_time_keyboard=True)
    return InlineKeyboardJson([[_button(b, bot_username) for b in row] for row in buttons])


def _button(button: Button, bot_username: str) -> ButtonJson:
    if button.start is not None:
        return {"text": button.label, "url": f"https://t.me/{bot_username}?start={button.start}"}
    if button.data is None:
        return {"text": button.label}
    return {"text": button.label, "callback_data": button.data}


def shown(reply: Reply) -> str:
    """The message's text: an answered press as "question\n→ answer", then the reply's own text."""
    if reply.answered is None:
        return reply.text
    echo = f"{reply.answered.question}\n→ {reply.answered.answer}"
    return f"{echo}\n\n{reply.text}" if reply.text else echo


async def send_text(bot: Bot, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None) -> Message:
    """``text`` as one message, or, longer than Telegram takes, as several (the buttons under
    the last); the last message sent."""
    *first, last = split.pieces(text, TEXT_LIMIT, split.utf16_units)
    for piece in first:
        await bot.send_message(chat_id, piece)
    return await bot.send_message(chat_id, last, reply_markup=markup)


async def render(app: Application, event: Incoming, reply: Reply) -> str | None:
    """Send or edit one reply; the id of the text message now showing it (None for a file)."""
    bot = app.bot
    chat_id = int(reply.chat_id or event.chat_id)
    markup = keyboard(reply.buttons, bot.username, reply.share_contact)
    text = shown(reply)
    if reply.document is not None:
        caption = text if split.utf16_units(text) <= CAPTION_LIMIT else None
        if text and caption is None:  # too long to be a caption: it goes first, on its own
            await send_text(bot, chat_id, text, None)
        await bot.send_document(chat_id, InputFile(reply.document.content,
                                                   filename=reply.document.file_name),
                                caption=caption or None, reply_markup=markup)
        return None  # the text went as the caption
    if isinstance(markup, ReplyKeyboardMarkup) and reply.edit and event.message_id is not None:
        # A message keeps an inline keyboard only: the pressed one shows the answer, then the
        # text comes anew with the contact request under it.
        if reply.answered is not None:
            await render(app, event, Reply(answered=reply.answered, edit=True))
        return str((await send_text(bot, chat_id, reply.text, markup)).message_id)
    if split.utf16_units(text) > TEXT_LIMIT:  # an edit cannot hold it: new messages instead
        return str((await send_text(bot, chat_id, text, markup)).message_id)
    if reply.edit and event.message_id is not None:
        try:
            await bot.edit_message_text(text, chat_id=chat_id,
                                        message_id=int(event.message_id), reply_markup=markup)
            return event.message_id
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return event.message_id
            log.info("could not edit message %s (%s); sending anew", event.message_id, error.message)
    return str((await send_text(bot, chat_id, text, markup)).message_id)


async def follow(app: Application, event: Incoming, followup: AsyncIterator[Reply],
                 last: str | None) -> None:
    """A long job's replies (a report): each ``edit`` edits the text message put up last."""
    async for reply in followup:
        sent = await render(app, dataclasses.replace(event, message_id=last), reply)
        last = sent or last


