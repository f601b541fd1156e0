"""The console adapter: chat with the bot in a terminal (``chat``), pushes shown there (``sender``)."""

PLATFORM = "console"
