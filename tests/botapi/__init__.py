"""A fake Telegram Bot API server for tests: see :mod:`tests.botapi.server`."""

from tests.botapi.server import (
    Call,
    FakeBotApi,
    Message,
    SentDocument,
    Upload,
    WebhookDelivery,
)

__all__ = ["Call", "FakeBotApi", "Message", "SentDocument", "Upload", "WebhookDelivery"]
