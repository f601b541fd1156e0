"""A fake WeCom on loopback for tests: see :mod:`tests.wecomapi.server`."""

from tests.wecomapi.server import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    Call,
    FakeWeCom,
)

__all__ = ["AES_KEY", "AGENT_ID", "CORP_ID", "SECRET", "TOKEN", "Call", "FakeWeCom"]
