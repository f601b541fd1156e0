"""A fake WeCom AI bot long-connection server on loopback: see ``server`` here."""

from tests.fakes.wecom_aibot.server import BOT_ID, BOT_NAME, SECRET, FakeAiBot, Pushed, Received

__all__ = ["BOT_ID", "BOT_NAME", "SECRET", "FakeAiBot", "Pushed", "Received"]
