"""Feishu / Lark transport: the long connection (``ws``), the HTTP callback (``http_callback``),
the OpenAPI client (``api``), typed events and outgoing messages. The wire format and its sources
are in ``PROTOCOL.md`` beside this file."""
PLATFORM = "feishu"
