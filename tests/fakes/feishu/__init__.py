"""A fake Feishu open platform on loopback: see ``server.py``."""

from tests.fakes.feishu.server import (
    APP_ID,
    APP_SECRET,
    ENCRYPT_KEY,
    VERIFICATION_TOKEN,
    Call,
    FakeFeishu,
    Posted,
    Sent,
    WsAnswer,
)

__all__ = ["APP_ID", "APP_SECRET", "ENCRYPT_KEY", "VERIFICATION_TOKEN", "Call", "FakeFeishu",
           "Posted", "Sent", "WsAnswer"]
