"""The Telegram adapter (python-telegram-bot): ``adapter`` turns updates into events and renders
replies, ``sender`` sends the outbox, ``ordering`` keeps each user's updates in order, ``run``
serves (long polling or webhook)."""

PLATFORM = "telegram"
